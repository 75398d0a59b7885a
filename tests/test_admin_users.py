"""User administration through the HTTP API: each operation, each refusal (in Chinese by default, nothing stored),
tokens revoked on disable and on password reset, the self and last-administrator guards (also under two
administrators disabling each other at once), every change recorded (never a password), non-admins refused."""

import asyncio
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from casehall.models.tables import AdminChange, Department, User
from casehall.stack.seed import DEMO_PASSWORD
from casehall.store import accounts

NEW_PASSWORD = "Window-2026"
EN = {"Accept-Language": "en"}


def error(r: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = r.json()["error"]
    return body


async def login(api: httpx.AsyncClient, username: str, password: str = DEMO_PASSWORD) -> httpx.Response:
    return await api.post("/auth/login", json={"username": username, "password": password})


async def bearer(api: httpx.AsyncClient, username: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    r = await login(api, username, password)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def create(api: httpx.AsyncClient, admin: dict[str, str], username: str, role: str = "clerk",
                 department: str = "MKT", **extra: str) -> httpx.Response:
    return await api.post("/admin/users", headers=admin, json={
        "username": username, "display_name": extra.pop("display_name", "王办事员"), "role": role,
        "department_code": department, "password": extra.pop("password", NEW_PASSWORD), **extra})


async def changes_of(api: httpx.AsyncClient, headers: dict[str, str], target: str) -> list[dict[str, Any]]:
    r = await api.get("/admin/changes", headers=headers, params={"target": target})
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def user_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(User)) or 0)


async def test_list_filters_and_pages(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]) -> None:
    admin = tokens["admin"]
    everyone = (await api.get("/admin/users", headers=admin, params={"limit": 200})).json()
    names = [u["username"] for u in everyone["items"]]
    assert names == sorted(names) and {"clerk", "manager", "admin"} <= set(names)
    assert everyone["total"] == len(names)
    assert "password_hash" not in everyone["items"][0] and "password" not in json.dumps(everyone)
    managers = (await api.get("/admin/users", headers=admin, params={"role": "manager"})).json()
    assert {"manager", "manager-housing"} <= {u["username"] for u in managers["items"]}
    assert all(u["role"] == "manager" for u in managers["items"]) and managers["total"] == len(managers["items"])
    mkt = (await api.get("/admin/users", headers=admin, params={"department": "MKT"})).json()
    assert mkt["items"] and all(u["department_code"] == "MKT" for u in mkt["items"])
    assert "manager" in {u["username"] for u in mkt["items"]} and "clerk" not in {u["username"] for u in mkt["items"]}
    found = (await api.get("/admin/users", headers=admin, params={"q": "housing"})).json()
    assert [u["username"] for u in found["items"]] == ["manager-housing"]
    assert (await api.get("/admin/users", headers=admin, params={"q": "%"})).json()["total"] == 0  # no wildcard
    first = (await api.get("/admin/users", headers=admin, params={"limit": 2})).json()
    second = (await api.get("/admin/users", headers=admin, params={"limit": 2, "offset": 2})).json()
    assert [u["username"] for u in first["items"] + second["items"]] == names[:4]
    assert first["total"] == second["total"] == len(names)
    bad = await api.get("/admin/users", headers=admin, params={"role": "boss"})
    assert bad.status_code == 422 and "应为以下之一" in error(bad)["message"], bad.text
    assert (await api.get("/admin/users", headers=admin, params={"limit": 500})).status_code == 422
    one = await api.get("/admin/users/manager", headers=admin)
    assert one.status_code == 200 and one.json()["role"] == "manager" and one.json()["active"] is True
    assert one.json()["last_sign_in"] is not None  # the tokens fixture signed everyone in
    missing = await api.get("/admin/users/nobody", headers=admin)
    assert missing.status_code == 404 and error(missing)["message"] == "没有用户名为 nobody 的用户"


async def test_create_a_user_who_then_signs_in(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]],
                                               sessions: async_sessionmaker[AsyncSession]) -> None:
    admin = tokens["admin"]
    r = await create(api, admin, "wang.clerk", title="科员")
    assert r.status_code == 201, r.text
    assert r.json() | {"last_sign_in": None} == {
        "username": "wang.clerk", "display_name": "王办事员", "title": "科员", "role": "clerk",
        "department_code": "MKT", "active": True, "last_sign_in": None, "locked_until": None}
    signed = await login(api, "wang.clerk", NEW_PASSWORD)
    assert signed.status_code == 200 and signed.json()["role"] == "clerk"
    [record] = await changes_of(api, admin, "wang.clerk")
    assert record["action"] == "create" and record["actor"] == "admin"
    assert record["changes"] == {"display_name": "王办事员", "title": "科员", "role": "clerk",
                                 "department_code": "MKT", "active": True}
    assert NEW_PASSWORD not in json.dumps(record) and "scrypt" not in json.dumps(record)


