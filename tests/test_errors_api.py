"""One error shape through the API: {"error": {code, message, field, details}}, Chinese by default, English on
request, never echoing the input; refusals, unknown cases, outages and crashes answered alike."""

import logging
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from casehall.api.app import create_app
from casehall.api.errors import ERROR_RESPONSES, ErrorPublic, NotFound
from casehall.core.settings import Settings
from casehall.stack.embedded import free_port
from tests.cases import ALL_MKT

APPLICANT = {"name": "王五", "phone": "13700137000", "id_number": "220201199001011238"}
EN = {"Accept-Language": "en"}


def error_of(r: httpx.Response) -> dict[str, Any]:
    body = r.json()
    assert set(body) == {"error"}, body
    ErrorPublic.model_validate(body)
    return dict(body["error"])


async def test_validation_error_in_chinese_and_english(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]
                                                       ) -> None:
    bad = {"item_code": "MKT-001", "applicant": {"name": "王五", "id_number": "220201199001011238"},
           "handling_mode": "by_pigeon"}
    zh = await api.post("/cases", headers=tokens["clerk"], json=bad)
    assert zh.status_code == 422 and zh.headers["content-language"] == "zh-CN"
    error = error_of(zh)
    assert error["code"] == "validation_error"
    by_field = {d["field"]: d for d in error["details"]}
    assert by_field["applicant.phone"]["code"] == "missing" and by_field["applicant.phone"]["message"] == "必填"
    assert by_field["handling_mode"]["code"] == "enum" and "应为以下之一" in by_field["handling_mode"]["message"]
    assert error["field"] in by_field and "另有" in error["message"]
    assert "by_pigeon" not in zh.text  # the input is never echoed

    en = await api.post("/cases", headers={**tokens["clerk"], **EN}, json=bad)
    assert en.status_code == 422 and en.headers["content-language"] == "en"
    by_field = {d["field"]: d for d in error_of(en)["details"]}
    assert by_field["applicant.phone"]["message"] == "is required"
    assert by_field["handling_mode"]["message"].startswith("must be one of: window, online")


async def test_long_description_is_not_echoed(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]) -> None:
    body = {"item_code": "MKT-001", "applicant": APPLICANT, "submitted_materials": ALL_MKT}
    long = await api.post("/cases", headers=tokens["clerk"], json={**body, "description": "长" * 300_000})
    assert long.status_code == 422, long.text[:500]
    error = error_of(long)
    assert error["field"] == "description" and error["details"][0]["code"] == "string_too_long"
    assert "4000" in error["message"] and len(long.content) < 2000

    huge = await api.post("/cases", headers=tokens["clerk"], json={**body, "description": "x" * 10_000_000})
    assert huge.status_code == 413 and error_of(huge)["code"] == "payload_too_large"
    assert len(huge.content) < 2000


async def test_refusal_in_the_error_shape(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]) -> None:
    r = await api.post("/cases", headers=tokens["clerk"],
                       json={"item_code": "MKT-001", "applicant": APPLICANT, "submitted_materials": ALL_MKT})
    assert r.status_code == 201, r.text
    case_no = r.json()["case_no"]
    assert (await api.post(f"/cases/{case_no}/accept", headers=tokens["clerk"])).status_code == 200

    other = await api.post(f"/cases/{case_no}/accept", headers=tokens["clerk2"])
    assert other.status_code == 403
    error = error_of(other)
    assert error["code"] == "forbidden" and error["field"] is None
    assert error["message"] == f"办件 {case_no} 由其他窗口工作人员负责；请申请移交，或请 MKT 的负责人处理"
    early = await api.post(f"/cases/{case_no}/satisfaction", headers={**tokens["clerk"], **EN},
                           json={"grade": "satisfied"})
    assert early.status_code == 409
    assert error_of(early) == {"code": "invalid_state", "field": None, "details": [],
                               "message": f"case {case_no} is in handling: it cannot be rated now"}
    zh = error_of(await api.post(f"/cases/{case_no}/satisfaction", headers=tokens["clerk"],
                                 json={"grade": "satisfied"}))
    assert zh["message"] == f"办件 {case_no} 当前状态为“办理中”，现在不能评价"
    assert "case-" not in zh["message"]


