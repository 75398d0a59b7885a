"""The UI's labels come from one catalogue per language (ui.po), every label the screens use is in it, and the
API docs are served from the app itself (no CDN)."""

import re
from enum import StrEnum

import httpx

from casehall.api.routes.ui import LANGUAGES, STATIC, ui_messages

# Labels in the screens: t("...") and N_("...") with a literal.
LITERAL = re.compile(r"""\b(?:t|N_)\(\s*"((?:[^"\\]|\\.)*)"\s*[,)]""")
ENUMS = {
    "status": ["registered", "awaiting_materials", "awaiting_supplement", "supplement_overdue", "in_handling",
               "veto_requested", "in_consultation", "awaiting_callback", "rectification", "closed", "rejected"],
    "role": ["clerk", "manager", "director", "auditor", "admin"],
    "grade": ["very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"],
    "mode": ["window", "online", "home_visit"],
    "channel": ["window", "online", "phone", "hotline"],
    "instruction": ["accept", "joint_consultation", "assisted_handling"],
    "task": ["veto", "supplement_overdue", "rectification", "consultation_overdue", "consultation_lead"],
    "document": ["one_time_notice", "rejection_notice", "combined_result"],
}
CHINESE_GRADES = ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]


def used_labels() -> set[str]:
    found: set[str] = set()
    for path in (STATIC / "js").glob("*.js"):
        found |= {m.encode().decode("unicode_escape") if "\\" in m else m for m in LITERAL.findall(path.read_text())}
    return found


def test_every_label_of_the_screens_is_in_both_catalogues() -> None:
    used = used_labels()
    assert len(used) > 150  # the pattern finds the labels (it would find none if the code changed style)
    for lang in LANGUAGES:
        messages = ui_messages(lang)
        missing = sorted(used - messages.keys())
        assert missing == [], f"{lang}: labels used by the screens but not in ui.po: {missing}"


def test_chinese_translates_everything_and_keeps_placeholders() -> None:
    zh, en = ui_messages("zh-CN"), ui_messages("en")
    assert zh.keys() == en.keys()
    untranslated = [k for k, v in zh.items() if "|" not in k and v == k and re.search(r"[A-Za-z]{3}", k)]
    assert untranslated == []
    for key, text in zh.items():
        assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", en[key])), key


def test_enumerations_have_labels_and_grades_are_the_five_chinese_ones() -> None:
    zh, en = ui_messages("zh-CN"), ui_messages("en")
    for context, values in ENUMS.items():
        for value in values:
            assert f"{context}|{value}" in zh and f"{context}|{value}" in en, f"{context}|{value}"
    assert [zh[f"grade|{g}"] for g in ENUMS["grade"]] == CHINESE_GRADES


def engine_event_types() -> set[str]:
    """Every event type a case or a consultation records (the enumerations of casehall.models.events)."""
    from casehall.models import events

    kinds = [v for v in vars(events).values() if isinstance(v, type) and issubclass(v, StrEnum)
             and v.__module__ == events.__name__]
    return {e.value for kind in kinds for e in kind}


def test_event_types_of_the_engine_have_labels() -> None:
    types = engine_event_types()
    assert {"registered", "veto_requested", "veto_approved", "callback_rated"} <= types
    for lang in LANGUAGES:
        messages = ui_messages(lang)
        assert sorted(t for t in types if f"event|{t}" not in messages) == [], lang


async def test_i18n_route_serves_each_language_and_refuses_others(api: httpx.AsyncClient) -> None:
    r = await api.get("/ui/i18n/zh-CN.json")
    assert r.status_code == 200
    assert r.json()["messages"]["Log in"] == "登录"
    assert r.json()["messages"]["status|rejected"] == "不予受理"
    r = await api.get("/ui/i18n/en.json")
    assert r.json()["messages"]["Log in"] == "Log in"
    assert r.json()["messages"]["status|rejected"] == "Rejected"
    r = await api.get("/ui/i18n/fr.json")
    assert r.status_code == 404


async def test_ui_reads_need_a_log_in_and_answer_with_the_user(api: httpx.AsyncClient,
                                                              tokens: dict[str, dict[str, str]]) -> None:
    assert (await api.get("/ui/me")).status_code == 401
    me = (await api.get("/ui/me", headers=tokens["manager"])).json()
    assert me["username"] == "manager" and me["role"] == "manager" and me["department_code"] == "MKT"
    assert me["department_name"] == "市场监督管理局"
    clerks = (await api.get("/ui/colleagues?role=clerk", headers=tokens["clerk"])).json()
    assert {c["username"] for c in clerks} == {"clerk", "clerk2"}
    assert (await api.get("/ui/colleagues?role=auditor", headers=tokens["clerk"])).status_code == 422
    codes = {d["code"] for d in (await api.get("/ui/departments", headers=tokens["clerk"])).json()}
    assert {"CITY", "MKT", "HOUSING"} <= codes
    config = (await api.get("/ui/config")).json()
    assert 0 < config["warn_share"] < 1 and config["languages"] == ["zh-CN", "en"]


async def test_static_files_stay_inside_static(api: httpx.AsyncClient) -> None:
    r = await api.get("/static/js/main.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert (await api.get("/static/../routes/ui.py")).status_code == 404
    assert (await api.get("/static/%2e%2e/routes/ui.py")).status_code == 404
    assert (await api.get("/static/nothing.js")).status_code == 404
    page = await api.get("/")
    assert page.headers["cache-control"] == "no-store"
    assert "http" not in re.sub(r'content="[^"]*"', "", page.text)  # nothing from elsewhere


async def test_api_docs_are_served_offline(api: httpx.AsyncClient) -> None:
    for path in ("/docs", "/redoc"):
        r = await api.get(path)
        assert r.status_code == 200
        external = [u for u in re.findall(r"""(?:src|href)=["']([^"']+)""", r.text) if not u.startswith("/")]
        assert external == [], f"{path} loads {external}"
        for asset in re.findall(r"""(?:src|href)=["'](/docs/assets/[^"']+)""", r.text):
            a = await api.get(asset)
            assert a.status_code == 200 and len(a.content) > 1000, asset
    assert (await api.get("/docs/assets/secret.txt")).status_code == 404
    assert (await api.get("/openapi.json")).json()["info"]["title"] == "casehall"
