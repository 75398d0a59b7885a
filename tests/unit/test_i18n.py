"""Catalogues: current with the code, complete in Chinese, placeholders kept; labels of every vocabulary value;
language negotiation; English texts parsed back to their message ids."""

import re
from enum import StrEnum
from pathlib import Path
from string import Formatter

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from casehall.core.i18n import catalogue, label, negotiate, parse, translate, translate_text, translations
from casehall.models.enums import CaseStatus, Channel, HandlingMode, Instruction, Role, Satisfaction
from casehall.models.events import ConsultationEventType, EventType
from casehall.models.identity import ApplicantKind, IdType
from casehall.models.messages import LABELS, N_

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")  # ideographs and full-width punctuation


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def _extracted() -> set[tuple[str | None, str]]:
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    return {(context, message) for filename, _, message, _, context
            in extract_from_dir(str(ROOT), method_map, options_map)
            if filename.startswith("casehall/") and isinstance(message, str)}


def test_catalogues_are_current_and_complete() -> None:
    """``pybabel extract`` finds nothing the catalogues lack; every Chinese entry is translated, not fuzzy, and keeps
    the id's placeholders. (After adding messages: extract, ``pybabel update``, translate.)"""
    extracted = _extracted()
    assert len(extracted) > 150
    zh = {(m.context, m.id): m for m in catalogue("zh_CN") if m.id}
    en = {(m.context, m.id) for m in catalogue("en") if m.id}
    assert extracted - set(zh) == set(), "missing in zh_CN"
    assert extracted - en == set(), "missing in en"
    for key, m in zh.items():
        assert m.string and not m.fuzzy, key
        assert CJK.search(str(m.string)), key
        assert _fields(str(m.string)) == _fields(str(m.id)), key


VOCABULARIES = [("status", CaseStatus), ("role", Role), ("satisfaction", Satisfaction), ("channel", Channel),
                ("handling_mode", HandlingMode), ("instruction", Instruction), ("event", EventType),
                ("consultation_event", ConsultationEventType), ("id_type", IdType), ("applicant_kind", ApplicantKind)]


@pytest.mark.parametrize(("kind", "enum"), VOCABULARIES)
def test_every_value_has_a_label(kind: str, enum: type[StrEnum]) -> None:
    for value in enum:
        assert value.value in LABELS[kind], (kind, value)
        zh, en = label(kind, value, "zh_CN"), label(kind, value, "en")
        assert CJK.search(zh) and not CJK.search(en), (kind, value, zh, en)


def test_labels() -> None:
    assert label("status", CaseStatus.CLOSED, "zh_CN") == "已办结"
    assert label("status", "awaiting_materials", "en") == "awaiting main materials"
    assert label("satisfaction", "basically_satisfied", "zh_CN") == "基本满意"
    assert label("event", "completed", "zh_CN") == "办结" and label("status", "closed", "en") == "closed"
    assert label("status", "no_such_status", "zh_CN") == "no_such_status"
    assert label("no_such_kind", "x", "en") == "x"


def test_translate_renders_vocabulary_parameters() -> None:
    msgid = N_("case {case_no} is {status}: it cannot be {verb} now")
    params = {"case_no": "HALL-20260302-000001", "status": "awaiting_callback", "verb": "accepted"}
    assert translate(msgid, "zh_CN", **params) == "办件 HALL-20260302-000001 当前状态为“待回访”，现在不能受理"
    english = "case HALL-20260302-000001 is awaiting callback: it cannot be accepted now"
    assert translate(msgid, "en", **params) == english
    assert translate(msgid, None, **params) == translate(msgid, "zh_CN", **params)
    roles = translate(N_("this needs one of the roles: {roles}"), "zh_CN", roles=["clerk", "manager"])
    assert roles == "此操作需要以下角色之一：窗口工作人员、负责人"
    # a workflow id is shown as its case number; a missing parameter stays visible instead of failing
    gone = translate(N_("case {case_no} is already closed: no further action can be recorded"), "zh_CN",
                     case_no="case-HALL-20260302-000001")
    assert gone == "办件 HALL-20260302-000001 已办结，不能再记录任何操作" and "case-" not in gone
    assert translate(N_("no case {case_no}"), "en") == "no case {case_no}"
    assert translate("a sentence nobody wrote", "zh_CN") == "a sentence nobody wrote"


@pytest.mark.parametrize(("accept", "user", "lang"), [
    (None, None, "zh_CN"),
    ("", None, "zh_CN"),
    ("en", None, "en"),
    ("en-US,en;q=0.9", None, "en"),
    ("zh-CN,zh;q=0.9,en;q=0.8", None, "zh_CN"),
    ("fr-FR, en;q=0.5", None, "en"),
    ("fr-FR, de", None, "zh_CN"),
    ("en;q=0.2, zh-TW;q=0.8", None, "zh_CN"),
    ("en;q=0, zh", None, "zh_CN"),
    ("en;q=abc", None, "zh_CN"),
    ("*", None, "zh_CN"),
    ("en", "zh-CN", "zh_CN"),
    ("zh", "en", "en"),
    ("en", "fr", "en"),
])
def test_negotiate(accept: str | None, user: str | None, lang: str) -> None:
    assert negotiate(accept, user) == lang


def test_every_message_parses_back_from_its_english_text() -> None:
    for m in catalogue("zh_CN"):
        if not m.id or m.context:
            continue
        msgid = str(m.id)
        params = {name: f"V{i}x" for i, name in enumerate(sorted(_fields(msgid)))}
        text = msgid.format(**params)
        assert parse(text) == (msgid, params), msgid


def test_translate_text() -> None:
    assert translate_text("no running workflow case-HALL-20260302-000007", "zh_CN") == \
        "办件 HALL-20260302-000007 没有正在运行的流程"
    assert translate_text("this veto was already refused by manager; a decision cannot be changed", "zh_CN") == \
        "该否决申请已由 manager 不予批准，审批决定不能更改"
    assert translate_text("something else entirely", "zh_CN") == "something else entirely"
    assert translate_text("x" * 5000, "zh_CN") == "x" * 5000


def test_catalogues_compile_in_memory() -> None:
    assert translations("zh_CN").pgettext("status", "closed") == "已办结"
    assert translations("en").gettext("is required") == "is required"
