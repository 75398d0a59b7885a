"""The no-veto rules through the API: only a manager of the item's department says no, once, with a notice."""

import httpx

from tests.cases import ALL_MKT

APPLICANT = {"name": "李四", "phone": "13900139000", "id_number": "220201198802024325"}
VETO = {"reasons": "申请经营的项目属于禁止类目录", "legal_basis": "《市场主体登记管理条例》第十二条"}


async def _register(api: httpx.AsyncClient, headers: dict[str, str], materials: list[str] = ALL_MKT) -> str:
    r = await api.post("/cases", headers=headers,
                       json={"item_code": "MKT-001", "applicant": APPLICANT, "submitted_materials": materials})
    assert r.status_code == 201, r.text
    return str(r.json()["case_no"])


async def test_veto_approved_issues_rejection_notice(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]
                                                     ) -> None:
    case_no = await _register(api, tokens["clerk"])
    r = await api.post(f"/cases/{case_no}/veto", headers=tokens["clerk"], json=VETO)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "veto_requested"

    inbox = [t for t in (await api.get("/inbox", headers=tokens["manager"])).json() if t["case_no"] == case_no]
    assert [t["kind"] for t in inbox] == ["veto"]
    assert 0 < inbox[0]["seconds_left"] <= 4 * 86400  # two working days, a weekend at most between
    assert not [t for t in (await api.get("/inbox", headers=tokens["manager-housing"])).json()
                if t["case_no"] == case_no]

    r = await api.post(f"/cases/{case_no}/veto/decision", headers=tokens["manager"], json={"approve": True})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rejected" and r.json()["closed_at"]

    docs = (await api.get(f"/cases/{case_no}/documents", headers=tokens["clerk"])).json()
    assert [d["kind"] for d in docs] == ["rejection_notice"]
    pdf = await api.get(docs[0]["download"], headers=tokens["clerk"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    events = (await api.get(f"/cases/{case_no}/events", headers=tokens["auditor"])).json()
    approved = [e for e in events if e["type"] == "veto_approved"]
    assert approved and approved[0]["payload"]["actor"] == "manager"
    assert not [t for t in (await api.get("/inbox", headers=tokens["manager"])).json() if t["case_no"] == case_no]


async def test_veto_refused_case_continues(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]) -> None:
    case_no = await _register(api, tokens["clerk"])
    await api.post(f"/cases/{case_no}/veto", headers=tokens["clerk"], json=VETO)
    r = await api.post(f"/cases/{case_no}/veto/decision", headers=tokens["manager"],
                       json={"approve": False, "instruction": "accept", "comment": "可以办，按规定受理"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "in_handling" and r.json()["deadline"]
    r = await api.post(f"/cases/{case_no}/complete", headers=tokens["clerk"], json={"result": "已办结"})
    assert r.json()["status"] == "awaiting_callback"


async def test_who_may_decide_a_veto(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]) -> None:
    case_no = await _register(api, tokens["clerk"])
    await api.post(f"/cases/{case_no}/veto", headers=tokens["manager"], json=VETO)  # a manager asks to say no
    before = (await api.get(f"/cases/{case_no}/events", headers=tokens["auditor"])).json()

    own = await api.post(f"/cases/{case_no}/veto/decision", headers=tokens["manager"], json={"approve": True})
    assert own.status_code == 403 and "否决申请人" in own.json()["error"]["message"]
    clerk = await api.post(f"/cases/{case_no}/veto/decision", headers=tokens["clerk"], json={"approve": True})
    assert clerk.status_code == 403
    other = await api.post(f"/cases/{case_no}/veto/decision", headers=tokens["manager-housing"],
                           json={"approve": True})
    assert other.status_code == 403 and "MKT" in other.json()["error"]["message"]
    auditor = await api.post(f"/cases/{case_no}/veto/decision", headers=tokens["auditor"], json={"approve": True})
    assert auditor.status_code == 403
    after = (await api.get(f"/cases/{case_no}/events", headers=tokens["auditor"])).json()
    assert after == before  # refused actions record nothing

    # the director of the bureau above the department may decide
    r = await api.post(f"/cases/{case_no}/veto/decision", headers=tokens["director"],
                       json={"approve": False, "instruction": "accept"})
    assert r.status_code == 200, r.text


async def test_double_decision(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]) -> None:
    case_no = await _register(api, tokens["clerk"])
    await api.post(f"/cases/{case_no}/veto", headers=tokens["clerk"], json=VETO)
    refuse = {"approve": False, "instruction": "joint_consultation", "comment": "先会商"}
    first = await api.post(f"/cases/{case_no}/veto/decision", headers=tokens["manager"], json=refuse)
    assert first.status_code == 200, first.text
    events = (await api.get(f"/cases/{case_no}/events", headers=tokens["auditor"])).json()

    again = await api.post(f"/cases/{case_no}/veto/decision", headers=tokens["manager"], json=refuse)
    assert again.status_code == 200 and again.json()["status"] == first.json()["status"]
    assert (await api.get(f"/cases/{case_no}/events", headers=tokens["auditor"])).json() == events

    flip = await api.post(f"/cases/{case_no}/veto/decision", headers=tokens["manager"], json={"approve": True})
    assert flip.status_code == 409 and "不予批准" in flip.json()["error"]["message"]
    assert (await api.get(f"/cases/{case_no}/events", headers=tokens["auditor"])).json() == events


async def test_auditor_reads_but_cannot_write(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]) -> None:
    case_no = await _register(api, tokens["clerk"])
    auditor = tokens["auditor"]
    assert (await api.get(f"/cases/{case_no}", headers=auditor)).status_code == 200
    assert (await api.get("/cases", headers=auditor)).json()["total"] >= 1
    register = await api.post("/cases", headers=auditor, json={"item_code": "MKT-001", "applicant": APPLICANT})
    assert register.status_code == 403
    for path, body in [("accept", None), ("veto", VETO), ("complete", {"result": "x"}),
                       ("handover", {"to_username": "clerk2"})]:
        r = await api.post(f"/cases/{case_no}/{path}", headers=auditor, json=body)
        assert r.status_code == 403, (path, r.text)
    assert (await api.get(f"/cases/{case_no}", headers=auditor)).json()["status"] == "registered"


