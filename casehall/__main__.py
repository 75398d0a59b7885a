"""``python -m casehall``: the ``casehall`` command (how ``casehall up`` starts its worker process)."""

from casehall.cli.main import app

app(prog_name="casehall")