@pytest.mark.parametrize(("body", "status", "code", "field", "says"), [
    ({"username": "clerk"}, 409, "username_taken", "username", "用户名 clerk 已被占用，请换一个"),
    ({"password": "short1A"}, 422, "weak_password", "password", "密码至少需要 10 个字符，当前只有 7 个"),
    ({"password": "alllowercaseletters"}, 422, "weak_password", "password", "至少混用以下两类字符"),
    ({"password": "x-li.clerk-2026"}, 422, "weak_password", "password", "不能包含用户名"),
    ({"department_code": "NOPE"}, 422, "unknown_department", "department_code", "NOPE"),
    ({"role": "operator"}, 422, "validation_error", "role", "应为以下之一"),
    ({"username": "Li Clerk"}, 422, "validation_error", "username", "格式"),
    ({"display_name": "x" * 65}, 422, "validation_error", "display_name", "64"),
    ({"display_name": "王\x00"}, 422, "validation_error", "display_name", ""),
    ({"password_hash": "scrypt$00$00"}, 422, "validation_error", "password_hash", ""),
])
async def test_create_refusals_store_nothing(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]],
                                             sessions: async_sessionmaker[AsyncSession], body: dict[str, str],
                                             status: int, code: str, field: str, says: str) -> None:
    before = await user_count(sessions)
    fields = {"username": "li.clerk", "display_name": "李办事员", "role": "clerk", "department_code": "MKT",
              "password": NEW_PASSWORD} | body
    r = await api.post("/admin/users", headers=tokens["admin"], json=fields)
    assert r.status_code == status, r.text
    assert error(r)["code"] == code and error(r)["field"] == field and says in error(r)["message"], r.text
    assert await user_count(sessions) == before
    assert await changes_of(api, tokens["admin"], "li.clerk") == []


async def test_a_department_out_of_use_gets_no_active_account(api: httpx.AsyncClient,
                                                               tokens: dict[str, dict[str, str]],
                                                               sessions: async_sessionmaker[AsyncSession]) -> None:
    admin = tokens["admin"]
    async with sessions() as s, s.begin():
        s.add(Department(code="OLD", name="已撤并的科室", kind="department", parent_code="CITY"))
    assert (await create(api, admin, "old.clerk", department="OLD")).status_code == 201
    assert (await api.post("/admin/users/old.clerk/disable", headers=admin)).status_code == 200
    async with sessions() as s, s.begin():
        await s.execute(update(Department).where(col(Department.code) == "OLD").values(active=False))
    refused = await create(api, admin, "new.clerk", department="OLD")
    assert refused.status_code == 422 and error(refused)["field"] == "department_code"
    assert error(refused)["message"] == "部门 OLD 已停用：请选择在用的部门"
    moved = await api.patch("/admin/users/clerk2", headers=admin, json={"department_code": "OLD"})
    assert moved.status_code == 422 and error(moved)["code"] == "department_out_of_use"
    enable = await api.post("/admin/users/old.clerk/enable", headers=admin)
    assert enable.status_code == 409
    assert error(enable)["message"] == "old.clerk 所属的部门 OLD 已停用：请先将其调到在用的部门"
    assert (await api.patch("/admin/users/old.clerk", headers=admin, json={"department_code": "MKT"})).is_success
    assert (await api.post("/admin/users/old.clerk/enable", headers=admin)).json()["active"] is True
    assert (await api.get("/admin/users/clerk2", headers=admin)).json()["department_code"] == "CITY"


async def test_english_on_request(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]) -> None:
    r = await api.post("/admin/users", headers=tokens["admin"] | EN, json={
        "username": "clerk", "display_name": "x", "role": "clerk", "department_code": "MKT", "password": NEW_PASSWORD})
    assert r.status_code == 409 and error(r)["message"] == "a user named clerk already exists: choose another username"


