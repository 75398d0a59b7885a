"""Hostile input is a 4xx naming the parameter, never a 500 or a database error: NUL and lone surrogates,
integers past int32, date-times outside [2000, 2100] or not ISO 8601, LIKE wildcards, oversized bodies."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from casehall.stack.seed import DEMO_PASSWORD

APPLICANT = {"name": "张三", "phone": "13800138000", "id_number": "220201199001011238"}
MATERIALS = ["经营者身份证明", "经营场所使用证明", "从业人员情况说明"]


def refused(r: httpx.Response, field: str | None, status: int = 422) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text)
    error: dict[str, Any] = r.json()["error"]
    assert error["field"] == field, error
    return error


@pytest.mark.parametrize(("path", "field"), [
    ("/cases?q=%00", "q"),
    ("/cases?q=abc%00def", "q"),
    ("/cases?department=MKT%00", "department"),
    ("/cases/%00", "case_no"),
    ("/cases/HALL%00/events", "case_no"),
])
async def test_nul_in_query_or_path(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]], path: str,
                                    field: str) -> None:
    refused(await api.get(path, headers=tokens["clerk"]), field)


async def test_nul_in_login_name(api: httpx.AsyncClient) -> None:
    r = await api.post("/auth/login", json={"username": "cle\x00rk", "password": DEMO_PASSWORD})
    refused(r, "username")


async def test_lone_surrogate_in_body(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]) -> None:
    text = ('{"item_code": "MKT-001", "applicant": {"name": "\\ud800", "phone": "13800138000", '
            '"id_number": "220201199001011238"}, "submitted_materials": []}')
    r = await api.post("/cases", content=text, headers={**tokens["clerk"], "content-type": "application/json"})
    refused(r, "applicant.name")
    r = await api.post("/auth/login", content='{"username": "a\\u0000", "password": "x"}',
                       headers={"content-type": "application/json"})
    refused(r, "username")


@pytest.mark.parametrize(("query", "field"), [
    ("clerk_id=2147483648", "clerk_id"),
    ("clerk_id=-2147483649", "clerk_id"),
    ("offset=53962165084", "offset"),
    ("registered_from=9999-12-31T23:59:59-23:00", "registered_from"),
    ("registered_from=0001-01-01T00:00:00%2B14:00", "registered_from"),
    ("registered_to=0.5", "registered_to"),
    ("registered_to=1700000000", "registered_to"),
])
async def test_numbers_and_dates_out_of_range(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]],
                                              query: str, field: str) -> None:
    refused(await api.get(f"/cases?{query}", headers=tokens["manager"]), field)


async def test_bounds_that_are_fine(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]) -> None:
    r = await api.get("/cases?offset=10000&clerk_id=2147483647&registered_from=2000-01-01T00:00:00Z",
                      headers=tokens["manager"])
    assert r.status_code == 200 and r.json()["items"] == []


async def test_document_id_past_int32(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]) -> None:
    refused(await api.get("/cases/HALL-1/documents/99999999999.pdf", headers=tokens["clerk"]), "doc_id")


async def test_calendar_and_audit_dates(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]) -> None:
    r = await api.get("/calendar/deadline?start=9999-12-31T09:00:00&days=10", headers=tokens["clerk"])
    refused(r, "start")
    r = await api.get("/calendar/deadline?start=2099-12-31T09:00:00&days=3650", headers=tokens["clerk"])
    assert r.status_code == 200, r.text
    refused(await api.get("/calendar/9999/12", headers=tokens["clerk"]), "year")
    r = await api.get("/audit/export?closed_from=0001-01-01T00:00:00&closed_to=9999-12-31T23:59:59",
                      headers=tokens["auditor"])
    refused(r, "closed_from")
    r = await api.get("/audit/cases/HALL-1/timeline?as_of=9999-12-31T23:59:59-23:00", headers=tokens["auditor"])
    refused(r, "as_of")


async def test_like_wildcards_match_literally(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]) -> None:
    body = {"item_code": "MKT-001", "applicant": APPLICANT, "submitted_materials": MATERIALS,
            "description": "折扣 100% 且 a_b"}
    r = await api.post("/cases", json=body, headers=tokens["clerk"])
    assert r.status_code == 201, r.text
    plain = {**body, "description": "普通"}
    assert (await api.post("/cases", json=plain, headers=tokens["clerk"])).status_code == 201
    everything = (await api.get("/cases", headers=tokens["manager"])).json()["total"]
    assert everything >= 2
    for q, expected in [("%", 1), ("_", 1), ("100%", 1), ("a_b", 1), ("a%b", 0), ("\\", 0)]:
        r = await api.get("/cases", params={"q": q}, headers=tokens["manager"])
        assert r.status_code == 200 and r.json()["total"] == expected, (q, r.text)


async def test_no_input_echoed(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]) -> None:
    r = await api.get("/cases", params={"q": "<script>alert(1)</script>\x00"}, headers=tokens["clerk"])
    assert r.status_code == 422 and "<script>" not in r.text


async def test_body_not_utf8(api: httpx.AsyncClient) -> None:
    r = await api.post("/auth/login", content=b'{"username": "\xff\xfe", "password": "x"}',
                       headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", r.text


async def test_body_above_the_limit_is_413(api: httpx.AsyncClient) -> None:
    big = {"username": "clerk", "password": "x" * (1_048_576 + 1)}
    r = await api.post("/auth/login", json=big)
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
        yield b'{"username": "clerk", "password": "'
        for _ in range(9):
            yield b"y" * 131_072
        yield b'"}'

    r = await api.post("/auth/login", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    ok = await api.post("/auth/login", json={"username": "clerk", "password": DEMO_PASSWORD})
    assert ok.status_code == 200, ok.text
