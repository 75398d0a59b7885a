"""The department tree and the service catalogue as administrators edit them over HTTP: every operation and its
refusals (in Chinese by default, nothing stored by a refused request), the change log, and the rule that an edit
applies to new cases only — a running case keeps the time limits, materials and rules it was registered with."""

import asyncio
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casehall.models.tables import CatalogueChange, Department, ServiceItem
from tests.cases import ALL_MKT, documents

APPLICANT = {"name": "张三", "phone": "13800138000", "id_number": "220201199001011238"}
EN = {"Accept-Language": "en"}
Tokens = dict[str, dict[str, str]]


def error(r: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = r.json()["error"]
    return body


async def change_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(CatalogueChange)) or 0)


async def item_row(sessions: async_sessionmaker[AsyncSession], code: str) -> ServiceItem:
    async with sessions() as s:
        row = await s.get(ServiceItem, code)
        assert row is not None
        return row


async def register(api: httpx.AsyncClient, clerk: dict[str, str], item_code: str, materials: list[str]
                   ) -> httpx.Response:
    return await api.post("/cases", headers=clerk, json={"item_code": item_code, "applicant": APPLICANT,
                                                         "submitted_materials": materials})


async def accepted(api: httpx.AsyncClient, clerk: dict[str, str], case_no: str) -> dict[str, Any]:
    """Accept the case; its state and the payload of the event that set its deadline."""
    r = await api.post(f"/cases/{case_no}/accept", headers=clerk)
    assert r.status_code == 200, r.text
    events = (await api.get(f"/cases/{case_no}/events", headers=clerk)).json()
    return {"case": r.json(), "event": events[-1]}


# ---- departments -------------------------------------------------------------------------------------------------
async def test_department_lifecycle_and_its_log(api: httpx.AsyncClient, tokens: Tokens,
                                                sessions: async_sessionmaker[AsyncSession]) -> None:
    admin = tokens["admin"]
    body = {"code": "MKT-LIC", "name": "许可审批科", "kind": "section", "parent_code": "MKT", "reason": "机构设置"}
    r = await api.post("/departments", headers=admin, json=body)
    assert r.status_code == 201, r.text
    assert r.json() == {"code": "MKT-LIC", "name": "许可审批科", "kind": "section", "parent_code": "MKT",
                        "doc_prefix": "", "reconsideration_body": "", "court": "", "active": True, "version": 1,
                        "users": 0, "items": 0, "open_cases": 0}

    r = await api.patch("/departments/MKT-LIC", headers=admin, json={"version": 1, "name": "行政许可科"})
    assert r.status_code == 200 and r.json()["name"] == "行政许可科" and r.json()["version"] == 2
    same = await api.patch("/departments/MKT-LIC", headers=admin, json={"version": 2, "name": "行政许可科"})
    assert same.status_code == 200 and same.json()["version"] == 2  # nothing changed: nothing logged

    r = await api.post("/departments/MKT-LIC/deactivate", headers=admin, json={"reason": "并入登记注册科"})
    assert r.status_code == 200 and r.json()["active"] is False
    again = await api.post("/departments/MKT-LIC/deactivate", headers=admin, json={"reason": "再次"})
    assert again.status_code == 409 and error(again)["message"] == "部门 MKT-LIC 已经停用"
    under = await api.post("/departments", headers=admin, json={"code": "X-1", "name": "某科", "kind": "section",
                                                                "parent_code": "MKT-LIC"})
    assert under.status_code == 422 and error(under)["field"] == "parent_code"
    assert error(under)["message"] == "部门 MKT-LIC 已停用：请选择在用的部门"
    r = await api.post("/departments/MKT-LIC/reactivate", headers=admin, json={})
    assert r.status_code == 200 and r.json()["active"] is True and r.json()["version"] == 4

    r = await api.delete("/departments/MKT-LIC", headers=admin, params={"reason": "建错了"})
    assert r.status_code == 204
    assert (await api.patch("/departments/MKT-LIC", headers=admin, json={"version": 4})).status_code == 404

    log = (await api.get("/catalogue/changes", headers=tokens["auditor"],
                         params={"entity": "department", "code": "MKT-LIC"})).json()
    assert [c["action"] for c in log["items"]] == ["deleted", "reactivated", "deactivated", "updated", "created"]
    created, updated, deleted = log["items"][-1], log["items"][-2], log["items"][0]
    assert created["before"] is None and created["after"]["name"] == "许可审批科" and created["reason"] == "机构设置"
    assert updated["before"]["name"] == "许可审批科" and updated["after"]["name"] == "行政许可科"
    assert deleted["after"] is None and deleted["reason"] == "建错了"
    assert {c["actor_username"] for c in log["items"]} == {"admin"} and created["address"]
    async with sessions() as s:
        assert await s.get(Department, "MKT-LIC") is None


