"""`casehall up` (what `make run` calls): the whole stack answers, the worker runs as a process of its own, SIGTERM
(a service manager's stop) leaves no process, a second start finds the data of the first, and a worker that dies
stops the stack with a clear line rather than leaving an API whose actions time out."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from casehall.stack.embedded import free_port


def start(data_dir: Path, ports: dict[str, int]) -> subprocess.Popen[str]:
    env = os.environ | {"CASEHALL_DATA_DIR": str(data_dir), **{k: str(v) for k, v in ports.items()}}
    env.pop("CASEHALL_DATABASE_URL", None)
    env.pop("CASEHALL_TEMPORAL_ADDRESS", None)
    return subprocess.Popen([sys.executable, "-m", "casehall.cli.main", "up"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def wait_healthy(base: str, proc: subprocess.Popen[str], seconds: float = 120) -> dict[str, str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            r = httpx.get(f"{base}/healthz", timeout=2)
            if r.status_code == 200:
                return dict(r.json())
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError("casehall up did not become healthy")


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGINT) -> str:
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=60)
    return out


def worker_of(proc: subprocess.Popen[str]) -> psutil.Process:
    """``casehall up``'s worker: a child process of its own (the API and the worker each get an interpreter)."""
    workers = [c for c in psutil.Process(proc.pid).children() if "worker" in " ".join(c.cmdline())]
    assert len(workers) == 1, [c.cmdline() for c in psutil.Process(proc.pid).children()]
    return workers[0]


def leftovers(data_dir: Path) -> list[str]:
    found = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if str(data_dir) in cmd:
            found.append(cmd)
    return found


def test_up_serves_stops_cleanly_and_keeps_data(tmp_path: Path) -> None:
    ports = {"CASEHALL_API_PORT": free_port(), "CASEHALL_POSTGRES_PORT": free_port(),
             "CASEHALL_TEMPORAL_PORT": free_port(), "CASEHALL_TEMPORAL_UI_PORT": free_port()}
    base = f"http://127.0.0.1:{ports['CASEHALL_API_PORT']}"
    data_dir = tmp_path / "data"

    first = start(data_dir, ports)
    try:
        assert wait_healthy(base, first) == {"status": "ok", "database": "ok", "temporal": "ok"}
        ui = httpx.get(f"http://127.0.0.1:{ports['CASEHALL_TEMPORAL_UI_PORT']}", timeout=10)
        assert ui.status_code == 200
        token = httpx.post(f"{base}/auth/login", json={"username": "clerk", "password": "casehall"}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        case = httpx.post(f"{base}/cases", headers=headers, timeout=30, json={
            "item_code": "SOCIAL-003", "submitted_materials": ["参保人身份证明"],
            "applicant": {"name": "测试", "phone": "13800000000", "id_number": "220201199001010008"}}).json()
        worker = worker_of(first)
    finally:
        output = stop(first, signal.SIGTERM)  # a service manager's stop
    assert "demo log-ins" in output and "Temporal UI" in output
    time.sleep(1)
    assert leftovers(data_dir) == [] and not worker.is_running()

    second = start(data_dir, ports)
    try:
        wait_healthy(base, second)
        token = httpx.post(f"{base}/auth/login", json={"username": "clerk", "password": "casehall"}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        again = httpx.get(f"{base}/cases/{case['case_no']}", headers=headers).json()
        assert again["status"] == "registered"
        accepted = httpx.post(f"{base}/cases/{case['case_no']}/accept", headers=headers, timeout=30)
        assert accepted.status_code == 200 and accepted.json()["status"] == "in_handling"  # the workflow lives on
        worker_of(second).kill()  # the worker dies (out of memory, a bug): the stack stops and says why
        output, _ = second.communicate(timeout=90)
        assert second.returncode == 1 and "the worker process stopped" in output, output[-2000:]
    finally:
        if second.poll() is None:
            stop(second)
    time.sleep(1)
    assert leftovers(data_dir) == []
