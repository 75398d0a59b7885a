"""Assisted handling: a named helper acts for the applicant, recorded as such, and sees the case in one list."""

import httpx

from tests.cases import eventually

H = dict[str, dict[str, str]]
APPLICANT = {"name": "郑八", "phone": "13400134000", "id_number": "220201194404044445"}


async def test_helper_acts_on_behalf_and_is_recorded(api: httpx.AsyncClient, tokens: H) -> None:
    r = await api.post("/cases", headers=tokens["clerk"], json={
        "item_code": "HOUSING-002", "applicant": APPLICANT, "description": "重点项目",
        "submitted_materials": ["施工合同", "施工图审查合格书"]})
    case_no = r.json()["case_no"]
    await api.post(f"/cases/{case_no}/accept", headers=tokens["clerk"])

    by_clerk = await api.post(f"/cases/{case_no}/helper", headers=tokens["clerk"], json={"username": "clerk2"})
    assert by_clerk.status_code == 403  # naming a helper is a manager's call
    assert (await api.post(f"/cases/{case_no}/supplements", headers=tokens["clerk2"],
                           json={"items": ["安全施工措施资料"]})).status_code == 403  # not yet the helper
    named = await api.post(f"/cases/{case_no}/helper", headers=tokens["manager-housing"], json={"username": "clerk2"})
    assert named.status_code == 200, named.text

    supplied = await api.post(f"/cases/{case_no}/supplements", headers=tokens["clerk2"],
                              json={"items": ["安全施工措施资料"]})
    assert supplied.status_code == 200, supplied.text
    signed = await api.post(f"/cases/{case_no}/signatures", headers=tokens["clerk2"],
                            json={"document": "施工许可申请表", "note": "申请人委托代签"})
    assert signed.status_code == 200
    assert (await api.post(f"/cases/{case_no}/signatures", headers=tokens["clerk"],
                           json={"document": "x"})).status_code == 403

    events = (await api.get(f"/cases/{case_no}/events", headers=tokens["auditor"])).json()
    supplement = [e for e in events if e["type"] == "supplement_received"][-1]
    assert supplement["payload"]["on_behalf_of_applicant"] and supplement["payload"]["by_helper"]
    assert supplement["payload"]["actor"] == "clerk2"
    assert [e for e in events if e["type"] == "signed_on_behalf"][0]["payload"]["on_behalf_of_applicant"]

    listed = (await api.get("/assisted", headers=tokens["clerk2"])).json()
    assert [a["case"]["case_no"] for a in listed] == [case_no]
    assert (await api.get("/assisted", headers=tokens["clerk"])).json() == []


async def test_helper_sees_all_matters_of_a_combined_case(api: httpx.AsyncClient, tokens: H) -> None:
    r = await api.post("/cases/combined", headers=tokens["clerk"], json={"applicant": APPLICANT, "matters": [
        {"item_code": "MKT-001"}, {"item_code": "SOCIAL-003", "submitted_materials": ["参保人身份证明"]}]})
    case_no = r.json()["case_no"]
    named = await api.post(f"/cases/{case_no}/helper", headers=tokens["director"], json={"username": "clerk2"})
    assert named.status_code == 200, named.text

    async def both_matters() -> bool:
        listed = (await api.get("/assisted", headers=tokens["clerk2"])).json()
        mine = [a for a in listed if a["case"]["case_no"] == case_no]
        return bool(mine) and len(mine[0]["matters"]) == 2

    await eventually(both_matters)