async def test_the_tree_keeps_its_shape(api: httpx.AsyncClient, tokens: Tokens,
                                        sessions: async_sessionmaker[AsyncSession]) -> None:
    admin = {**tokens["admin"], **EN}
    before = await change_count(sessions)
    refusals: list[tuple[dict[str, str], int, str, str]] = [
        ({"code": "MKT", "name": "重复", "kind": "department", "parent_code": "CITY"}, 409, "code",
         "a department with code MKT exists already"),
        ({"code": "NEW-1", "name": "某处", "kind": "department", "parent_code": "NOWHERE"}, 422, "parent_code",
         "no department with code NOWHERE"),
        ({"code": "NEW-1", "name": "某处", "kind": "department"}, 422, "parent_code",
         "only a bureau may stand at the top of the tree: choose a parent for NEW-1"),
        ({"code": "NEW-1", "name": "某处", "kind": "department", "parent_code": "MKT-REG"}, 422, "kind",
         "NEW-1 cannot stand under MKT-REG: a bureau holds departments and sections, a department holds sections, "
         "a section holds nothing"),
        ({"code": "NEW-1", "name": "某处", "kind": "bureau", "parent_code": "CITY"}, 422, "kind",
         "NEW-1 cannot stand under CITY: a bureau holds departments and sections, a department holds sections, "
         "a section holds nothing"),
    ]
    for body, status, field, message in refusals:
        r = await api.post("/departments", headers=admin, json=body)
        assert (r.status_code, error(r)["field"], error(r)["message"]) == (status, field, message), body
    edits = [
        ("CITY", {"version": 1, "parent_code": "MKT"}, 422, "parent_code",
         "CITY cannot stand under MKT: that would make a loop in the tree"),
        ("MKT", {"version": 1, "parent_code": "MKT"}, 422, "parent_code",
         "MKT cannot stand under MKT: that would make a loop in the tree"),
        ("MKT", {"version": 1, "kind": "section"}, 422, "kind",
         "MKT-REG cannot stand under MKT: a bureau holds departments and sections, a department holds sections, "
         "a section holds nothing"),
        ("MKT", {"version": 1, "code": "MARKET"}, 422, "code",
         "the code of MKT cannot be changed: it is printed on its cases and documents; create a new one instead"),
        ("MKT", {"version": 7, "name": "市场局"}, 409, "version",
         "MKT was changed by someone else (now version 1, yours 7): reload it and make your change again"),
    ]
    for code, patch, status, field, message in edits:
        r = await api.patch(f"/departments/{code}", headers=admin, json=patch)
        assert (r.status_code, error(r)["field"], error(r)["message"]) == (status, field, message), patch
    bad = [{"code": "A B", "name": "x", "kind": "section", "parent_code": "MKT"},
           {"code": "NEW-2", "name": "", "kind": "section", "parent_code": "MKT"},
           {"code": "NEW-2", "name": "x", "kind": "office", "parent_code": "MKT"},
           {"code": "NEW-2", "name": "x" * 201, "kind": "section", "parent_code": "MKT"},
           {"code": "NEW-2", "name": "x", "kind": "section", "parent_code": "MKT", "active": False},
           {"code": "NEW-2", "name": "x\x00", "kind": "section", "parent_code": "MKT"}]
    for wrong in bad:
        r = await api.post("/departments", headers=tokens["admin"], json=wrong)
        assert r.status_code == 422 and error(r)["code"] == "validation_error", (wrong, r.text)
    chinese = await api.post("/departments", headers=tokens["admin"], json=refusals[3][0])
    assert error(chinese)["message"] == "NEW-1 不能设在 MKT-REG 之下：局下设部门和科室，部门下设科室，科室下不再设机构"
    assert await change_count(sessions) == before  # nothing refused was stored or logged
    tree = {d["code"]: d for d in (await api.get("/departments", headers=tokens["admin"])).json()}
    assert "NEW-1" not in tree and tree["CITY"]["parent_code"] is None and tree["MKT"]["version"] == 1

    moved = await api.patch("/departments/MKT-REG", headers=admin, json={"version": 1, "parent_code": "HOUSING"})
    assert moved.status_code == 200 and moved.json()["parent_code"] == "HOUSING"
    back = await api.patch("/departments/MKT-REG", headers=admin, json={"version": 2, "parent_code": "MKT"})
    assert back.status_code == 200 and back.json()["parent_code"] == "MKT"


