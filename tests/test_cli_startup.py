"""Operator mistakes end with one clear line and a non-zero exit, never a traceback."""

import os
import socket
import subprocess
import sys
from pathlib import Path

from casehall.stack.embedded import free_port

CASEHALL = [sys.executable, "-m", "casehall.cli.main"]


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CASEHALL, *args], env=os.environ | env, capture_output=True, text=True, timeout=120)


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    out = run(["worker"], CASEHALL_DATABASE_URL=f"postgresql+asyncpg://x@127.0.0.1:{free_port()}/nope")
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "CASEHALL_DATABASE_URL" in out.stderr
    assert "Traceback" not in out.stderr


def test_malformed_database_url(tmp_path: Path) -> None:
    out = run(["migrate"], CASEHALL_DATABASE_URL="not a url")
    assert out.returncode == 1 and "CASEHALL_DATABASE_URL" in out.stderr and "Traceback" not in out.stderr


def test_unreachable_temporal_is_one_line(database_url: str) -> None:
    out = run(["worker"], CASEHALL_DATABASE_URL=database_url, CASEHALL_TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}")
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "CASEHALL_TEMPORAL_ADDRESS" in out.stderr


def test_port_in_use_names_port_and_setting(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = run(["up"], CASEHALL_API_PORT=str(port), CASEHALL_DATA_DIR=str(tmp_path))
    assert out.returncode == 1
    assert str(port) in out.stderr and "CASEHALL_API_PORT" in out.stderr and out.stderr.count("\n") == 1
