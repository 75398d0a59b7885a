"""Every role × every endpoint of the app: allowed, 401 or 403, as the rules of casehall.workflows.access say.

Rows are (method, route template): a route added to the app without a row here fails the test. Each row lists the
expected class per user, in the order of ``WHO``: ``ok`` (any answer but 401/403 and never a 5xx: the rule let the
request through, and what follows — 200, 404, 409, 422 — is not an access matter), ``401`` or ``403``. Writes act on
a fresh case of market regulation (MKT) registered by ``clerk``, so one row cannot change what another sees; the
request bodies are valid, so that a refusal can only come from an access rule.

The audit rule (``reads_audit_of``): auditors and admins read every case; managers and directors the cases of their
department's subtree (``manager-housing`` is refused MKT's audit, ``director`` of CITY, above both, reads it)."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from casehall.api.app import create_app
from casehall.core.settings import Settings
from casehall.stack.seed import DEMO_PASSWORD
from tests.cases import ALL_MKT

WHO = ("clerk", "manager", "manager-housing", "director", "auditor", "admin", None)  # None: no token
APPLICANT = {"name": "李四", "phone": "13900139000", "id_number": "220201198802024325"}
CASE = {"item_code": "MKT-001", "applicant": APPLICANT, "submitted_materials": ALL_MKT}
CONSULT = {"lead_department": "MKT", "departments": ["HOUSING"], "question": "法律规定不明确，能否办理？"}
ORDER = {"caller": {"name": "王五", "phone": "13700137000"}, "channel": "phone", "kind": "normal",
         "category_code": "010101", "location": {"address": "人民大街1号"}, "content": "家里停水了"}
HOUSING_MATTER = {"item_code": "HOUSING-002", "submitted_materials": ["施工合同", "施工图审查合格书"]}

OK, U, F = "ok", "401", "403"
PUBLIC = (OK, OK, OK, OK, OK, OK, OK)
SIGNED_IN = (OK, OK, OK, OK, OK, OK, U)
CASE_WORKERS = (OK, OK, OK, OK, F, F, U)  # clerks, managers, directors act on cases; auditors and admins never
RESPONSIBLE = (OK, OK, F, OK, F, F, U)  # the case's clerk, a decider of MKT or above (director of CITY)
DECIDERS_OF_MKT = (F, OK, F, OK, F, F, U)
READERS = (OK, OK, OK, OK, OK, OK, U)  # every signed-in user who may see the case
AUDIT = (F, OK, F, OK, OK, OK, U)  # reads_audit_of on an MKT case
ADMIN_ONLY = (F, F, F, F, F, OK, U)
HOTLINE_ONLY = (F, F, F, F, F, F, U)  # hotline centre and units; hall users are none of them
HOTLINE_READ = (F, F, F, F, OK, F, U)  # the centre, units, and auditors read orders
API_KEY = (F, F, F, F, F, F, F)  # Open311 clients: an API key, not a sign-in
ASSESSMENT = (F, F, F, F, OK, OK, U)  # the hotline units' figures: auditors, admins (and supervisors, unit heads)
ACCOUNT_CHANGES = (F, F, F, F, OK, OK, U)  # require_admin_change_reader: admins and the auditors overseeing them
CATALOGUE_OVERSEERS = (F, F, F, F, OK, OK, U)  # require_catalogue_overseer: the tree's administration, its log
# Catalogue writes act on SOCIAL and its item SOCIAL-003, which no other row uses (the edits change nothing or end in
# a 409, the withdrawal is the last of them); new ones are created under SOCIAL.
NEW_ITEM = {"code": "MATRIX-001", "name": "矩阵事项", "department_code": "SOCIAL", "time_limit_days": 5,
            "expedited_days": 2, "materials": [{"name": "申请书", "main": True, "how_to_supply": "原件"}]}
NEW_DEPARTMENT = {"code": "MATRIX-SEC", "name": "矩阵科", "kind": "section", "parent_code": "SOCIAL"}
# sees_consultation: the lead (MKT) and consulted (HOUSING) departments, the director of CITY above both, auditors
# and admins; the clerk is of CITY but neither takes part nor decides.
CONSULTATION_READERS = (F, OK, OK, OK, OK, OK, U)
CONSULTED = (F, OK, OK, F, F, F, U)  # require_member of a taking-part department, and a writer
LEAD_MANAGER = (F, OK, F, F, F, F, U)  # require_lead_manager: a manager of the lead department itself
NOBODY_HERE = (F, F, F, F, F, F, U)  # only the case's named helper (none of these users) signs for the applicant

# (method, route template) -> (expected per WHO, request body or None)
MATRIX: dict[tuple[str, str], tuple[tuple[str, ...], Any]] = {
    ("GET", "/openapi.json"): (PUBLIC, None),
    ("GET", "/metrics"): (PUBLIC, None),
    ("GET", "/"): (PUBLIC, None),
    ("GET", "/static/{path:path}"): (PUBLIC, None),
    ("GET", "/ui/i18n/{lang}.json"): (PUBLIC, None),
    ("GET", "/ui/config"): (PUBLIC, None),
    ("GET", "/ui/me"): (SIGNED_IN, None),
    ("GET", "/ui/departments"): (SIGNED_IN, None),
    ("GET", "/ui/colleagues"): (SIGNED_IN, None),
    ("GET", "/docs/assets/{name}"): (PUBLIC, None),
    ("GET", "/docs"): (PUBLIC, None),
    ("GET", "/redoc"): (PUBLIC, None),
    ("GET", "/healthz"): (PUBLIC, None),
    ("POST", "/auth/login"): (PUBLIC, {"username": "clerk2", "password": DEMO_PASSWORD}),
    ("POST", "/auth/logout"): (SIGNED_IN, None),
    ("GET", "/auth/me"): (SIGNED_IN, None),
    ("GET", "/admin/locks"): (ADMIN_ONLY, None),
    ("DELETE", "/admin/locks/{scope}/{subject}"): (ADMIN_ONLY, None),
    ("GET", "/admin/users"): (ADMIN_ONLY, None),
    ("POST", "/admin/users"): (ADMIN_ONLY, {"username": "matrix.clerk", "display_name": "矩阵", "role": "clerk",
                                            "department_code": "MKT", "password": "Window-2026"}),
    ("GET", "/admin/users/{username}"): (ADMIN_ONLY, None),
    ("PATCH", "/admin/users/{username}"): (ADMIN_ONLY, {"title": "科员"}),
    ("POST", "/admin/users/{username}/disable"): (ADMIN_ONLY, None),
    ("POST", "/admin/users/{username}/enable"): (ADMIN_ONLY, None),
    ("POST", "/admin/users/{username}/password"): (ADMIN_ONLY, {"password": "Window-2026"}),
    ("GET", "/admin/sign-ins"): (ADMIN_ONLY, None),
    ("GET", "/admin/changes"): (ACCOUNT_CHANGES, None),
    ("POST", "/cases"): (CASE_WORKERS, CASE),
    ("POST", "/cases/combined"): (CASE_WORKERS, {"applicant": APPLICANT, "matters": [
        {"item_code": "MKT-001", "submitted_materials": ALL_MKT}, HOUSING_MATTER]}),
    ("GET", "/cases/{case_no}/matters"): (READERS, None),
    ("GET", "/cases"): (READERS, None),
    ("GET", "/cases/{case_no}"): (READERS, None),
    ("GET", "/cases/{case_no}/events"): (READERS, None),
    ("GET", "/cases/{case_no}/documents"): (READERS, None),
    ("GET", "/cases/{case_no}/documents/{doc_id}.pdf"): (READERS, None),
    ("POST", "/cases/{case_no}/accept"): (RESPONSIBLE, {}),
    ("POST", "/cases/{case_no}/supplements"): (RESPONSIBLE, {"items": ["从业人员情况说明"]}),
    ("POST", "/cases/{case_no}/supplements/overdue-decision"): (DECIDERS_OF_MKT, {"decision": "extend"}),
    ("POST", "/cases/{case_no}/veto"): (RESPONSIBLE, {"reasons": "不符合条件", "legal_basis": "《条例》第十二条"}),
    ("POST", "/cases/{case_no}/veto/decision"): (DECIDERS_OF_MKT, {"approve": True}),
    ("POST", "/cases/{case_no}/handover"): (RESPONSIBLE, {"to_username": "clerk2"}),
    ("POST", "/cases/{case_no}/handling"): (RESPONSIBLE, {"mode": "window"}),
    ("POST", "/cases/{case_no}/complete"): (RESPONSIBLE, {"result": "已办结"}),
    ("POST", "/cases/{case_no}/satisfaction"): (CASE_WORKERS, {"grade": "satisfied"}),  # whoever calls back
    ("POST", "/cases/{case_no}/rectification"): (DECIDERS_OF_MKT, {"result": "已整改"}),
    ("POST", "/cases/{case_no}/consultations"): (DECIDERS_OF_MKT, CONSULT),
    ("GET", "/cases/{case_no}/consultations"): (READERS, None),
    ("GET", "/consultations/{consultation_id}"): (CONSULTATION_READERS, None),
    ("POST", "/consultations/{consultation_id}/opinions"): (CONSULTED, {"decision": "agree", "text": "同意"}),
    ("POST", "/consultations/{consultation_id}/extension"): (LEAD_MANAGER, {"days": 2, "reason": "需要补充材料"}),
    ("POST", "/consultations/{consultation_id}/conclusion"): (LEAD_MANAGER, {"decision": "accept",
                                                                            "reasons": "可以办理"}),
    ("GET", "/consultations/{consultation_id}/minutes.pdf"): (CONSULTATION_READERS, None),
    ("POST", "/cases/{case_no}/helper"): (DECIDERS_OF_MKT, {"username": "clerk2"}),
    ("POST", "/cases/{case_no}/signatures"): (NOBODY_HERE, {"document": "申请书", "note": "代签"}),
    ("GET", "/assisted"): (READERS, None),
    ("GET", "/inbox"): (READERS, None),
    ("GET", "/items"): (READERS, None),
    ("GET", "/items/{item_code}"): (READERS, None),
    ("POST", "/items"): (ADMIN_ONLY, NEW_ITEM),
    ("PATCH", "/items/{item_code}"): (ADMIN_ONLY, {"version": 1, "name": "养老保险关系转移接续"}),
    ("POST", "/items/{item_code}/withdraw"): (ADMIN_ONLY, {"reason": "矩阵测试"}),
    ("POST", "/items/{item_code}/reinstate"): (ADMIN_ONLY, {}),
    ("GET", "/catalogue/changes"): (CATALOGUE_OVERSEERS, None),
    ("GET", "/departments"): (CATALOGUE_OVERSEERS, None),
    ("POST", "/departments"): (ADMIN_ONLY, NEW_DEPARTMENT),
    ("PATCH", "/departments/{department_code}"): (ADMIN_ONLY, {"version": 1, "name": "人力资源和社会保障局"}),
    ("POST", "/departments/{department_code}/deactivate"): (ADMIN_ONLY, {"reason": "矩阵测试"}),
    ("POST", "/departments/{department_code}/reactivate"): (ADMIN_ONLY, {}),
    ("DELETE", "/departments/{department_code}"): (ADMIN_ONLY, None),
    ("GET", "/calendar/deadline"): (READERS, None),
    ("GET", "/calendar/{year}/{month}"): (READERS, None),
    ("POST", "/calendar/imports"): (ADMIN_ONLY, {"format": "csv", "text": "date,kind,name\n"}),
    ("GET", "/audit/cases/{case_no}/timeline"): (AUDIT, None),
    ("GET", "/audit/cases/{case_no}/chain"): (AUDIT, None),
    ("GET", "/audit/cases/{case_no}/replay"): (AUDIT, None),
    ("GET", "/audit/export"): (AUDIT, None),
    ("POST", "/codec/decode"): (ADMIN_ONLY, {"payloads": []}),
    ("POST", "/codec/encode"): (ADMIN_ONLY, {"payloads": []}),
    ("POST", "/orders"): (HOTLINE_ONLY, ORDER),
    ("GET", "/orders"): (HOTLINE_READ, None),
    ("GET", "/orders/duplicates"): (HOTLINE_READ, None),
    ("GET", "/orders/{order_no}"): (HOTLINE_READ, None),
    ("GET", "/orders/{order_no}/events"): (HOTLINE_READ, None),
    ("POST", "/orders/{order_no}/dispatch"): (HOTLINE_ONLY, {}),
    ("POST", "/orders/{order_no}/sign"): (HOTLINE_ONLY, {}),
    ("POST", "/orders/{order_no}/return"): (HOTLINE_ONLY, {"reason": "不属于本单位职责"}),
    ("POST", "/orders/{order_no}/return/decision"): (HOTLINE_ONLY, {"approve": True}),
    ("POST", "/orders/{order_no}/extension"): (HOTLINE_ONLY, {"reason": "需要协调",
                                                             "new_due": "2030-01-01T17:00:00+08:00"}),
    ("POST", "/orders/{order_no}/extension/decision"): (HOTLINE_ONLY, {"approve": True}),
    ("POST", "/orders/{order_no}/reply"): (HOTLINE_ONLY, {"result": "已修复"}),
    ("POST", "/orders/{order_no}/callback"): (HOTLINE_ONLY, {"solved": True, "grade": "satisfied"}),
    ("POST", "/orders/{order_no}/acceptance"): (HOTLINE_ONLY, {"accept": True}),
    ("POST", "/orders/{order_no}/appeal"): (HOTLINE_ONLY, {"reason": "评价与事实不符"}),
    ("POST", "/orders/{order_no}/appeal/decision"): (HOTLINE_ONLY, {"uphold": True, "opinion": "评价不实"}),
    ("POST", "/orders/{order_no}/review"): (HOTLINE_ONLY, {"reason": "不满意答复"}),
    ("POST", "/orders/{order_no}/review/decision"): (HOTLINE_ONLY, {"uphold": True, "opinion": "答复成立"}),
    ("GET", "/hotline/petitions/figures"): (HOTLINE_READ, None),
    ("GET", "/assessment/orders/{order_no}/chain"): (ASSESSMENT, None),
    ("GET", "/assessment/{domain}/periods"): (ASSESSMENT, None),
    ("GET", "/assessment/{domain}/rates"): (ASSESSMENT, None),
    ("GET", "/assessment/{domain}/units/{unit}/trend"): (ASSESSMENT, None),
    ("GET", "/assessment/{domain}/{period}/export.csv"): (ASSESSMENT, None),
    ("GET", "/assessment/{domain}/{period}/export.pdf"): (ASSESSMENT, None),
    ("GET", "/assessment/{domain}/{period}/units"): (ASSESSMENT, None),
    ("GET", "/assessment/{domain}/{period}/units/{unit}"): (ASSESSMENT, None),
    ("GET", "/assessment/{domain}/{period}/units/{unit}/drill"): (ASSESSMENT, None),
    ("GET", "/knowledge"): (HOTLINE_READ, None),
    ("GET", "/hotline/catalogue"): (HOTLINE_READ, None),
    ("GET", "/units/{unit_code}/figures"): (HOTLINE_READ, None),
    ("GET", "/hotline/inbox"): (HOTLINE_READ, None),
    ("GET", "/hotline/me"): (HOTLINE_READ, None),
    ("GET", "/public/orders/{order_no}"): (PUBLIC, None),
    ("GET", "/open311/v2/services.json"): (PUBLIC, None),
    ("GET", "/open311/v2/services/{service_code}.json"): (PUBLIC, None),
    ("GET", "/open311/v2/requests/{service_request_id}.json"): (PUBLIC, None),
    ("GET", "/open311/v2/tokens/{token}.json"): (PUBLIC, None),
    ("GET", "/open311/v2/requests.json"): (PUBLIC, None),
    ("POST", "/open311/v2/requests.json"): (API_KEY, None),
}
# Steps that bring a row's fresh case where the action applies, so that a refusal comes from the rule, not the state.
PREPARE: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    "/cases/{case_no}/satisfaction": [("clerk", "accept", {}), ("clerk", "complete", {"result": "已办结"})],
    "/cases/{case_no}/veto/decision": [("clerk", "veto", {"reasons": "不符合条件", "legal_basis": "《条例》第十二条"})],
}
SKIPPED_METHODS = {"HEAD", "OPTIONS"}  # HEAD mirrors GET; OPTIONS is the codec's CORS preflight


def endpoints(app: FastAPI) -> set[tuple[str, str]]:
    return {(method, str(route.path)) for route in iter_route_contexts(app.routes)
            for method in (route.methods or ()) if method not in SKIPPED_METHODS}


@pytest.fixture(scope="module")
async def app(client: Client, settings: Settings, sessions: async_sessionmaker[AsyncSession]
              ) -> AsyncIterator[FastAPI]:
    app = create_app(settings.model_copy(update={"api_metrics": True}), client)  # /metrics included
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="module")
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://casehall") as client:
        yield client


async def login(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    r = await http.post("/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def new_case(http: httpx.AsyncClient, clerk: dict[str, str]) -> str:
    r = await http.post("/cases", headers=clerk, json=CASE)
    assert r.status_code == 201, r.text
    return str(r.json()["case_no"])


async def new_consultation(http: httpx.AsyncClient, tokens: dict[str, dict[str, str]]) -> tuple[str, str]:
    """(case, consultation) led by MKT with HOUSING consulted, convened by MKT's manager."""
    case_no = await new_case(http, tokens["clerk"])
    convened = await http.post(f"/cases/{case_no}/consultations", headers=tokens["manager"], json=CONSULT)
    assert convened.status_code in (200, 201), convened.text
    [listed] = (await http.get(f"/cases/{case_no}/consultations", headers=tokens["manager"])).json()
    return case_no, str(listed["consultation_id"])