async def test_a_department_in_use_is_neither_deactivated_nor_deleted(
        api: httpx.AsyncClient, tokens: Tokens, sessions: async_sessionmaker[AsyncSession]) -> None:
    admin = tokens["admin"]
    case = await register(api, tokens["clerk"], "HOUSING-002", ["施工合同", "施工图审查合格书"])
    assert case.status_code == 201, case.text
    before = await change_count(sessions)
    r = await api.post("/departments/HOUSING/deactivate", headers=admin, json={"reason": "撤并"})
    assert r.status_code == 409
    assert error(r)["message"] == ("HOUSING 尚有在用用户 1 名、在办事项 1 项、未办结办件 1 件、进行中的联合会商 0 件、"
                                   "在用下级部门 0 个，不能停用：请先转移或办结")
    r = await api.post("/departments/CITY/deactivate", headers={**admin, **EN}, json={"reason": "撤并"})
    assert r.status_code == 409 and "sub-department(s) in use" in error(r)["message"]
    r = await api.delete("/departments/SOCIAL", headers=admin)
    assert r.status_code == 409 and "不能删除；请改为停用" in error(r)["message"]
    assert (await api.post("/departments/HOUSING/reactivate", headers=admin, json={})).status_code == 409
    assert await change_count(sessions) == before
    tree = {d["code"]: d for d in (await api.get("/departments", headers=tokens["auditor"])).json()}
    assert tree["HOUSING"]["active"]
    assert (tree["HOUSING"]["users"], tree["HOUSING"]["items"], tree["HOUSING"]["open_cases"]) == (1, 1, 1)


# ---- service items -----------------------------------------------------------------------------------------------
NEW_ITEM = {"code": "MKT-010", "name": "食品经营许可", "department_code": "MKT", "time_limit_days": 10,
            "expedited_days": 5, "materials": [{"name": "食品经营许可申请书", "main": True, "how_to_supply": "原件"},
                                               {"name": "场所平面图", "main": False}],
            "rules": {"supplement_days": 10, "supplement_reminder_days": 2}}


