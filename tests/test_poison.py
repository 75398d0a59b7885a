"""Text PostgreSQL would refuse (NUL, lone surrogates, control characters) and codes that do not exist, in every field
an action persists: a clear 422 naming the field, nothing stored, and the case still usable."""

import copy
import json
from typing import Any

import httpx
import pytest

from tests.cases import ALL_MKT

APPLICANT = {"name": "李四", "phone": "13900139000", "id_number": "220201198802024325"}
REGISTRATION = {"item_code": "MKT-001", "applicant": APPLICANT, "submitted_materials": ALL_MKT, "hall": "市民服务中心",
                "window": "3", "description": "个体工商户设立"}
POISON = ["\u0000", "\ud800", "\u0007"]
Tokens = dict[str, dict[str, str]]

# (path, who, body, field paths to poison); "{case_no}" / "{consultation_id}" are filled in
ACTIONS: list[tuple[str, str, dict[str, Any], list[str]]] = [
    ("/cases", "clerk", REGISTRATION,
     ["item_code", "applicant.name", "hall", "window", "description", "submitted_materials.0"]),
    ("/cases/{case_no}/veto", "clerk", {"reasons": "不符合条件", "legal_basis": "《条例》第十二条"},
     ["reasons", "legal_basis"]),
    ("/cases/{case_no}/handover", "clerk", {"to_username": "clerk2", "reason": "换班"}, ["to_username", "reason"]),
    ("/cases/{case_no}/handling", "clerk", {"mode": "online", "address": "长春市"}, ["address"]),
    ("/cases/{case_no}/consultations", "manager",
     {"lead_department": "MKT", "departments": ["MKT", "HOUSING"], "question": "是否可办？", "documents": ["图纸"]},
     ["lead_department", "departments.1", "question", "documents.0"]),
    ("/cases/{case_no}/helper", "manager", {"username": "clerk2"}, ["username"]),
]
CONVENE = {"lead_department": "MKT", "departments": ["MKT", "HOUSING"], "question": "是否可办？"}
UNKNOWN: list[tuple[str, str, dict[str, Any], str, str]] = [  # references to things that do not exist
    ("/cases", "clerk", REGISTRATION, "item_code", "NOPE-999"),
    ("/cases", "clerk", REGISTRATION, "submitted_materials.0", "不存在的材料"),
    ("/cases/{case_no}/handover", "clerk", {"to_username": "clerk2"}, "to_username", "nobody"),
    ("/cases/{case_no}/helper", "manager", {"username": "clerk2"}, "username", "nobody"),
    ("/cases/{case_no}/consultations", "manager", CONVENE, "departments.1", "NOWHERE"),
    ("/cases/{case_no}/consultations", "manager", CONVENE, "lead_department", "NOWHERE"),
]


def _with(body: dict[str, Any], field: str, value: str) -> dict[str, Any]:
    out = copy.deepcopy(body)
    *parents, last = field.split(".")
    node: Any = out
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


async def _events(api: httpx.AsyncClient, tokens: Tokens, case_no: str) -> list[dict[str, Any]]:
    r = await api.get(f"/cases/{case_no}/events", headers=tokens["auditor"])
    assert r.status_code == 200, r.text
    events: list[dict[str, Any]] = r.json()
    return events


async def _send(api: httpx.AsyncClient, path: str, headers: dict[str, str], body: dict[str, Any]) -> httpx.Response:
    # json.dumps escapes a lone surrogate as \ud800, as a browser or a fuzzer would send it
    return await api.post(path, headers=headers | {"content-type": "application/json"}, content=json.dumps(body))


@pytest.fixture
async def case_no(api: httpx.AsyncClient, tokens: Tokens) -> str:
    r = await api.post("/cases", headers=tokens["clerk"], json=REGISTRATION)
    assert r.status_code == 201, r.text
    return str(r.json()["case_no"])


async def test_refused_text_in_any_field_is_a_422_and_stores_nothing(api: httpx.AsyncClient, tokens: Tokens,
                                                                    case_no: str) -> None:
    before = await _events(api, tokens, case_no)
    cases_before = (await api.get("/cases", headers=tokens["auditor"], params={"limit": 1})).json()["total"]
    for path, who, body, fields in ACTIONS:
        for field in fields:
            for bad in POISON:
                value = f"正常文字{bad}尾部"
                r = await _send(api, path.format(case_no=case_no), tokens[who], _with(body, field, value))
                assert r.status_code == 422, (path, field, repr(bad), r.text)
                error = r.json()["error"]
                assert error["message"] and "Traceback" not in r.text
                assert field.split(".")[0] in json.dumps(error), (path, field, error)
    assert await _events(api, tokens, case_no) == before
    assert (await api.get("/cases", headers=tokens["auditor"], params={"limit": 1})).json()["total"] == cases_before
    r = await api.post(f"/cases/{case_no}/accept", headers=tokens["clerk"])  # the case is still usable
    assert r.status_code == 200 and r.json()["status"] == "in_handling", r.text


async def test_unknown_references_are_a_422_and_store_nothing(api: httpx.AsyncClient, tokens: Tokens,
                                                             case_no: str) -> None:
    before = await _events(api, tokens, case_no)
    for path, who, body, field, value in UNKNOWN:
        r = await _send(api, path.format(case_no=case_no), tokens[who], _with(body, field, value))
        assert r.status_code == 422, (path, field, r.text)
    assert await _events(api, tokens, case_no) == before
    r = await api.get(f"/cases/{case_no}", headers=tokens["clerk"])
    assert r.json()["status"] == "registered"
    r = await api.post(f"/cases/{case_no}/consultations", headers=tokens["manager"],
                       json={"lead_department": "MKT", "departments": ["MKT", "HOUSING"], "question": "是否可办？"})
    assert r.status_code == 200 and r.json()["status"] == "in_consultation", r.text
    consultations = (await api.get(f"/cases/{case_no}/consultations", headers=tokens["manager"])).json()
    assert consultations[0]["deadline"], "the deadline is stored with the convened event"


async def test_refused_text_in_consultation_and_later_actions(api: httpx.AsyncClient, tokens: Tokens,
                                                             case_no: str) -> None:
    await api.post(f"/cases/{case_no}/accept", headers=tokens["clerk"])
    later = [("/cases/{case_no}/complete", "clerk", {"result": "已办结"}, ["result"])]
    for path, who, body, fields in later:
        for field in fields:
            r = await _send(api, path.format(case_no=case_no), tokens[who], _with(body, field, "a\u0000b"))
            assert r.status_code == 422, r.text
    r = await api.post(f"/cases/{case_no}/complete", headers=tokens["clerk"], json={"result": "已办结"})
    assert r.status_code == 200, r.text
    r = await _send(api, f"/cases/{case_no}/satisfaction", tokens["clerk"], {"grade": "satisfied", "comment": "\u0000"})
    assert r.status_code == 422, r.text
