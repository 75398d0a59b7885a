"""An official 2027 schedule arrives: open cases whose deadline was computed on provisional data get it
recomputed through their workflow, recorded with old and new deadline; closed cases replay unchanged."""

from datetime import datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from tests.cases import SHANGHAI, events, eventually, local, travel_to

H = dict[str, dict[str, str]]
# Made-up 2027 New Year: Friday 01-01 to Monday 01-04 off, Saturday 01-09 an adjusted working day.
SCHEDULE_2027 = "date,kind,name\n" + "\n".join(
    f"2027-01-0{d},holiday,元旦" for d in (1, 2, 3, 4)
) + "\n2027-01-09,adjusted_workday,元旦调休\n"


async def test_import_recomputes_provisional_deadline(
    api: httpx.AsyncClient, tokens: H, time_env: WorkflowEnvironment, client: Client,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await travel_to(time_env, datetime(2026, 12, 15, 10, 0, tzinfo=SHANGHAI))
    clerk = tokens["clerk"]
    case = (await api.post("/cases", headers=clerk, json={
        "item_code": "SOCIAL-003", "submitted_materials": ["参保人身份证明"],
        "applicant": {"name": "跨年", "phone": "13800138111", "id_number": "220201199001019993"}})).json()
    accepted = (await api.post(f"/cases/{case['case_no']}/accept", headers=clerk)).json()
    assert accepted["deadline_provisional"] is True
    before = datetime.fromisoformat(accepted["deadline"])
    # 15 working days from Tue 12-15, provisional 2027 (01-01 off by rule): Wed 2027-01-06 17:00.
    assert local(before).date().isoformat() == "2027-01-06"

    refused = await api.post("/calendar/imports", headers=clerk, json={"format": "csv", "text": SCHEDULE_2027})
    assert refused.status_code == 403
    r = await api.post("/calendar/imports", headers=tokens["admin"], json={"format": "csv", "text": SCHEDULE_2027})
    assert r.status_code == 201, r.text

    async def recomputed() -> bool:
        return "deadline_recomputed" in [e.type for e in await events(sessions, case["case_no"])]

    await eventually(recomputed)
    [event] = [e for e in await events(sessions, case["case_no"]) if e.type == "deadline_recomputed"]
    assert datetime.fromisoformat(event.payload["old"]) == before
    new = datetime.fromisoformat(event.payload["new"])
    assert event.payload["provisional"] is False and event.payload["calendar_year"] == 2027
    # Official: 01-04 is off as well, so one working day later: Thursday 2027-01-07 17:00.
    assert local(new).date().isoformat() == "2027-01-07"
    row = (await api.get(f"/cases/{case['case_no']}", headers=clerk)).json()
    assert row["deadline_provisional"] is False and datetime.fromisoformat(row["deadline"]) == new
