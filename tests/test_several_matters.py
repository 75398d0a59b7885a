"""Several matters at one window: each matter a child case with its own department; a veto on one does not block
the others; the applicant gets one combined result."""

import httpx
from temporalio.client import Client

from tests.cases import ALL_MKT, eventually, handle, keep_history

H = dict[str, dict[str, str]]
APPLICANT = {"name": "吴七", "phone": "13500135000", "id_number": "220201195505055551"}


async def test_three_matters_one_vetoed_two_completed(api: httpx.AsyncClient, tokens: H, client: Client) -> None:
    clerk = tokens["clerk"]
    r = await api.post("/cases/combined", headers=clerk, json={"applicant": APPLICANT, "matters": [
        {"item_code": "MKT-001", "submitted_materials": ALL_MKT},
        {"item_code": "HOUSING-002", "submitted_materials": ["施工合同", "施工图审查合格书", "安全施工措施资料",
                                                             "建设资金落实证明"]},
        {"item_code": "SOCIAL-003", "submitted_materials": ["参保人身份证明"]},
    ]})
    assert r.status_code == 201, r.text
    case_no = r.json()["case_no"]

    async def matters() -> list[dict[str, object]]:
        return list((await api.get(f"/cases/{case_no}/matters", headers=clerk)).json())

    async def three() -> bool:
        return len(await matters()) == 3

    await eventually(three)
    mkt, housing, social = (str(m["case_no"]) for m in await matters())
    assert [m["department_code"] for m in await matters()] == ["MKT", "HOUSING", "SOCIAL"]
    assert mkt == f"{case_no}-1"

    veto = {"reasons": "转出地未办理停保", "legal_basis": "《社会保险法》第十九条"}
    assert (await api.post(f"/cases/{social}/veto", headers=clerk, json=veto)).status_code == 200
    for matter in (mkt, housing):  # the veto blocks nothing else
        assert (await api.post(f"/cases/{matter}/accept", headers=clerk)).json()["status"] == "in_handling"
        done = await api.post(f"/cases/{matter}/complete", headers=clerk, json={"result": "已办结"})
        assert done.json()["status"] == "closed"  # a matter is called back with its case, not alone
    assert (await api.get(f"/cases/{case_no}", headers=clerk)).json()["status"] == "in_handling"
    early = await api.post(f"/cases/{case_no}/complete", headers=clerk, json={"result": "x"})
    assert early.status_code == 409

    decided = await api.post(f"/cases/{social}/veto/decision", headers=tokens["manager-social"],
                             json={"approve": True})
    assert decided.json()["status"] == "rejected"

    async def finished() -> bool:
        return (await api.get(f"/cases/{case_no}", headers=clerk)).json()["status"] == "awaiting_callback"

    await eventually(finished)
    docs = (await api.get(f"/cases/{case_no}/documents", headers=clerk)).json()
    [combined] = [d for d in docs if d["kind"] == "combined_result"]
    pdf = await api.get(combined["download"], headers=clerk)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    rated = await api.post(f"/cases/{case_no}/satisfaction", headers=clerk, json={"grade": "satisfied"})
    assert rated.json()["status"] == "closed"
    events = [e["type"] for e in (await api.get(f"/cases/{case_no}/events", headers=clerk)).json()]
    assert events == ["registered", "matters_dispatched", "matters_finished", "callback_rated"]
    await keep_history(handle(client, case_no), "several_matters")
    await keep_history(handle(client, social), "several_matters_vetoed_matter")
