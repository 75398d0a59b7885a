"""The calendar through the API: anyone logged in reads months and deadlines; only an admin imports."""

import httpx

CSV_2027 = "date,kind,name\n2027-01-01,holiday,元旦\n2027-01-09,adjusted_workday,元旦\n"
YAML_2027_MOVED = """
- {date: 2027-01-01, kind: holiday, name: 元旦}
- {date: 2027-01-10, kind: adjusted_workday, name: 元旦}
"""
DEADLINE: dict[str, str | int] = {"start": "2026-12-15T10:00:00+08:00", "days": 20}


async def test_only_admins_import(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]) -> None:
    body = {"format": "csv", "text": CSV_2027}
    for user in ("clerk", "manager", "director", "auditor"):
        r = await api.post("/calendar/imports", headers=tokens[user], json=body)
        assert r.status_code == 403 and "管理员" in r.json()["error"]["message"], (user, r.text)
    assert (await api.post("/calendar/imports", json=body)).status_code == 401
    month = (await api.get("/calendar/2027/1", headers=tokens["clerk"])).json()
    assert not month["official"]


async def test_bad_schedules_answer_422(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]) -> None:
    admin = tokens["admin"]
    cases = [
        ({"format": "csv", "text": "date,kind\n2027-01-04,adjusted_workday\n"}, "2027-01-04 is a weekday"),
        ({"format": "csv", "text": "when,what\n2027-01-04,holiday\n"}, "needs a header"),
        ({"format": "yaml", "text": "- {date: 2027-02-30, kind: holiday}"}, "unparseable date"),
        ({"format": "yaml", "text": "- {date: 2027-01-01, kind: festival}"}, "unknown kind"),
        ({"format": "csv", "text": "date,kind\n2027-01-01,holiday\n2027-01-01,holiday\n"}, "already listed"),
    ]
    for body, message in cases:
        r = await api.post("/calendar/imports", headers={**admin, "Accept-Language": "en"}, json=body)
        assert r.status_code == 422 and message in r.json()["error"]["message"], (body, r.text)
    r = await api.post("/calendar/imports", headers=admin, json={"format": "xml", "text": "<x/>"})
    assert r.status_code == 422


async def test_import_then_read(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]) -> None:
    admin, clerk = tokens["admin"], tokens["clerk"]
    before = (await api.get("/calendar/deadline", headers=clerk, params=DEADLINE)).json()
    assert before["provisional"] and before["deadline"] == "2027-01-13T17:00:00+08:00"

    r = await api.post("/calendar/imports", headers=admin, json={"format": "csv", "text": CSV_2027})
    assert r.status_code == 201, r.text
    assert r.json() | {"version": "-"} == {"year": 2027, "days": 2, "version": "-", "unchanged": False,
                                          "replaced": False, "notified": 0}
    after = (await api.get("/calendar/deadline", headers=clerk, params=DEADLINE)).json()
    assert not after["provisional"] and after["deadline"] == "2027-01-12T17:00:00+08:00"
    naive = (await api.get("/calendar/deadline", headers=clerk, params={"start": "2026-12-15", "days": 20})).json()
    assert naive["deadline"] == after["deadline"] and naive["start"] == "2026-12-15T00:00:00+08:00"

    month = (await api.get("/calendar/2027/1", headers=clerk)).json()
    assert month["official"] and len(month["days"]) == 31
    days = {d["date"]: d for d in month["days"]}
    assert days["2027-01-01"] | {} == {"date": "2027-01-01", "weekday": "Fri", "kind": "holiday", "name": "元旦",
                                       "workday": False, "official": True, "source": "import"}
    assert days["2027-01-09"]["kind"] == "adjusted_workday" and days["2027-01-09"]["workday"]
    assert days["2027-01-10"] | {} == {"date": "2027-01-10", "weekday": "Sun", "kind": "rest", "name": "",
                                       "workday": False, "official": True, "source": ""}
    assert days["2027-01-04"]["kind"] == "workday" and days["2027-01-04"]["workday"]
    october = (await api.get("/calendar/2026/10", headers=tokens["auditor"])).json()
    assert october["official"] and {d["date"]: d["kind"] for d in october["days"]}["2026-10-10"] == "adjusted_workday"
    later = (await api.get("/calendar/2028/2", headers=clerk)).json()
    assert not later["official"] and not later["days"][0]["official"]
    assert (await api.get("/calendar/2027/13", headers=clerk)).status_code == 422
    assert (await api.get("/calendar/2027/1")).status_code == 401

    moved = {"format": "yaml", "text": YAML_2027_MOVED}
    refused = await api.post("/calendar/imports", headers={**admin, "Accept-Language": "en"}, json=moved)
    assert refused.status_code == 422
    assert "contradicts the official 2027 schedule in force (imported) on 2 day(s)" in \
        refused.json()["error"]["message"]
    assert (await api.get("/calendar/deadline", headers=clerk, params=DEADLINE)).json() == after

    replaced = await api.post("/calendar/imports", headers=admin, json=moved | {"replace": True})
    assert replaced.status_code == 201 and replaced.json()["replaced"], replaced.text
    moved_deadline = (await api.get("/calendar/deadline", headers=clerk, params=DEADLINE)).json()
    assert moved_deadline["deadline"] == "2027-01-12T17:00:00+08:00"  # Sunday 10 January worked instead
    again = await api.post("/calendar/imports", headers=admin, json=moved)
    assert again.status_code == 201 and again.json()["unchanged"]
