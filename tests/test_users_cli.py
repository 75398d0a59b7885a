"""`casehall users add`: a new user can log in; bad input is one clear line."""

import os
import subprocess
import sys

import httpx

CLI = [sys.executable, "-m", "casehall.cli.main", "users", "add"]


def add(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"CASEHALL_DATABASE_URL": database_url}
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=60)


async def test_users_add_then_log_in(database_url: str, api: httpx.AsyncClient) -> None:
    ok = add(database_url, "wang.clerk", "--role", "clerk", "--department", "MKT", "--name", "王办事员",
             "--password", "s3cret-pass")
    assert ok.returncode == 0, ok.stderr
    r = await api.post("/auth/login", json={"username": "wang.clerk", "password": "s3cret-pass"})
    assert r.status_code == 200 and r.json()["role"] == "clerk" and r.json()["department_code"] == "MKT"

    again = add(database_url, "wang.clerk", "--role", "clerk", "--department", "MKT", "--password", "s3cret-pass")
    assert again.returncode == 1 and "already exists" in again.stderr
    role = add(database_url, "x", "--role", "boss", "--department", "MKT", "--password", "s3cret-pass")
    assert role.returncode == 1 and "unknown role" in role.stderr and "Traceback" not in role.stderr
    dept = add(database_url, "y", "--role", "clerk", "--department", "NOPE", "--password", "s3cret-pass")
    assert dept.returncode == 1 and "NOPE" in dept.stderr
    short = add(database_url, "z", "--role", "clerk", "--department", "MKT", "--password", "short")
    assert short.returncode == 1 and "10 characters" in short.stderr
