"""Joint consultation through the API: opinions, escalation of the silent, extension, the lead's conclusion, and
who may see and answer."""

from datetime import datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from tests.cases import ALL_MKT, SHANGHAI, eventually, handle, keep_history, travel_to

H = dict[str, dict[str, str]]
APPLICANT = {"name": "周六", "phone": "13600136000", "id_number": "220201196606066668"}
QUESTION = {"lead_department": "MKT", "departments": ["HOUSING", "SOCIAL"],
            "question": "住宅改商用的经营场所能否登记？", "documents": ["房屋用途说明"], "deadline_days": 3}


async def _case_in_consultation(api: httpx.AsyncClient, tokens: H, **extra: object) -> tuple[str, str]:
    r = await api.post("/cases", headers=tokens["clerk"],
                       json={"item_code": "MKT-001", "applicant": APPLICANT, "submitted_materials": ALL_MKT})
    case_no = r.json()["case_no"]
    r = await api.post(f"/cases/{case_no}/consultations", headers=tokens["manager"], json=QUESTION | extra)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "in_consultation"
    [consultation] = (await api.get(f"/cases/{case_no}/consultations", headers=tokens["manager"])).json()
    return case_no, consultation["consultation_id"]


async def _opinion(api: httpx.AsyncClient, headers: dict[str, str], cid: str, decision: str, text: str = "同意"
                   ) -> httpx.Response:
    return await api.post(f"/consultations/{cid}/opinions", headers=headers,
                          json={"decision": decision, "text": text, "legal_basis": "《城市房地产管理法》"})


async def _case_status(api: httpx.AsyncClient, tokens: H, case_no: str) -> str:
    return str((await api.get(f"/cases/{case_no}", headers=tokens["clerk"])).json()["status"])