async def test_edit_records_what_changed(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]) -> None:
    admin = tokens["admin"]
    assert (await create(api, admin, "zhao.clerk", display_name="赵办事员")).status_code == 201
    r = await api.patch("/admin/users/zhao.clerk", headers=admin, json={
        "display_name": "赵科长", "title": "科长", "role": "manager", "department_code": "HOUSING"})
    assert r.status_code == 200, r.text
    assert (r.json()["display_name"], r.json()["title"], r.json()["role"], r.json()["department_code"]) == \
        ("赵科长", "科长", "manager", "HOUSING")
    me = await api.get("/auth/me", headers=await bearer(api, "zhao.clerk", NEW_PASSWORD))
    assert me.json()["role"] == "manager" and me.json()["department_code"] == "HOUSING"
    latest = (await changes_of(api, admin, "zhao.clerk"))[0]
    assert latest["action"] == "update" and latest["changes"] == {
        "display_name": ["赵办事员", "赵科长"], "title": ["", "科长"], "role": ["clerk", "manager"],
        "department_code": ["MKT", "HOUSING"]}
    same = await api.patch("/admin/users/zhao.clerk", headers=admin, json={"title": "科长"})
    assert same.status_code == 200 and len(await changes_of(api, admin, "zhao.clerk")) == 2  # nothing changed

    for body, status, says in [({}, 422, "请至少填写一项要修改的内容"),
                               ({"department_code": "NOPE"}, 422, "NOPE"),
                               ({"role": "boss"}, 422, "应为以下之一"),
                               ({"title": "x" * 33}, 422, "32"),
                               ({"active": False}, 422, "不是允许的字段")]:
        refused = await api.patch("/admin/users/zhao.clerk", headers=admin, json=body)
        assert refused.status_code == status and says in error(refused)["message"], (body, refused.text)
    assert (await api.get("/admin/users/zhao.clerk", headers=admin)).json()["department_code"] == "HOUSING"
    assert len(await changes_of(api, admin, "zhao.clerk")) == 2
    missing = await api.patch("/admin/users/nobody", headers=admin, json={"title": "科员"})
    assert missing.status_code == 404 and error(missing)["message"] == "没有用户名为 nobody 的用户"


async def test_an_admin_keeps_their_own_role_and_account(api: httpx.AsyncClient,
                                                         tokens: dict[str, dict[str, str]]) -> None:
    admin = tokens["admin"]
    demote = await api.patch("/admin/users/admin", headers=admin, json={"role": "auditor"})
    assert demote.status_code == 409 and error(demote)["message"] == "不能更改自己的角色，请由另一位管理员操作"
    own = await api.patch("/admin/users/admin", headers=admin, json={"role": "admin", "title": "主任"})
    assert own.status_code == 200 and own.json()["title"] == "主任"  # the same role is no change of role
    disable = await api.post("/admin/users/admin/disable", headers=admin)
    assert disable.status_code == 409 and error(disable)["message"] == "不能停用自己的账号，请由另一位管理员操作"
    assert (await api.get("/auth/me", headers=admin)).status_code == 200
    assert [c["action"] for c in await changes_of(api, admin, "admin")] == ["update"]


async def test_disable_ends_sessions_at_once_and_enable_restores(api: httpx.AsyncClient,
                                                                 tokens: dict[str, dict[str, str]]) -> None:
    admin = tokens["admin"]
    assert (await create(api, admin, "qian.clerk")).status_code == 201
    first, second = await bearer(api, "qian.clerk", NEW_PASSWORD), await bearer(api, "qian.clerk", NEW_PASSWORD)
    assert (await api.get("/auth/me", headers=first)).status_code == 200
    r = await api.post("/admin/users/qian.clerk/disable", headers=admin)
    assert r.status_code == 200 and r.json()["active"] is False
    for token in (first, second):
        assert (await api.get("/auth/me", headers=token)).status_code == 401
        assert (await api.get("/cases", headers=token)).status_code == 401
    refused = await login(api, "qian.clerk", NEW_PASSWORD)
    assert refused.status_code == 403 and "停用" in error(refused)["message"]
    listed = (await api.get("/admin/users", headers=admin, params={"active": "false"})).json()["items"]
    assert "qian.clerk" in {u["username"] for u in listed}
    again = await api.post("/admin/users/qian.clerk/disable", headers=admin)  # already disabled: no new record
    assert again.status_code == 200
    assert (await api.post("/admin/users/qian.clerk/enable", headers=admin)).json()["active"] is True
    assert (await login(api, "qian.clerk", NEW_PASSWORD)).status_code == 200
    assert (await api.get("/auth/me", headers=first)).status_code == 401  # revoked tokens stay revoked
    actions = [(c["action"], c["changes"]) for c in await changes_of(api, admin, "qian.clerk")]
    assert actions == [("enable", {"active": [False, True]}),
                       ("disable", {"active": [True, False], "sessions_ended": 2}), ("create", actions[2][1])]
    missing = await api.post("/admin/users/nobody/disable", headers=admin)
    assert missing.status_code == 404


