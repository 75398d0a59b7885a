"""``casehall keys``: the payload keys (show, add a new one) and the re-encryption of archived histories with the
current key after a rotation, so that an old key can eventually be dropped.

Rotation: ``casehall keys new`` (embedded stack: the key file gets a new first key; otherwise it prints the new
``CASEHALL_CODEC_KEYS``), restart the worker and the API, run ``casehall keys rotate-archive``. Histories still on
the Temporal server keep their old key until the server's retention removes them: drop an old key only after that."""

import asyncio
import hashlib
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import typer
from google.protobuf import json_format
from rich.console import Console
from rich.markup import escape
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from temporalio.client import WorkflowHistory

from casehall.core.codec import (
    CodecError,
    EncryptionCodec,
    Keyring,
    key_file,
    keyring_of,
    reencrypt_history,
    write_key_file,
)
from casehall.core.db import open_sessions
from casehall.core.settings import Settings
from casehall.models.tables import CaseHistory
from casehall.stack.runtime import StartupError, check_database

keys_app = typer.Typer(help="Payload encryption keys: show, add, re-encrypt archived histories.",
                       no_args_is_help=True)
console = Console()
err_console = Console(stderr=True, soft_wrap=True)
BATCH = 200


@dataclass
class RotationReport:
    key_id: str
    rewritten: list[str] = field(default_factory=list)
    payloads: int = 0
    unchanged: int = 0
    refused: dict[str, str] = field(default_factory=dict)  # case_no -> why


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def _rotate_one(session: AsyncSession, case_no: str, codec: EncryptionCodec, report: RotationReport) -> None:
    row = await session.scalar(select(CaseHistory).where(col(CaseHistory.case_no) == case_no).with_for_update())
    if row is None:
        return
    if _sha256(row.history) != row.sha256:
        report.refused[case_no] = "the archived history was altered (sha256 differs): left as it is"
        return
    try:
        history, changed = reencrypt_history(WorkflowHistory.from_json(row.workflow_id, row.history), codec)
    except (CodecError, ValueError, json_format.Error) as err:
        report.refused[case_no] = str(err)
        return
    if not changed:
        report.unchanged += 1
        return
    text = history.to_json()
    await session.execute(update(CaseHistory).where(col(CaseHistory.case_no) == case_no)
                          .values(history=text, sha256=_sha256(text)))
    report.rewritten.append(case_no)
    report.payloads += changed


async def rotate_archive(sessions: async_sessionmaker[AsyncSession], keyring: Keyring) -> RotationReport:
    """Re-encrypt the encrypted payloads of every archived history with the keyring's current key; each history
    in its own transaction, its sha256 updated."""
    codec = EncryptionCodec(keyring)
    report = RotationReport(keyring.current_id)
    after = ""
    while True:
        async with sessions() as session:
            batch = list((await session.scalars(
                select(col(CaseHistory.case_no)).where(col(CaseHistory.case_no) > after)
                .order_by(col(CaseHistory.case_no)).limit(BATCH))).all())
        if not batch:
            return report
        for case_no in batch:
            async with sessions() as session, session.begin():
                await _rotate_one(session, case_no, codec, report)
        after = batch[-1]


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    try:
        return asyncio.run(coro)
    except (StartupError, CodecError) as err:
        err_console.print(f"[red]error:[/red] {escape(str(err))}")
        raise typer.Exit(1) from None


def _keyring(settings: Settings) -> Keyring:
    try:
        keyring = keyring_of(settings)
    except CodecError as err:
        err_console.print(f"[red]error:[/red] {escape(str(err))}")
        raise typer.Exit(1) from None
    if keyring is None:
        err_console.print("[red]error:[/red] no payload keys: set CASEHALL_CODEC_KEYS (or start the embedded "
                          "stack once, which creates its key file)")
        raise typer.Exit(1)
    return keyring


@keys_app.command("show")
def show() -> None:
    """The key ids, newest (the one that encrypts) first; never the keys."""
    settings = Settings()
    keyring = _keyring(settings)
    where = "CASEHALL_CODEC_KEYS" if settings.codec_keys else str(key_file(settings.data_dir.resolve()))
    console.print(f"keys from {escape(where)}: {', '.join(keyring.ids)} (encrypting with {keyring.current_id})")


@keys_app.command("new")
def new() -> None:
    """Add a new key in front: it encrypts from the next start on, the older ones still decrypt."""
    settings = Settings()
    keyring = _keyring(settings).with_new_key()
    if settings.codec_keys:
        console.print("set this in the environment of the worker and the API, then restart them:")
        console.print(f"CASEHALL_CODEC_KEYS={','.join(keyring.dumps().split())}", soft_wrap=True)
        return
    write_key_file(key_file(settings.data_dir.resolve()), keyring)
    console.print(f"added key {keyring.current_id}; restart casehall, then run 'casehall keys rotate-archive'")


@keys_app.command("rotate-archive")
def rotate_archive_cmd() -> None:
    """Re-encrypt the archived histories of closed cases with the current key."""
    settings = Settings()
    keyring = _keyring(settings)

    async def main() -> RotationReport:
        await check_database(settings)
        async with open_sessions(settings.resolved_database_url()) as sessions:
            return await rotate_archive(sessions, keyring)

    report: RotationReport = _run(main())
    console.print(f"re-encrypted {len(report.rewritten)} archived histories ({report.payloads} payloads) with key "
                  f"{report.key_id}; {report.unchanged} already were")
    for case_no, why in report.refused.items():
        err_console.print(f"[red]{escape(case_no)}[/red]: {escape(why)}")
    if report.refused:
        raise typer.Exit(1)