async def test_items_are_created_and_checked(api: httpx.AsyncClient, tokens: Tokens,
                                             sessions: async_sessionmaker[AsyncSession]) -> None:
    admin = tokens["admin"]
    r = await api.post("/items", headers=admin, json=NEW_ITEM)
    assert r.status_code == 201, r.text
    item = r.json()
    assert item["materials"] == [{"name": "食品经营许可申请书", "main": True, "how_to_supply": "原件"},
                                 {"name": "场所平面图", "main": False, "how_to_supply": ""}]
    assert item["rules"]["supplement_days"] == 10 and item["rules"]["veto_escalation_days"] == 2
    assert item["withdrawn_at"] is None and item["version"] == 1
    detail = (await api.get("/items/MKT-010", headers=tokens["clerk"])).json()
    assert (detail["cases"], detail["open_cases"]) == (0, 0)

    before = await change_count(sessions)
    refused = [
        ({**NEW_ITEM}, 409, "code", "a service item with code MKT-010 exists already"),
        ({**NEW_ITEM, "code": "MKT-011", "department_code": "NONE"}, 422, "department_code",
         "no department with code NONE"),
        ({**NEW_ITEM, "code": "MKT-011", "expedited_days": 11}, 422, None,
         "the expedited time limit (11 working days) cannot be longer than the normal time limit (10 working days)"),
        ({**NEW_ITEM, "code": "MKT-011", "time_limit_days": 0}, 422, "time_limit_days", "must be at least 1"),
        ({**NEW_ITEM, "code": "MKT-011", "materials": [{"name": "申请书"}, {"name": "申请书"}]}, 422, None,
         "material 申请书 is listed twice"),
        ({**NEW_ITEM, "code": "MKT-011", "rules": {"veto_reminder_days": 2, "veto_escalation_days": 2}}, 422,
         "rules", "the veto reminder (2 working days) must come before the escalation to the director "
         "(2 working days)"),
        ({**NEW_ITEM, "code": "MKT-011", "rules": {"supplement_days": 400}}, 422, "rules.supplement_days",
         "must be at most 60"),
        ({**NEW_ITEM, "code": "MKT-011", "materials": [{"name": "申请书", "copies": 2}]}, 422,
         "materials.0.copies", "is not an allowed field"),
    ]
    for body, status, field, message in refused:
        r = await api.post("/items", headers={**admin, **EN}, json=body)
        assert r.status_code == status and error(r)["field"] == field, (body, r.text)
        assert message in error(r)["message"], (body, r.text)
    r = await api.post("/items", headers=admin, json={**NEW_ITEM, "code": "MKT-011", "expedited_days": 11})
    assert error(r)["message"] == "加急时限（11 个工作日）不能长于法定时限（10 个工作日）"
    r = await api.post("/items", headers=admin, json={**NEW_ITEM, "code": "MKT-011",
                                                      "materials": [{"name": "申" * 201}]})
    assert r.status_code == 422 and error(r)["field"] == "materials.0.name"
    r = await api.post("/items", headers=admin, json={**NEW_ITEM, "code": "MKT-011",
                                                      "materials": [{"name": f"材料{n}"} for n in range(51)]})
    assert r.status_code == 422 and error(r)["field"] == "materials"
    async with sessions() as s:
        assert await s.get(ServiceItem, "MKT-011") is None
    assert await change_count(sessions) == before

    assert (await api.post("/items", headers=tokens["clerk"], json={**NEW_ITEM, "code": "MKT-012"})).status_code == 403
    r = await api.patch("/items/MKT-010", headers=tokens["auditor"], json={"version": 1, "name": "改名"})
    assert r.status_code == 403 and error(r)["message"] == "只有管理员可以修改部门和办事事项目录"


async def test_item_edits_are_checked_against_what_is_stored(
        api: httpx.AsyncClient, tokens: Tokens, sessions: async_sessionmaker[AsyncSession]) -> None:
    admin = {**tokens["admin"], **EN}
    assert (await register(api, tokens["clerk"], "HOUSING-002", ["施工合同", "施工图审查合格书"])).status_code == 201
    version = (await item_row(sessions, "HOUSING-002")).version
    before = await change_count(sessions)
    r = await api.patch("/items/HOUSING-002", headers=admin, json={"version": version, "expedited_days": 8})
    assert (r.status_code, error(r)["field"]) == (422, "expedited_days")
    assert error(r)["message"] == ("the expedited time limit (8 working days) cannot be longer than the normal time "
                                   "limit (7 working days)")
    r = await api.patch("/items/HOUSING-002", headers=admin, json={"version": version, "time_limit_days": 2})
    assert (r.status_code, error(r)["field"]) == (422, "time_limit_days")
    r = await api.patch("/items/HALL-COMBINED", headers=admin, json={"version": 1, "materials": [{"name": "申请书"}]})
    assert r.status_code == 422 and "has no materials of its own" in error(r)["message"]
    r = await api.post("/items/HALL-COMBINED/withdraw", headers=admin, json={"reason": "不用了"})
    assert r.status_code == 409 and "cannot be withdrawn" in error(r)["message"]
    r = await api.patch("/items/NOPE", headers=admin, json={"version": 1, "name": "x"})
    assert r.status_code == 404 and error(r)["message"] == "no service item with code NOPE"
    r = await api.patch("/items/HOUSING-002", headers=admin, json={"version": version, "department_code": "SOCIAL"})
    assert r.status_code == 409 and error(r)["field"] == "department_code"
    assert "case(s) were registered on HOUSING-002 under HOUSING" in error(r)["message"]
    r = await api.post("/items/HOUSING-002/withdraw", headers=admin, json={"reason": ""})
    assert r.status_code == 422 and error(r)["field"] == "reason"
    assert await change_count(sessions) == before
    assert (await item_row(sessions, "HOUSING-002")).version == version

    # An item nobody registered a case on moves to another department.
    created = await api.post("/items", headers=admin, json={**NEW_ITEM, "code": "MKT-020"})
    assert created.status_code == 201
    moved = await api.patch("/items/MKT-020", headers=admin, json={"version": 1, "department_code": "SOCIAL"})
    assert moved.status_code == 200 and moved.json()["department_code"] == "SOCIAL"


