"""`casehall backup` of a running embedded stack, then `casehall restore` into a fresh data directory: the restored
stack brings back the cases, and they still accept actions (their workflows, timers and encrypted payloads came
back with the Temporal file and the key)."""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from casehall.stack.embedded import free_port
from tests.test_up import start, stop, wait_healthy

APPLICANT = {"name": "李备份", "phone": "13700001111", "id_number": "110101199202023453"}
MATERIALS = ["经营者身份证明", "经营场所使用证明", "从业人员情况说明"]


def ports() -> dict[str, int]:
    return {"CASEHALL_API_PORT": free_port(), "CASEHALL_POSTGRES_PORT": free_port(),
            "CASEHALL_TEMPORAL_PORT": free_port(), "CASEHALL_TEMPORAL_UI_PORT": free_port()}


def cli(data_dir: Path, the_ports: dict[str, int], *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"CASEHALL_DATA_DIR": str(data_dir), **{k: str(v) for k, v in the_ports.items()}}
    for name in ("CASEHALL_DATABASE_URL", "CASEHALL_TEMPORAL_ADDRESS", "CASEHALL_CODEC_KEYS"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "casehall.cli.main", *args], env=env, capture_output=True,
                          text=True, timeout=300)


@contextmanager
def session(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=60) as http:
        r = http.post("/auth/login", json={"username": "clerk", "password": "casehall"})
        assert r.status_code == 200, r.text
        http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        yield http


def up(data_dir: Path, the_ports: dict[str, int]) -> subprocess.Popen[str]:
    proc = start(data_dir, dict(the_ports))
    wait_healthy(f"http://127.0.0.1:{the_ports['CASEHALL_API_PORT']}", proc)
    return proc


def test_backup_then_restore_into_a_fresh_data_directory(tmp_path: Path) -> None:
    old_dir, new_dir, backup_dir = tmp_path / "old", tmp_path / "new", tmp_path / "backup"
    old_ports, new_ports = ports(), ports()
    first = up(old_dir, old_ports)
    try:
        assert (old_dir / "codec.keys").exists()  # created on the first start
        with session(f"http://127.0.0.1:{old_ports['CASEHALL_API_PORT']}") as http:
            cases = []
            for _ in range(2):
                r = http.post("/cases", json={"item_code": "MKT-001", "applicant": APPLICANT,
                                              "submitted_materials": MATERIALS})
                assert r.status_code == 201, r.text
                cases.append(r.json()["case_no"])
            assert http.post(f"/cases/{cases[1]}/accept").status_code == 200
        done = cli(old_dir, old_ports, "backup", str(backup_dir))  # while the stack runs
        assert done.returncode == 0, done.stderr
        assert "keep codec.keys" in done.stdout
    finally:
        stop(first)
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert manifest["online"] and manifest["cases"] == 2 and manifest["open_cases"] == 2
    assert set(manifest["files"]) == {"casehall.dump", "temporal.db"} and manifest["codec_key_ids"] == ["k1"]
    assert not manifest["keys_included"]
    assert (cli(old_dir, old_ports, "backup", str(backup_dir)).returncode == 1)  # not into a non-empty directory

    # without the key the restore refuses (the engine's data could not be read), naming the key
    refused = cli(new_dir, new_ports, "restore", str(backup_dir))
    assert refused.returncode == 1 and "k1" in refused.stderr and "Traceback" not in refused.stderr
    new_dir.mkdir(exist_ok=True)
    shutil.copy(old_dir / "codec.keys", new_dir / "codec.keys")
    restored = cli(new_dir, new_ports, "restore", str(backup_dir))
    assert restored.returncode == 0, restored.stderr
    again = cli(new_dir, new_ports, "restore", str(backup_dir))
    assert again.returncode == 1 and "--replace" in again.stderr

    second = up(new_dir, new_ports)
    try:
        with session(f"http://127.0.0.1:{new_ports['CASEHALL_API_PORT']}") as http:
            listed = http.get("/cases").json()
            items = listed["items"] if isinstance(listed, dict) else listed
            assert {c["case_no"] for c in items} >= set(cases)
            accepted = http.post(f"/cases/{cases[0]}/accept")
            assert accepted.status_code == 200, accepted.text
            assert accepted.json()["status"] != "registered"
            completed = http.post(f"/cases/{cases[1]}/complete", json={"result": "办结"})
            assert completed.status_code == 200, completed.text
            registered = http.post("/cases", json={"item_code": "MKT-001", "applicant": APPLICANT,
                                                   "submitted_materials": MATERIALS})
            assert registered.status_code == 201 and registered.json()["case_no"] not in cases
    finally:
        stop(second)
    # a damaged backup is refused before anything is touched
    (backup_dir / "casehall.dump").write_bytes(b"damaged")
    damaged = cli(tmp_path / "third", ports(), "restore", str(backup_dir))
    assert damaged.returncode == 1 and "damaged" in damaged.stderr