async def test_reset_password_checks_the_policy_and_ends_sessions(api: httpx.AsyncClient,
                                                                  tokens: dict[str, dict[str, str]]) -> None:
    admin = tokens["admin"]
    assert (await create(api, admin, "sun.clerk")).status_code == 201
    session = await bearer(api, "sun.clerk", NEW_PASSWORD)
    weak = await api.post("/admin/users/sun.clerk/password", headers=admin, json={"password": "sun.clerk-2026"})
    assert weak.status_code == 422 and error(weak)["field"] == "password"
    assert error(weak)["message"] == "密码不能是用户名，也不能包含用户名"
    assert (await api.get("/auth/me", headers=session)).status_code == 200  # a refused reset changes nothing
    assert len(await changes_of(api, admin, "sun.clerk")) == 1
    r = await api.post("/admin/users/sun.clerk/password", headers=admin, json={"password": "Another-pass-9"})
    assert r.status_code == 200, r.text
    assert (await api.get("/auth/me", headers=session)).status_code == 401
    assert (await login(api, "sun.clerk", NEW_PASSWORD)).status_code == 401
    assert (await login(api, "sun.clerk", "Another-pass-9")).status_code == 200
    latest = (await changes_of(api, admin, "sun.clerk"))[0]
    assert latest["action"] == "reset_password"
    assert latest["changes"] == {"password": "changed", "sessions_ended": 1, "lock_lifted": False}
    assert "Another-pass-9" not in json.dumps(latest)
    missing = await api.post("/admin/users/nobody/password", headers=admin, json={"password": "Another-pass-9"})
    assert missing.status_code == 404


async def test_locks_are_listed_lifted_and_the_lift_recorded(api: httpx.AsyncClient,
                                                             tokens: dict[str, dict[str, str]]) -> None:
    admin = tokens["admin"]
    assert (await create(api, admin, "zhou.clerk")).status_code == 201
    for _ in range(5):  # signin_max_failures
        await login(api, "zhou.clerk", "wrong-password-1")
    locked = await login(api, "zhou.clerk", NEW_PASSWORD)
    assert locked.status_code == 429
    user = (await api.get("/admin/users/zhou.clerk", headers=admin)).json()
    assert user["locked_until"] is not None
    locks = (await api.get("/admin/locks", headers=admin)).json()
    assert {"scope": "user", "subject": "zhou.clerk"} in [{k: lk[k] for k in ("scope", "subject")} for lk in locks]
    assert (await api.delete("/admin/locks/user/zhou.clerk", headers=admin)).status_code == 204
    assert (await login(api, "zhou.clerk", NEW_PASSWORD)).status_code == 200
    [lift] = await changes_of(api, admin, "user:zhou.clerk")
    assert lift["action"] == "unlock" and lift["changes"] == {"scope": "user", "subject": "zhou.clerk"}
    again = await api.delete("/admin/locks/user/zhou.clerk", headers=admin)
    assert again.status_code == 404 and len(await changes_of(api, admin, "user:zhou.clerk")) == 1

    log = (await api.get("/admin/sign-ins", headers=admin, params={"username": "zhou.clerk"})).json()
    outcomes = [e["outcome"] for e in log["items"]]
    assert outcomes == ["ok", "locked", *["wrong_password"] * 5] and log["total"] == 7
    wrong = (await api.get("/admin/sign-ins", headers=admin,
                           params={"username": "zhou.clerk", "outcome": "wrong_password", "limit": 2,
                                   "offset": 4})).json()
    assert wrong["total"] == 5 and [e["outcome"] for e in wrong["items"]] == ["wrong_password"]
    assert (await api.get("/admin/sign-ins", headers=admin, params={"outcome": "maybe"})).status_code == 422


async def test_the_change_log_filters_and_who_reads_it(api: httpx.AsyncClient,
                                                       tokens: dict[str, dict[str, str]]) -> None:
    everything = (await api.get("/admin/changes", headers=tokens["auditor"], params={"limit": 200})).json()
    assert everything["total"] == len(everything["items"]) > 5
    moments = [c["at"] for c in everything["items"]]
    assert moments == sorted(moments, reverse=True)
    creates = (await api.get("/admin/changes", headers=tokens["auditor"],
                             params={"action": "create", "by": "admin"})).json()
    assert creates["items"] and all(c["action"] == "create" and c["actor"] == "admin" for c in creates["items"])
    for who in ("clerk", "manager", "director"):
        r = await api.get("/admin/changes", headers=tokens[who])
        assert r.status_code == 403 and error(r)["message"] == "只有系统管理员和审计人员可以查看账号变更记录"
    assert (await api.get("/admin/changes")).status_code == 401


