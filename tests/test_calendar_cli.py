"""``casehall calendar``: seed, import and show, as an operator types them (one-line errors, exit code 1)."""

import asyncio
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner, Result

from casehall.cli.main import app

CSV_2027 = "date,kind,name\n2027-01-01,holiday,元旦\n2027-01-09,adjusted_workday,元旦\n"


@pytest.fixture(scope="module")
def env(database_url: str, time_env: WorkflowEnvironment) -> dict[str, str]:
    return {"CASEHALL_DATABASE_URL": database_url,
            "CASEHALL_TEMPORAL_ADDRESS": time_env.client.service_client.config.target_host}


async def casehall(env: dict[str, str], *args: str) -> Result:
    """Run the command in a thread: it runs its own event loop, as in a shell."""
    return await asyncio.to_thread(lambda: CliRunner().invoke(app, list(args), env=env))


async def test_seed_and_show(env: dict[str, str]) -> None:
    seeded = await casehall(env, "calendar", "seed")
    assert seeded.exit_code == 0 and "official years 2004-2026" in seeded.output, seeded.output
    assert (await casehall(env, "calendar", "seed")).output == seeded.output

    october = await casehall(env, "calendar", "show", "2026-10")
    assert october.exit_code == 0, october.output
    assert "October 2026" in october.output and "official (chinese-calendar)" in october.output
    for word in ("Mon", "Sun", "National", "holiday", "adjusted", "rest", "work"):
        assert word in october.output, word
    assert "2026-10-10 Sat  adjusted workday (National Day)  (official, chinese-calendar)" in october.output

    january = await casehall(env, "calendar", "show", "2027-01")
    assert january.exit_code == 0 and "provisional" in january.output
    assert "2027-01-01 Fri  holiday (New Year's Day)  (provisional, holidays)" in january.output


async def test_import_then_show(env: dict[str, str], tmp_path: Path) -> None:
    schedule = tmp_path / "2027.csv"
    schedule.write_text(CSV_2027, encoding="utf-8")
    imported = await casehall(env, "calendar", "import", str(schedule))
    assert imported.exit_code == 0, imported.output
    assert "2027 official schedule imported: 2 days" in imported.output
    assert "told 0 open case(s)" in imported.output
    january = await casehall(env, "calendar", "show", "2027-01")
    assert "official (imported schedule)" in january.output
    assert "2027-01-09 Sat  adjusted workday (元旦)  (official, import)" in january.output

    moved = tmp_path / "2027-moved.yaml"
    moved.write_text("- {date: 2027-01-01, kind: holiday, name: 元旦}\n", encoding="utf-8")
    refused = await casehall(env, "calendar", "import", str(moved))
    assert refused.exit_code == 1 and "contradicts the official 2027 schedule" in refused.output
    assert "Traceback" not in refused.output
    replaced = await casehall(env, "calendar", "import", str(moved), "--replace")
    assert replaced.exit_code == 0 and "2027 official schedule replaced: 1 days" in replaced.output


async def test_operator_errors_are_one_line(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("date,kind\n2027-01-04,adjusted_workday\n", encoding="utf-8")
    binary = tmp_path / "gbk.csv"
    binary.write_bytes("date,kind,name\n2027-01-01,holiday,元旦\n".encode("gbk"))
    calls = [
        (["import", str(tmp_path / "missing.csv")], "cannot read"),
        (["import", str(tmp_path / "schedule.txt")], "unknown file type '.txt'"),
        (["import", str(bad)], "2027-01-04 is a weekday"),
        (["import", str(binary)], "not UTF-8"),
        (["show", "January"], "use YYYY-MM"),
    ]
    for args, message in calls:
        r = await casehall(env, "calendar", *args)
        assert r.exit_code == 1 and message in r.output and "Traceback" not in r.output, (args, r.output)
        assert len(r.output.strip().splitlines()) == 1, r.output
    down = await casehall(env | {"CASEHALL_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none"},
                          "calendar", "show", "2027-01")
    assert down.exit_code == 1 and "cannot reach the database" in down.output