async def test_all_departments_agree_case_accepted(api: httpx.AsyncClient, tokens: H) -> None:
    case_no, cid = await _case_in_consultation(api, tokens)
    assert (await _opinion(api, tokens["manager-housing"], cid, "agree")).status_code == 200
    conditional = await _opinion(api, tokens["manager-social"], cid, "agree_with_conditions", "需补充说明")
    assert conditional.status_code == 200
    r = await api.post(f"/consultations/{cid}/conclusion", headers=tokens["manager"],
                       json={"decision": "accept", "reasons": "各部门同意", "follows": ["HOUSING", "SOCIAL"]})
    assert r.status_code == 200 and r.json()["status"] == "concluded"

    async def accepted() -> bool:
        return await _case_status(api, tokens, case_no) == "in_handling"

    await eventually(accepted)
    events = [e["type"] for e in (await api.get(f"/cases/{case_no}/events", headers=tokens["auditor"])).json()]
    assert events[-3:] == ["consultation_convened", "consultation_concluded", "accepted_after_consultation"]
    pdf = await api.get(f"/consultations/{cid}/minutes.pdf", headers=tokens["auditor"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


async def test_conflicting_opinions_lead_decides_and_amendments_are_kept(api: httpx.AsyncClient, tokens: H) -> None:
    case_no, cid = await _case_in_consultation(api, tokens)
    await _opinion(api, tokens["manager-housing"], cid, "disagree", "用途不符")
    amended = await _opinion(api, tokens["manager-housing"], cid, "agree", "补充证明后同意")
    await _opinion(api, tokens["manager-social"], cid, "disagree", "不同意")
    versions = amended.json()["opinions"]["HOUSING"]
    assert [v["decision"] for v in versions] == ["disagree", "agree"] and versions[1]["version"] == 2
    r = await api.post(f"/consultations/{cid}/conclusion", headers=tokens["manager"],
                       json={"decision": "accept", "reasons": "采纳住建意见", "follows": ["HOUSING"]})
    assert r.json()["conclusion"]["follows"] == ["HOUSING"]
    again = await api.post(f"/consultations/{cid}/conclusion", headers=tokens["manager"],
                           json={"decision": "veto", "reasons": "x", "legal_basis": "y"})
    assert again.status_code == 409, again.text


async def test_not_lawful_conclusion_becomes_a_veto_request_needing_approval(
    api: httpx.AsyncClient, tokens: H, client: Client
) -> None:
    case_no, cid = await _case_in_consultation(api, tokens)
    await _opinion(api, tokens["manager-housing"], cid, "disagree", "违反规划用途")
    no_basis = await api.post(f"/consultations/{cid}/conclusion", headers=tokens["manager"],
                              json={"decision": "veto", "reasons": "不符合法定条件"})
    assert no_basis.status_code == 422 and "法律依据" in no_basis.json()["error"]["message"]
    r = await api.post(f"/consultations/{cid}/conclusion", headers=tokens["manager"], json={
        "decision": "veto", "reasons": "不符合法定条件", "legal_basis": "《城乡规划法》第四十条",
        "follows": ["HOUSING"]})
    assert r.status_code == 200
    assert r.json()["conclusion"]["no_answer"] == ["SOCIAL"]

    async def veto_pending() -> bool:
        return await _case_status(api, tokens, case_no) == "veto_requested"

    await eventually(veto_pending)  # never rejected without a manager's approval
    own = await api.post(f"/cases/{case_no}/veto/decision", headers=tokens["manager"], json={"approve": True})
    assert own.status_code == 403  # the lead's manager concluded, so asked: someone else decides
    ok = await api.post(f"/cases/{case_no}/veto/decision", headers=tokens["director"], json={"approve": True})
    assert ok.status_code == 200 and ok.json()["status"] == "rejected"
    events = (await api.get(f"/cases/{case_no}/events", headers=tokens["auditor"])).json()
    [request] = [e for e in events if e["type"] == "veto_requested"]
    assert request["payload"]["consultation_id"] == cid
    await keep_history(handle(client, case_no), "consultation_then_veto")
    await keep_history(client.get_workflow_handle(f"consultation-{cid}"), "joint_consultation")


async def test_only_users_of_a_department_answer_for_it(api: httpx.AsyncClient, tokens: H) -> None:
    _, cid = await _case_in_consultation(api, tokens)
    r = await api.post(f"/consultations/{cid}/opinions", headers=tokens["manager-social"],
                       json={"department_code": "HOUSING", "decision": "agree", "text": "代答"})
    assert r.status_code == 403 and "HOUSING" in r.json()["error"]["message"]
    lead = await _opinion(api, tokens["manager"], cid, "agree")  # MKT leads: it concludes, it gives no opinion
    assert lead.status_code == 422
    auditor = await _opinion(api, tokens["auditor"], cid, "agree")
    assert auditor.status_code == 403
    view = (await api.get(f"/consultations/{cid}", headers=tokens["manager"])).json()
    assert view["opinions"] == {}


async def test_consultation_visible_to_those_taking_part_those_above_and_auditors(api: httpx.AsyncClient,
                                                                                  tokens: H) -> None:
    """The director of CITY (above every department) and the admin see it too, and still cannot answer in it."""
    case_no, cid = await _case_in_consultation(api, tokens)
    for user in ("manager", "manager-housing", "manager-social", "auditor", "director", "admin"):
        assert (await api.get(f"/consultations/{cid}", headers=tokens[user])).status_code == 200, user
        assert [c["consultation_id"] for c in (await api.get(f"/cases/{case_no}/consultations",
                                                             headers=tokens[user])).json()] == [cid], user
    for user in ("director", "admin"):
        answer = await api.post(f"/consultations/{cid}/opinions", headers=tokens[user],
                                json={"decision": "agree", "text": "同意"})
        assert answer.status_code == 403, (user, answer.text)
    for user in ("clerk",):
        assert (await api.get(f"/consultations/{cid}", headers=tokens[user])).status_code == 403, user
        assert (await api.get(f"/cases/{case_no}/consultations", headers=tokens[user])).json() == []
        minutes = await api.get(f"/consultations/{cid}/minutes.pdf", headers=tokens[user])
        assert minutes.status_code == 403


async def test_late_department_reminded_escalated_extended_then_answers(
    api: httpx.AsyncClient, tokens: H, time_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await travel_to(time_env, datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI))  # Monday
    case_no, cid = await _case_in_consultation(api, tokens)
    await _opinion(api, tokens["manager-housing"], cid, "agree")

    async def inbox(user: str) -> list[str]:
        return [t["kind"] for t in (await api.get("/inbox", headers=tokens[user])).json() if t["case_no"] == case_no]

    async def events() -> list[str]:
        from casehall.store.queries import consultation_events

        async with sessions() as s:
            return [e.type for e in await consultation_events(s, cid)]

    # 3 working days: deadline Thursday 12-03 17:00; reminder Wednesday; the lead's manager on Friday.
    await travel_to(time_env, datetime(2026, 12, 2, 17, 5, tzinfo=SHANGHAI))
    await eventually(lambda: _has(events, "reminder"))
    await travel_to(time_env, datetime(2026, 12, 3, 17, 5, tzinfo=SHANGHAI))
    await eventually(lambda: _has(events, "escalated_to_department_managers"))
    assert await inbox("manager-social") == ["consultation_overdue"]
    assert await inbox("manager-housing") == []
    await travel_to(time_env, datetime(2026, 12, 4, 17, 5, tzinfo=SHANGHAI))
    await eventually(lambda: _has(events, "escalated_to_lead"))
    assert "consultation_lead" in await inbox("manager")

    not_lead = await api.post(f"/consultations/{cid}/extension", headers=tokens["manager-social"],
                              json={"days": 2, "reason": "需要调档"})
    assert not_lead.status_code == 403
    r = await api.post(f"/consultations/{cid}/extension", headers=tokens["manager"],
                       json={"days": 2, "reason": "社保局需要调档"})
    assert r.status_code == 200 and len(r.json()["extensions"]) == 1
    assert datetime.fromisoformat(r.json()["deadline"]) > datetime(2026, 12, 4, 17, 0, tzinfo=SHANGHAI)
    assert await inbox("manager-social") == [] and "consultation_lead" not in await inbox("manager")
    assert (await _opinion(api, tokens["manager-social"], cid, "agree")).status_code == 200
    r = await api.post(f"/consultations/{cid}/conclusion", headers=tokens["manager"],
                       json={"decision": "accept", "reasons": "同意", "follows": ["HOUSING", "SOCIAL"]})
    assert r.json()["conclusion"]["no_answer"] == []
    assert "deadline_extended" in await events()


async def _has(events: object, kind: str) -> bool:
    return kind in await events()  # type: ignore[operator]