def test_every_endpoint_has_a_row(app: FastAPI) -> None:
    routes = endpoints(app)
    missing, stale = routes - set(MATRIX), set(MATRIX) - routes
    assert not missing, f"endpoints without a row in MATRIX (say who may call them): {sorted(missing)}"
    assert not stale, f"rows for endpoints the app no longer has: {sorted(stale)}"


async def test_every_role_on_every_endpoint(app: FastAPI, http: httpx.AsyncClient) -> None:
    tokens = {who: await login(http, who) for who in WHO if who}
    placed = await http.post("/orders", headers=await login(http, "operator"), json=ORDER)
    assert placed.status_code == 201, placed.text
    shared, consultation_id = await new_consultation(http, tokens)
    order_no = placed.json()["order"]["order_no"]
    reads = {"case_no": shared, "consultation_id": consultation_id, "doc_id": "1", "order_no": order_no,
             "unit_code": "MKT", "scope": "user", "subject": "nobody", "path": "app.js", "lang": "zh_CN",
             "name": "redoc.standalone.js", "year": "2027", "month": "1", "service_code": "010101",
             "service_request_id": "12345-20260101-0001", "token": "nope", "domain": "orders",
             "period": "2026-11", "unit": "CENTRE", "username": "nobody", "item_code": "SOCIAL-003",
             "department_code": "SOCIAL"}
    query = {"/audit/export": {"case_no": shared},
             "/assessment/{domain}/{period}/units/{unit}/drill": {"rate": "completed"}, "/knowledge": {"q": "停水"},
             "/orders/duplicates": {"category": "010101", "address": "人民大街1号"},
             "/calendar/deadline": {"start": "2027-01-04T10:00:00+08:00", "working_days": "3"}}
    mismatches: list[str] = []
    for (method, path), (expected, body) in sorted(MATRIX.items()):
        if (method, path) not in endpoints(app):
            continue  # reported by test_every_endpoint_has_a_row
        params = dict(reads)
        if method != "GET" and "{consultation_id}" in path:
            params["case_no"], params["consultation_id"] = await new_consultation(http, tokens)
        if method != "GET" and "{case_no}" in path:
            params["case_no"] = await new_case(http, tokens["clerk"])  # a write acts on a case of its own
            for preparer, action, step in PREPARE.get(path, []):
                r = await http.post(f"/cases/{params['case_no']}/{action}", headers=tokens[preparer], json=step)
                assert r.status_code == 200, r.text
        url = path.replace("{path:path}", "{path}").format(**params)
        # The refused first: an allowed write may move the case on, and a refusal must meet the state it refuses.
        for who, want in sorted(zip(WHO, expected, strict=True), key=lambda pair: pair[1] == OK):
            headers = dict(tokens[who]) if who else {}
            if path == "/auth/logout" and who:
                headers = await login(http, who)  # logging out revokes: never the token the other rows use
            r = await http.request(method, url, headers=headers, json=body, params=query.get(path))
            got = str(r.status_code) if r.status_code in (401, 403) else OK
            if r.status_code >= 500 or got != want:
                mismatches.append(f"{method} {path} as {who or 'anonymous'}: {r.status_code} (want {want}) "
                                  f"{r.text[:120]}")
    assert not mismatches, "\n".join(mismatches)


async def test_a_period_export_holds_the_readers_subtree_only(http: httpx.AsyncClient) -> None:
    clerk = await login(http, "clerk")
    case_no = await new_case(http, clerk)
    for action, body in (("accept", {}), ("complete", {"result": "已办结"}), ("satisfaction", {"grade": "satisfied"})):
        assert (await http.post(f"/cases/{case_no}/{action}", headers=clerk, json=body)).status_code == 200
    period = {"closed_from": "2001-01-01T00:00:00+08:00"}

    async def exported(who: str) -> set[str]:
        r = await http.get("/audit/export", headers=await login(http, who), params=period)
        assert r.status_code == 200, r.text
        return {c["case_no"] for c in r.json()["cases"]}

    assert case_no in await exported("manager")  # MKT's own
    assert case_no in await exported("director")  # CITY, above MKT
    assert case_no in await exported("auditor")
    assert case_no not in await exported("manager-housing")  # another department's subtree
