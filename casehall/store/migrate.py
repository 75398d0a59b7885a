"""Apply the Alembic migrations under ``migrations/`` to a database."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

from casehall.store import migrations

MIGRATIONS_DIR = Path(migrations.__file__).parent


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _upgrade(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


async def upgrade(url: str) -> None:
    """Bring the schema to the newest revision (env.py runs its own event loop, so use a thread)."""
    await asyncio.to_thread(_upgrade, url)