async def test_two_administrators_editing_at_once(api: httpx.AsyncClient, tokens: Tokens,
                                                  sessions: async_sessionmaker[AsyncSession]) -> None:
    version = (await item_row(sessions, "SOCIAL-003")).version
    first, second = await asyncio.gather(
        api.patch("/items/SOCIAL-003", headers=tokens["admin"], json={"version": version, "time_limit_days": 20}),
        api.patch("/items/SOCIAL-003", headers=tokens["admin"], json={"version": version, "time_limit_days": 30}))
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    won = first if first.status_code == 200 else second
    row = await item_row(sessions, "SOCIAL-003")
    assert (row.time_limit_days, row.version) == (won.json()["time_limit_days"], version + 1)


async def test_an_edit_applies_to_new_cases_only(api: httpx.AsyncClient, tokens: Tokens) -> None:
    """Cases registered before an edit keep the item they were registered with (time limit and materials), accepted
    before the edit or after it; a case registered after the edit gets the new time limit and materials."""
    admin, clerk = tokens["admin"], tokens["clerk"]
    running = await register(api, clerk, "MKT-001", ALL_MKT)
    waiting = await register(api, clerk, "MKT-001", ALL_MKT)
    assert running.status_code == waiting.status_code == 201
    first = await accepted(api, clerk, running.json()["case_no"])
    assert first["event"]["payload"]["working_days"] == 3

    item = (await api.get("/items/MKT-001", headers=admin)).json()
    materials = [*item["materials"], {"name": "食品安全承诺书", "main": True, "how_to_supply": "签字原件"}]
    r = await api.patch("/items/MKT-001", headers=admin, json={"version": item["version"], "time_limit_days": 10,
                                                               "materials": materials, "reason": "新规定"})
    assert r.status_code == 200 and r.json()["time_limit_days"] == 10

    still = (await api.get(f"/cases/{running.json()['case_no']}", headers=clerk)).json()
    assert still["deadline"] == first["case"]["deadline"] and still["status"] == "in_handling"
    late = await accepted(api, clerk, waiting.json()["case_no"])  # registered before the edit, accepted after it
    assert late["event"]["payload"]["working_days"] == 3 and late["case"]["status"] == "in_handling"
    assert late["case"]["missing_materials"] == []

    new = await register(api, clerk, "MKT-001", ALL_MKT)
    assert new.status_code == 201 and new.json()["missing_materials"] == ["食品安全承诺书"]
    newer = await register(api, clerk, "MKT-001", [*ALL_MKT, "食品安全承诺书"])
    fresh = await accepted(api, clerk, newer.json()["case_no"])
    assert fresh["event"]["payload"]["working_days"] == 10 and fresh["case"]["deadline"] > late["case"]["deadline"]