async def test_no_password_is_ever_recorded(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s:
        rows = (await s.scalars(select(AdminChange))).all()
    text_of_all = json.dumps([r.changes for r in rows], ensure_ascii=False)
    assert rows and "scrypt" not in text_of_all and "password_hash" not in text_of_all
    for secret in (NEW_PASSWORD, "Another-pass-9", DEMO_PASSWORD):
        assert secret not in text_of_all


@pytest.mark.parametrize("who", ["clerk", "manager", "director", "auditor"])
async def test_others_are_refused_every_write(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]],
                                              sessions: async_sessionmaker[AsyncSession], who: str) -> None:
    headers, before = tokens[who], await user_count(sessions)
    attempts = [
        ("POST", "/admin/users", {"username": f"x.{who}", "display_name": "x", "role": "admin",
                                  "department_code": "CITY", "password": NEW_PASSWORD}),
        ("PATCH", "/admin/users/clerk2", {"role": "admin"}),
        ("POST", "/admin/users/clerk2/disable", None),
        ("POST", "/admin/users/clerk2/enable", None),
        ("POST", "/admin/users/clerk2/password", {"password": NEW_PASSWORD}),
        ("GET", "/admin/users", None),
        ("GET", "/admin/sign-ins", None),
    ]
    for method, path, body in attempts:
        r = await api.request(method, path, headers=headers, json=body)
        assert r.status_code == 403 and error(r)["message"] == "只有系统管理员可以管理用户账号", (path, r.text)
    assert await user_count(sessions) == before
    assert (await api.get("/auth/me", headers=tokens["clerk2"])).status_code == 200
    assert (await login(api, "clerk2")).status_code == 200


async def test_two_admins_disabling_each_other_at_once_leave_one(api: httpx.AsyncClient,
                                                                 tokens: dict[str, dict[str, str]],
                                                                 sessions: async_sessionmaker[AsyncSession]) -> None:
    """Both requests are authenticated and then wait on the administrators' rows (held here); once released, one
    disables the other, and the second finds itself the last active administrator: 409, never zero admins."""
    admin = tokens["admin"]
    assert (await create(api, admin, "wu.admin", role="admin", department="CITY")).status_code == 201
    wu = await bearer(api, "wu.admin", NEW_PASSWORD)
    async with sessions() as holder, holder.begin():
        await holder.execute(select(User).where(col(User.role) == "admin").with_for_update())
        both = [asyncio.create_task(api.post("/admin/users/wu.admin/disable", headers=admin)),
                asyncio.create_task(api.post("/admin/users/admin/disable", headers=wu))]
        for _ in range(200):
            async with sessions() as probe:
                waiting = await probe.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%'"))
            if waiting == 2:
                break
            await asyncio.sleep(0.05)
        assert waiting == 2, "both requests should wait on the administrators' rows"
    answers = sorted(await asyncio.gather(*both), key=lambda r: r.status_code)
    assert [r.status_code for r in answers] == [200, 409], [r.text for r in answers]
    survivor = "admin" if answers[0].json()["username"] == "wu.admin" else "wu.admin"
    assert error(answers[1])["code"] == "last_admin"
    assert error(answers[1])["message"] == f"{survivor} 是最后一位在用的管理员，请先启用或新建另一位管理员"
    async with sessions() as s:
        active = (await s.scalars(select(col(User.username)).where(col(User.role) == "admin", col(User.active)))).all()
    assert list(active) == [survivor]
    if survivor != "admin":  # the rest of the suite's module signs in as admin: put things back
        async with sessions() as s, s.begin():
            await accounts.set_active(s, "admin", True, accounts.Changer(None, "cli:test", "test"))


async def test_the_last_admin_is_never_disabled_or_demoted_from_the_command_line(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """The command line has no own account to protect, so the last-administrator rule is what stops it."""
    operator = accounts.Changer(None, "cli:test", "test")
    async with sessions() as s:
        admins = (await s.scalars(select(col(User.username)).where(col(User.role) == "admin", col(User.active)))).all()
    for name in admins[1:]:
        async with sessions() as s, s.begin():
            await accounts.set_active(s, name, False, operator)
    last = admins[0]
    async with sessions() as s:
        with pytest.raises(accounts.LastAdmin):
            await accounts.set_active(s, last, False, operator)
        await s.rollback()
        with pytest.raises(accounts.LastAdmin):
            await accounts.update_user(s, operator, last, role="auditor")
        await s.rollback()
    async with sessions() as s:
        user = await s.scalar(select(User).where(col(User.username) == last))
        assert user is not None and user.active and user.role == "admin"
