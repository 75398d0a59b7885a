"""A transition PostgreSQL refuses for good never retries in silence: it is reported with the case, listed for
operators by ``casehall cases failing``, and recorded once the data is repaired and ``casehall cases retry`` sent."""

import asyncio
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner, Result

from casehall.cli.main import app
from casehall.core.db import transaction
from casehall.models.case import Actor
from casehall.models.commands import Command, VetoRequest
from casehall.workflows.case import CaseWorkflow
from tests.cases import event_types, eventually, handle, register
from tests.conftest import CODEC_KEYS

REFUSE_REMINDERS = """
CREATE FUNCTION refuse_reminders() RETURNS trigger AS $$
BEGIN
  IF NEW.type = 'veto_reminder' THEN
    RAISE EXCEPTION 'reminders are refused here' USING ERRCODE = '23514';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER refuse_reminders BEFORE INSERT ON case_events FOR EACH ROW EXECUTE FUNCTION refuse_reminders();
"""


async def cli(database_url: str, client: Client, *args: str) -> Result:
    env = {"CASEHALL_DATABASE_URL": database_url, "CASEHALL_CODEC_KEYS": CODEC_KEYS,
           "CASEHALL_TEMPORAL_ADDRESS": client.service_client.config.target_host}
    return await asyncio.to_thread(CliRunner().invoke, app, ["cases", *args], env=env)


async def test_refused_timer_step_is_listed_then_recorded_after_repair(
        client: Client, time_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession],
        actors: dict[str, Actor], database_url: str) -> None:
    async with transaction(sessions) as s:
        function, trigger = REFUSE_REMINDERS.strip().split(";\nCREATE TRIGGER")
        await s.execute(text(function + ";"))
        await s.execute(text("CREATE TRIGGER" + trigger))
    view = await register(client, sessions, actors["clerk"])
    h = handle(client, view.case_no)
    await h.execute_update(CaseWorkflow.request_veto, Command(actor=actors["clerk"], body=VetoRequest(
        reasons="不符合条件", legal_basis="《条例》第十二条")))
    await time_env.sleep(timedelta(days=4))  # past the reminder (1 working day), a weekend at most between

    async def reported() -> bool:
        return (await cli(database_url, client, "failing")).exit_code == 1

    await eventually(reported)
    listed = await cli(database_url, client, "failing")
    assert "veto_reminder" in listed.output and "23514" in listed.output and "Repair" in listed.output
    assert await event_types(sessions, view.case_no) == ["registered", "veto_requested"]
    assert (await h.query(CaseWorkflow.state)).status == "veto_requested"

    async with transaction(sessions) as s:  # the operator repairs what was refused
        await s.execute(text("DROP TRIGGER refuse_reminders ON case_events"))
    retried = await cli(database_url, client, "retry", view.case_no)
    assert retried.exit_code == 0, retried.output

    async def recorded() -> bool:
        return "veto_reminder" in await event_types(sessions, view.case_no)

    await eventually(recorded)
    assert (await cli(database_url, client, "failing")).exit_code == 0
    types = await event_types(sessions, view.case_no)
    assert types[:3] == ["registered", "veto_requested", "veto_reminder"] and types.count("veto_reminder") == 1