async def test_a_withdrawn_item_is_not_offered_but_its_cases_keep_it(
        api: httpx.AsyncClient, tokens: Tokens) -> None:
    admin, clerk = tokens["admin"], tokens["clerk"]
    assert (await api.post("/items", headers=admin, json={**NEW_ITEM, "code": "MKT-030"})).status_code == 201
    case = await register(api, clerk, "MKT-030", ["食品经营许可申请书", "场所平面图"])
    assert case.status_code == 201
    r = await api.post("/items/MKT-030/withdraw", headers=admin, json={"reason": "事项取消"})
    assert r.status_code == 200 and r.json()["withdrawn_at"] is not None
    again = await api.post("/items/MKT-030/withdraw", headers=admin, json={"reason": "事项取消"})
    assert again.status_code == 409 and error(again)["message"] == "办事事项 MKT-030 已经下架"

    refused = await register(api, clerk, "MKT-030", ["食品经营许可申请书"])
    assert refused.status_code == 422 and error(refused)["field"] == "item_code"
    assert error(refused)["message"].startswith("办事事项 MKT-030 已于 20")
    assert error(refused)["message"].endswith("从目录下架，不能用于登记新办件")
    combined = await api.post("/cases/combined", headers=clerk, json={"applicant": APPLICANT, "matters": [
        {"item_code": "MKT-030", "submitted_materials": []}, {"item_code": "SOCIAL-003", "submitted_materials": []}]})
    assert combined.status_code == 422

    case_no = case.json()["case_no"]
    assert (await api.get(f"/cases/{case_no}", headers=clerk)).json()["item_code"] == "MKT-030"
    assert (await api.post(f"/cases/{case_no}/accept", headers=clerk)).status_code == 200  # it runs on
    listed = {i["code"]: i for i in (await api.get("/items", headers=clerk)).json()}
    assert listed["MKT-030"]["withdrawn_at"] is not None and listed["MKT-030"]["name"] == "食品经营许可"

    r = await api.post("/departments/MKT/deactivate", headers={**admin, **EN}, json={"reason": "x"})
    assert r.status_code == 409  # MKT still has users, items and open cases
    r = await api.post("/items/MKT-030/reinstate", headers=admin, json={"reason": "恢复办理"})
    assert r.status_code == 200 and r.json()["withdrawn_at"] is None
    assert (await register(api, clerk, "MKT-030", ["食品经营许可申请书"])).status_code == 201
    assert (await api.post("/items/MKT-030/reinstate", headers=admin, json={})).status_code == 409


async def test_change_log_reads(api: httpx.AsyncClient, tokens: Tokens) -> None:
    for who in ("clerk", "manager", "director"):
        r = await api.get("/catalogue/changes", headers=tokens[who])
        assert r.status_code == 403, who
        assert error(r)["message"] == "只有管理员和督查人员可以查看部门管理信息和目录变更记录"
    assert (await api.get("/departments", headers=tokens["manager"])).status_code == 403
    assert (await api.get("/catalogue/changes")).status_code == 401

    everything = (await api.get("/catalogue/changes", headers=tokens["admin"], params={"limit": 200})).json()
    assert everything["next_before"] is None and len(everything["items"]) >= 10
    ids = [c["id"] for c in everything["items"]]
    assert ids == sorted(ids, reverse=True)
    page = (await api.get("/catalogue/changes", headers=tokens["auditor"], params={"limit": 3})).json()
    assert [c["id"] for c in page["items"]] == ids[:3] and page["next_before"] == ids[2]
    rest = (await api.get("/catalogue/changes", headers=tokens["auditor"],
                          params={"limit": 3, "before": page["next_before"]})).json()
    assert [c["id"] for c in rest["items"]] == ids[3:6]

    edit = next(c for c in everything["items"] if c["code"] == "MKT-001" and c["action"] == "updated")
    assert (edit["before"]["time_limit_days"], edit["after"]["time_limit_days"]) == (3, 10)
    assert len(edit["after"]["materials"]) == len(edit["before"]["materials"]) + 1 and edit["reason"] == "新规定"
    withdrawn = [c["action"] for c in everything["items"] if c["code"] == "MKT-030"]
    assert withdrawn == ["reinstated", "withdrawn", "created"]
    items_only = (await api.get("/catalogue/changes", headers=tokens["admin"], params={"entity": "item"})).json()
    assert {c["entity"] for c in items_only["items"]} == {"item"}
    bad = await api.get("/catalogue/changes", headers=tokens["admin"], params={"entity": "user"})
    assert bad.status_code == 422
    mine = (await api.get("/catalogue/changes", headers=tokens["auditor"], params={"by": "admin", "limit": 200})).json()
    assert [c["id"] for c in mine["items"]] == [c["id"] for c in everything["items"] if c["actor_username"] == "admin"]
    assert mine["items"]
    nobody = (await api.get("/catalogue/changes", headers=tokens["auditor"], params={"by": "clerk"})).json()
    assert nobody == {"items": [], "next_before": None}
    assert (await api.get("/catalogue/changes", headers=tokens["admin"], params={"by": ""})).status_code == 422


