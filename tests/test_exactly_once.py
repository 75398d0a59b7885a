"""Every human action is recorded exactly once under concurrent identical calls (a double click, a retried request),
and every caller gets the same answer: the stored outcome, not a 409 for the second click."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from casehall.models.tables import CaseEvent, ConsultationEvent
from tests.cases import ALL_MKT

APPLICANT = {"name": "李四", "phone": "13900139000", "id_number": "220201198802024325"}
VETO = {"reasons": "申请经营的项目属于禁止类目录", "legal_basis": "《市场主体登记管理条例》第十二条"}
CONSULT = {"lead_department": "MKT", "departments": ["MKT", "HOUSING"], "question": "经营场所是否符合规划用途？"}
N = 4  # identical calls at once

Tokens = dict[str, dict[str, str]]
Setup = Callable[[httpx.AsyncClient, Tokens], Awaitable[dict[str, str]]]


async def _post(api: httpx.AsyncClient, path: str, headers: dict[str, str], body: Any = None) -> dict[str, Any]:
    r = await api.post(path, headers=headers, json=body)
    assert r.status_code in (200, 201), r.text
    result: dict[str, Any] = r.json()
    return result


async def registered(api: httpx.AsyncClient, tokens: Tokens, materials: list[str] = ALL_MKT) -> dict[str, str]:
    case = await _post(api, "/cases", tokens["clerk"],
                       {"item_code": "MKT-001", "applicant": APPLICANT, "submitted_materials": materials})
    return {"case_no": case["case_no"]}


async def in_handling(api: httpx.AsyncClient, tokens: Tokens) -> dict[str, str]:
    ids = await registered(api, tokens)
    await _post(api, f"/cases/{ids['case_no']}/accept", tokens["clerk"])
    return ids


async def awaiting_supplement(api: httpx.AsyncClient, tokens: Tokens) -> dict[str, str]:
    ids = await registered(api, tokens, ALL_MKT[:2])
    await _post(api, f"/cases/{ids['case_no']}/accept", tokens["clerk"])
    return ids


async def veto_requested(api: httpx.AsyncClient, tokens: Tokens) -> dict[str, str]:
    ids = await registered(api, tokens)
    await _post(api, f"/cases/{ids['case_no']}/veto", tokens["clerk"], VETO)
    return ids


async def awaiting_callback(api: httpx.AsyncClient, tokens: Tokens) -> dict[str, str]:
    ids = await in_handling(api, tokens)
    await _post(api, f"/cases/{ids['case_no']}/complete", tokens["clerk"], {"result": "已办结"})
    return ids


async def rectification(api: httpx.AsyncClient, tokens: Tokens) -> dict[str, str]:
    ids = await awaiting_callback(api, tokens)
    await _post(api, f"/cases/{ids['case_no']}/satisfaction", tokens["clerk"], {"grade": "dissatisfied"})
    return ids


async def with_helper(api: httpx.AsyncClient, tokens: Tokens) -> dict[str, str]:
    ids = await in_handling(api, tokens)
    await _post(api, f"/cases/{ids['case_no']}/helper", tokens["manager"], {"username": "clerk2"})
    return ids


async def in_consultation(api: httpx.AsyncClient, tokens: Tokens) -> dict[str, str]:
    ids = await registered(api, tokens)
    await _post(api, f"/cases/{ids['case_no']}/consultations", tokens["manager"], CONSULT)
    consultations = (await api.get(f"/cases/{ids['case_no']}/consultations", headers=tokens["manager"])).json()
    return ids | {"consultation_id": consultations[0]["consultation_id"]}


async def answered(api: httpx.AsyncClient, tokens: Tokens) -> dict[str, str]:
    ids = await in_consultation(api, tokens)
    await _post(api, f"/consultations/{ids['consultation_id']}/opinions", tokens["manager"],
                {"decision": "agree", "text": "符合规划用途"})
    return ids


@dataclass
class Action:
    setup: Setup
    who: str
    path: str  # formatted with the ids the setup returns
    body: Any
    event: str  # recorded once
    consultation: bool = False


ACTIONS = {
    "accept": Action(registered, "clerk", "/cases/{case_no}/accept", None, "accepted"),
    "supplement": Action(awaiting_supplement, "clerk", "/cases/{case_no}/supplements",
                         {"items": [ALL_MKT[2]]}, "supplement_received"),
    "request_veto": Action(registered, "clerk", "/cases/{case_no}/veto", VETO, "veto_requested"),
    "approve_veto": Action(veto_requested, "manager", "/cases/{case_no}/veto/decision", {"approve": True},
                           "veto_approved"),
    "refuse_veto": Action(veto_requested, "manager", "/cases/{case_no}/veto/decision",
                          {"approve": False, "instruction": "accept", "comment": "可以办"}, "veto_refused"),
    "handover": Action(registered, "clerk", "/cases/{case_no}/handover", {"to_username": "clerk2"}, "handed_over"),
    "handling": Action(registered, "clerk", "/cases/{case_no}/handling", {"mode": "online"}, "handling_arranged"),
    "complete": Action(in_handling, "clerk", "/cases/{case_no}/complete", {"result": "已办结"}, "completed"),
    "satisfaction": Action(awaiting_callback, "clerk", "/cases/{case_no}/satisfaction", {"grade": "satisfied"},
                           "callback_rated"),
    "rectify": Action(rectification, "manager", "/cases/{case_no}/rectification", {"result": "已整改"}, "rectified"),
    "assign_helper": Action(in_handling, "manager", "/cases/{case_no}/helper", {"username": "clerk2"},
                            "helper_assigned"),
    "sign": Action(with_helper, "clerk2", "/cases/{case_no}/signatures", {"document": "申请书"}, "signed_on_behalf"),
    "convene": Action(registered, "manager", "/cases/{case_no}/consultations", CONSULT, "consultation_convened"),
    "answer": Action(in_consultation, "manager-housing", "/consultations/{consultation_id}/opinions",
                     {"decision": "agree", "text": "同意"}, "opinion_given", consultation=True),
    "extend": Action(in_consultation, "manager", "/consultations/{consultation_id}/extension",
                     {"days": 2, "reason": "需现场核查"}, "deadline_extended", consultation=True),
    "conclude": Action(answered, "manager", "/consultations/{consultation_id}/conclusion",
                       {"decision": "accept", "reasons": "符合条件"}, "concluded", consultation=True),
}


async def _count(sessions: async_sessionmaker[AsyncSession], ids: dict[str, str], action: Action) -> int:
    async with sessions() as s:
        if action.consultation:
            query = select(func.count()).where(col(ConsultationEvent.consultation_id) == ids["consultation_id"],
                                               col(ConsultationEvent.type) == action.event)
        else:
            query = select(func.count()).where(col(CaseEvent.case_no) == ids["case_no"],
                                               col(CaseEvent.type) == action.event)
        return int(await s.scalar(query) or 0)


@pytest.mark.parametrize("name", list(ACTIONS))
async def test_identical_calls_at_once_record_one_event(name: str, api: httpx.AsyncClient, tokens: Tokens,
                                                        sessions: async_sessionmaker[AsyncSession]) -> None:
    action = ACTIONS[name]
    ids = await action.setup(api, tokens)
    path = action.path.format(**ids)
    answers = await asyncio.gather(*[api.post(path, headers=tokens[action.who], json=action.body) for _ in range(N)])
    assert [r.status_code for r in answers] == [200] * N, [r.text for r in answers]
    assert len({r.text for r in answers}) == 1, "every caller gets the same answer"
    assert await _count(sessions, ids, action) == 1
    again = await api.post(path, headers=tokens[action.who], json=action.body)  # a late retry of the same click
    assert again.status_code == 200 and again.json() == answers[0].json()
    assert await _count(sessions, ids, action) == 1


async def test_idempotency_key_answers_a_retry_with_the_first_outcome(
        api: httpx.AsyncClient, tokens: Tokens, sessions: async_sessionmaker[AsyncSession]) -> None:
    """A retried request with the same key is the same action, even where a second one would be allowed."""
    ids = await in_consultation(api, tokens)
    path = f"/consultations/{ids['consultation_id']}/opinions"
    headers = tokens["manager-housing"] | {"Idempotency-Key": "opinion-7f3a9c21"}
    first = await _post(api, path, headers, {"decision": "agree", "text": "同意"})
    retried = await _post(api, path, headers, {"decision": "agree", "text": "同意"})
    assert retried == first
    amended = await _post(api, path, tokens["manager-housing"] | {"Idempotency-Key": "opinion-second-1"},
                          {"decision": "agree_with_conditions", "text": "同意，需补充消防材料"})
    assert [o["version"] for o in amended["opinions"]["HOUSING"]] == [1, 2]