async def test_bad_payloads_answer_422(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]) -> None:
    clerk = tokens["clerk"]
    r = await api.post("/cases", headers=clerk, json={"item_code": "MKT-001", "applicant": {"name": ""}})
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["error"]["details"]}
    assert "applicant.name" in fields and "applicant.phone" in fields
    unknown = await api.post("/cases", headers=clerk, json={"item_code": "NOPE", "applicant": APPLICANT})
    assert unknown.status_code == 422 and "NOPE" in unknown.json()["error"]["message"]
    typo = await api.post("/cases", headers=clerk, json={"item_code": "MKT-001", "applicant": APPLICANT,
                                                          "submitted_materials": ["身份证明"]})
    assert typo.status_code == 422 and "身份证明" in typo.json()["error"]["message"]

    case_no = await _register(api, clerk)
    blank = await api.post(f"/cases/{case_no}/veto", headers=clerk, json={"reasons": "  ", "legal_basis": ""})
    assert blank.status_code == 422
    assert {e["field"] for e in blank.json()["error"]["details"]} == {"reasons", "legal_basis"}
    grade = await api.post(f"/cases/{case_no}/satisfaction", headers=clerk, json={"grade": "meh"})
    assert grade.status_code == 422
    state = await api.post(f"/cases/{case_no}/complete", headers=clerk, json={"result": "x"})
    assert state.status_code == 409 and "已登记" in state.json()["error"]["message"]
    assert (await api.get("/cases/NO-SUCH", headers=clerk)).status_code == 404
    assert (await api.get("/cases", headers={})).status_code == 401


async def test_id_number_is_masked_for_other_users(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]
                                                   ) -> None:
    case_no = await _register(api, tokens["clerk"])
    own = (await api.get(f"/cases/{case_no}", headers=tokens["clerk"])).json()
    assert own["applicant_id_number"] == APPLICANT["id_number"]
    for other in ("clerk2", "auditor", "manager-housing"):
        masked = (await api.get(f"/cases/{case_no}", headers=tokens[other])).json()["applicant_id_number"]
        assert masked.startswith("220") and masked.endswith("4325") and "*" in masked


async def test_web_page_is_served(api: httpx.AsyncClient) -> None:
    page = await api.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "窗口无否决权" in page.text and "/static/js/main.js" in page.text
    script = await api.get("/static/js/main.js")  # served by the app itself: nothing from the internet
    assert script.status_code == 200 and "/auth/login" in script.text
