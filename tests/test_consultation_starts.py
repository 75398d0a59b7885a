"""The ways a joint consultation starts: a manager refusing a veto with "joint consultation", a clerk marking a
matter "cannot be handled" because the law is unclear; the case waits and then continues."""

import httpx

from tests.cases import ALL_MKT, eventually

H = dict[str, dict[str, str]]
APPLICANT = {"name": "冯九", "phone": "13300133000", "id_number": "220201193303033339"}
SPEC = {"lead_department": "MKT", "departments": ["HOUSING"], "question": "法律规定不明确，能否办理？"}


async def _case(api: httpx.AsyncClient, tokens: H) -> str:
    r = await api.post("/cases", headers=tokens["clerk"],
                       json={"item_code": "MKT-001", "applicant": APPLICANT, "submitted_materials": ALL_MKT})
    return str(r.json()["case_no"])


async def _conclude_accept(api: httpx.AsyncClient, tokens: H, case_no: str) -> None:
    [c] = (await api.get(f"/cases/{case_no}/consultations", headers=tokens["manager"])).json()
    await api.post(f"/consultations/{c['consultation_id']}/opinions", headers=tokens["manager-housing"],
                   json={"decision": "agree", "text": "可以办理"})
    r = await api.post(f"/consultations/{c['consultation_id']}/conclusion", headers=tokens["manager"],
                       json={"decision": "accept", "reasons": "会商同意", "follows": ["HOUSING"]})
    assert r.status_code == 200, r.text

    async def accepted() -> bool:
        return (await api.get(f"/cases/{case_no}", headers=tokens["clerk"])).json()["status"] == "in_handling"

    await eventually(accepted)


async def test_veto_refused_with_joint_consultation_convenes_it(api: httpx.AsyncClient, tokens: H) -> None:
    case_no = await _case(api, tokens)
    await api.post(f"/cases/{case_no}/veto", headers=tokens["clerk"],
                   json={"reasons": "不确定是否符合规定", "legal_basis": "待会商确认"})
    r = await api.post(f"/cases/{case_no}/veto/decision", headers=tokens["manager"],
                       json={"approve": False, "instruction": "joint_consultation", "consultation": SPEC})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "in_consultation"
    await _conclude_accept(api, tokens, case_no)


async def test_clerk_marks_cannot_be_handled(api: httpx.AsyncClient, tokens: H) -> None:
    case_no = await _case(api, tokens)
    other = await api.post(f"/cases/{case_no}/consultations", headers=tokens["clerk2"],
                           json=SPEC | {"cannot_be_handled": True})
    assert other.status_code == 403  # not the responsible clerk
    r = await api.post(f"/cases/{case_no}/consultations", headers=tokens["clerk"],
                       json=SPEC | {"cannot_be_handled": True})
    assert r.status_code == 200 and r.json()["status"] == "in_consultation"
    busy = await api.post(f"/cases/{case_no}/accept", headers=tokens["clerk"])
    assert busy.status_code == 409  # the case waits for the conclusion
    await _conclude_accept(api, tokens, case_no)
    events = [e["type"] for e in (await api.get(f"/cases/{case_no}/events", headers=tokens["auditor"])).json()]
    assert events == ["registered", "consultation_convened", "consultation_concluded", "accepted_after_consultation"]


async def test_clerk_alone_cannot_convene_without_cannot_be_handled(api: httpx.AsyncClient, tokens: H) -> None:
    case_no = await _case(api, tokens)
    r = await api.post(f"/cases/{case_no}/consultations", headers=tokens["clerk"], json=SPEC)
    assert r.status_code == 403