async def test_notices_name_the_item_as_it_was_registered(api: httpx.AsyncClient, tokens: Tokens,
                                                          sessions: async_sessionmaker[AsyncSession]) -> None:
    """A rename reaches the notices of cases registered after it, not those of cases registered before."""
    admin, clerk = tokens["admin"], tokens["clerk"]
    assert (await api.post("/items", headers=admin, json={**NEW_ITEM, "code": "MKT-040"})).status_code == 201
    before = await register(api, clerk, "MKT-040", [])  # the main material missing: accepting issues a notice
    r = await api.patch("/items/MKT-040", headers=admin, json={"version": 1, "name": "食品经营许可（新）"})
    assert r.status_code == 200
    after = await register(api, clerk, "MKT-040", [])
    names = []
    for case in (before, after):
        case_no = case.json()["case_no"]
        assert (await accepted(api, clerk, case_no))["case"]["status"] == "awaiting_materials"
        [notice] = await documents(sessions, case_no)
        names.append((notice.kind, notice.content["item_name"], notice.content["authority"]["code"]))
    assert names == [("one_time_notice", "食品经营许可", "MKT"), ("one_time_notice", "食品经营许可（新）", "MKT")]


async def test_a_department_out_of_use_is_not_consulted_and_the_demo_seed_keeps_edits(
        api: httpx.AsyncClient, tokens: Tokens, sessions: async_sessionmaker[AsyncSession]) -> None:
    """A consultation naming a department taken out of use is refused before anything is recorded; seeding the
    demo again (every ``make run``) leaves what an administrator edited as it is."""
    from casehall.stack.seed import seed_demo

    admin, clerk = tokens["admin"], tokens["clerk"]
    body = {"code": "MKT-OLD", "name": "旧科", "kind": "section", "parent_code": "MKT", "reason": "试用"}
    assert (await api.post("/departments", headers=admin, json=body)).status_code == 201
    retired = await api.post("/departments/MKT-OLD/deactivate", headers=admin, json={"reason": "撤并"})
    assert retired.status_code == 200, retired.text
    case = (await register(api, clerk, "MKT-001", ALL_MKT)).json()
    before = (await api.get(f"/cases/{case['case_no']}/events", headers=clerk)).json()
    r = await api.post(f"/cases/{case['case_no']}/consultations", headers=tokens["manager"], json={
        "lead_department": "MKT", "departments": ["MKT-OLD"], "question": "能否登记？", "deadline_days": 3})
    assert r.status_code == 422 and error(r)["field"] == "departments", r.text
    assert error(r)["message"].endswith("部门 MKT-OLD 已停用：请选择在用的部门")
    assert (await api.get(f"/cases/{case['case_no']}/events", headers=clerk)).json() == before

    mkt = (await api.get("/departments", headers=admin)).json()
    version = next(d["version"] for d in mkt if d["code"] == "MKT")
    r = await api.patch("/departments/MKT", headers=admin, json={"version": version, "name": "市场监管局（改）"})
    assert r.status_code == 200, r.text
    await seed_demo(sessions)
    async with sessions() as s:
        kept = await s.get(Department, "MKT")
        assert kept is not None and kept.name == "市场监管局（改）"