async def test_unknown_case_and_login(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]) -> None:
    r = await api.get("/cases/HALL-19990101-000001", headers=tokens["clerk"])
    assert r.status_code == 404
    assert error_of(r) == {"code": "not_found", "message": "没有办件 HALL-19990101-000001", "field": None,
                           "details": []}
    en = await api.get("/cases/HALL-19990101-000001", headers={**tokens["clerk"], **EN})
    assert error_of(en)["message"] == "no case HALL-19990101-000001"
    anonymous = await api.get("/cases")
    assert anonymous.status_code == 401 and error_of(anonymous)["code"] == "unauthenticated"
    assert error_of(anonymous)["message"].startswith("请先登录")
    route = await api.get("/no/such/route", headers=EN)
    assert route.status_code == 404 and error_of(route) == {"code": "not_found", "message": "Not Found",
                                                            "field": None, "details": []}


def _extra_app(settings: Settings, client: Client) -> FastAPI:
    app = create_app(settings, client)

    async def boom() -> None:
        raise RuntimeError("secret internal detail")

    async def gone() -> None:
        raise NotFound("no running workflow case-HALL-20260302-000009")

    async def faulty_validator() -> None:  # as the SDK delivers a validator's bug: a failed update, not a refusal
        raise WorkflowUpdateFailedError(ApplicationError("name 'secret_name' is not defined", type="NameError"))

    app.add_api_route("/test/boom", boom)
    app.add_api_route("/test/faulty", faulty_validator)
    app.add_api_route("/test/gone", gone)
    return app


async def test_crash_and_deleted_workflow(settings: Settings, client: Client, caplog: pytest.LogCaptureFixture
                                          ) -> None:
    app = _extra_app(settings, client)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        with caplog.at_level(logging.ERROR, logger="casehall.api.errors"):
            r = await http.get("/test/boom", headers={"X-Request-ID": "req-42"})
        assert r.status_code == 500
        error = error_of(r)
        assert error["code"] == "internal_error" and "req-42" in error["message"]
        assert "secret" not in r.text and "Traceback" not in r.text and r.headers["x-request-id"] == "req-42"
        logged = [rec for rec in caplog.records if "req-42" in rec.getMessage()]
        assert len(logged) == 1 and logged[0].exc_info is not None

        faulty = await http.get("/test/faulty", headers={"X-Request-ID": "req-43"})
        assert faulty.status_code == 500 and error_of(faulty)["code"] == "internal_error"
        assert "secret_name" not in faulty.text and "req-43" in error_of(faulty)["message"]

        gone = await http.get("/test/gone")
        assert gone.status_code == 409
        assert error_of(gone) == {"code": "closed", "field": None, "details": [],
                                  "message": "办件 HALL-20260302-000009 已办结，不能再记录任何操作"}


async def test_database_down_answers_503(client: Client) -> None:
    down = Settings(database_url=f"postgresql+asyncpg://casehall@127.0.0.1:{free_port()}/none")
    app = create_app(down, client)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        r = await http.post("/auth/login", json={"username": "clerk", "password": "casehall"})
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
        error = error_of(r)
        assert error["code"] == "database_unavailable" and error["message"].startswith("数据库暂时无法连接")
        en = await http.post("/auth/login", json={"username": "clerk", "password": "casehall"}, headers=EN)
        assert error_of(en)["message"].startswith("the database is not reachable")


def test_openapi_documents_the_error_shape(settings: Settings) -> None:
    schema = create_app(settings).openapi()
    assert "ErrorPublic" in schema["components"]["schemas"]
    responses = schema["paths"]["/cases"]["post"]["responses"]
    for status in ERROR_RESPONSES:
        ref = responses[str(status)]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/ErrorPublic"), (status, ref)
