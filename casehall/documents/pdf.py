"""The official documents a case issues, as PDF: 不予受理告知书, 一次性告知单, 材料补正通知单, 办理结果告知书 and
联合会商纪要, laid out after GB/T 9704-2012 with the font embedded.

A document is rendered from the content stored with its event only (``casehall.store.documents`` adds at issue time
everything that could change later: the authority, the document number, names and titles, the remedies, the date),
so a reprint years later is the same document, byte for byte. Content stored by older versions, without those keys,
still prints: without a number or seal line it was never given, with the generic wording of the remedies.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, SimpleDocTemplate, Spacer

from casehall.documents.fonts import register
from casehall.documents.layout import (
    BODY_SIZE,
    BOTTOM,
    LEFT,
    RED,
    RIGHT,
    TOP,
    WIDTH,
    Heading,
    Rule,
    Signature,
    page_number,
    para,
    table,
    text,
)
from casehall.models.documents import (
    DEFAULT_COURT,
    DEFAULT_RECONSIDERATION_BODY,
    DEFAULT_TZ,
    LITIGATION_MONTHS,
    RECONSIDERATION_DAYS,
    ROLE_TITLES,
    TITLES,
    chinese_date,
    format_day,
    format_local,
    local,
)

__all__ = ["render_document", "format_local", "TITLES"]

OPINIONS = {"agree": "同意", "agree_with_conditions": "附条件同意", "disagree": "不同意"}
CONCLUSIONS = {"accept": "予以受理", "veto": "提请不予受理（须经负责人批准）", "assisted_handling": "转入帮办代办"}
NUMERALS = "一二三四五六七八九十"


def _cn(n: int) -> str:
    """A small count in Chinese numerals: 6 -> 六, 60 -> 六十, 12 -> 十二."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return NUMERALS[ones - 1] if ones else "零"
    head = "十" if tens == 1 else NUMERALS[tens - 1] + "十"
    return head + (NUMERALS[ones - 1] if ones else "")


class Notice:
    """The stored content of one document and what every document prints from it."""

    def __init__(self, kind: str, title: str, content: dict[str, Any], issued_at: datetime) -> None:
        self.kind, self.content, self.issued_at = kind, content, issued_at
        self.title = title or TITLES.get(kind, kind)
        self.tz: str = content.get("timezone") or DEFAULT_TZ

    def get(self, key: str, default: Any = "") -> Any:
        value = self.content.get(key)
        return default if value is None else value

    @property
    def authority(self) -> str:
        authority = self.content.get("authority")
        return str(authority.get("name", "")) if isinstance(authority, dict) else str(authority or "")

    @property
    def issued_on(self) -> str:
        """成文日期 in Chinese numerals: the recorded issue date, else the issue moment in the hall's time zone."""
        if on := self.content.get("issued_on"):
            return chinese_date(date.fromisoformat(on))
        moment = local(self.issued_at, self.tz)
        return chinese_date(moment.date()) if moment else ""

    def day(self, key: str) -> str:
        return format_day(self.content.get(key), self.tz)

    def time(self, key: str) -> str:
        return format_local(self.content.get(key), self.tz)

    @property
    def item(self) -> str:
        return str(self.get("item_name") or self.get("item"))

    def person(self, key: str, legacy_name: str = "", legacy_role: str = "") -> str:
        """'张明（科长）' from an enriched {name, title}, else from the username and role older content holds."""
        if who := person_of(self.content.get(key)):
            return who
        name = self.get(legacy_name)
        role = self.get(legacy_role)
        title = ROLE_TITLES.get(role, role)
        return f"{name}（{title}）" if name and title else str(name)


def _count(n: int) -> str:
    """How many, as said before a measure word: 两项, 三项, 12项."""
    return "两" if n == 2 else (_cn(n) if 0 < n < 100 else str(n))


def person_of(who: Any) -> str:
    """'张明（科长）' of a recorded {name, title}; '' for nothing."""
    if not isinstance(who, dict) or not who.get("name"):
        return ""
    return f"{who['name']}（{who['title']}）" if who.get("title") else str(who["name"])


def _remedies(remedies: Any, subject: str = "本决定") -> str:
    """The applicant's remedies: reconsideration within 60 days, litigation within 6 months, with their bodies."""
    r = remedies if isinstance(remedies, dict) else {}
    body = r.get("reconsideration_body") or DEFAULT_RECONSIDERATION_BODY
    court = r.get("court") or DEFAULT_COURT
    days = _cn(int(r.get("reconsideration_days") or RECONSIDERATION_DAYS))
    months = _cn(int(r.get("litigation_months") or LITIGATION_MONTHS))
    return (f"如对{subject}不服，可以自收到本告知书之日起{days}日内向{body}申请行政复议，"
            f"也可以自收到本告知书之日起{months}个月内依法向{court}提起行政诉讼。")


def _addressee(n: Notice) -> Flowable:
    return para(None, "plain", markup=f"{text(n.get('applicant'))}：")


def _officers(n: Notice, *pairs: tuple[str, str]) -> Flowable:
    """One line of '审批人：张明（科长）　经办人：王芳（窗口工作人员）', skipping the empty ones."""
    parts = [f"{label}：{text(value)}" for label, value in pairs if value]
    return para(None, "small", markup="　　".join(parts))


def _receipt(n: Notice) -> Flowable:
    """送达回执: the applicant (or the helper who acts for them) signs and dates the receipt."""
    rows = [
        ["文书名称", n.title],
        ["文号", n.get("doc_no") or "—"],
        ["案件编号", n.get("case_no")],
        ["受送达人", n.get("applicant")],
        ["受送达人签名\n（代收人注明身份）", ""],
        ["签收日期", "\u00a0" * 12 + "年" + "\u00a0" * 6 + "月" + "\u00a0" * 6 + "日"],
    ]
    grid = table(rows, [48 * mm, WIDTH - 48 * mm])
    grid._argH[4] = 22 * mm  # room for a signature
    return KeepTogether([
        Rule(0.6, color=colors.black, dash=(4, 3)),
        Heading("送达回执", 16, space_after=2 * mm),
        grid,
    ])


def _rejection(n: Notice) -> list[Flowable]:
    """不予受理告知书: the reasons, the legal basis, the remedies, the approver."""
    registered = n.day("registered_at")
    lead = (f"你（单位）于{text(registered)}" if registered else "你（单位）") + (
        f"提出的{text(n.item)}申请（案件编号：{text(n.get('case_no'))}），经审查，本机关决定不予受理。")
    return [
        _addressee(n),
        para(None, markup=lead),
        para(None, markup=f"理由：{text(n.get('reasons'))}"),
        para(None, markup=f"依据：{text(n.get('legal_basis'))}"),
        para(_remedies(n.content.get("remedies"))),
        Spacer(1, 3 * mm),
        _officers(n, ("审批人", n.person("approver", "approved_by", "approver_role")),
                  ("经办人", n.person("handler", "requested_by"))),
    ]


def _materials(n: Notice) -> Flowable:
    rows: list[list[Any]] = [["序号", "材料名称", "类别", "补正要求"]]
    for i, m in enumerate(n.content.get("missing") or [], 1):
        rows.append([str(i), m.get("material", ""), "主要材料" if m.get("main") else "次要材料",
                     m.get("how_to_supply", "")])
    return table(rows, [14 * mm, 52 * mm, 24 * mm, WIDTH - 90 * mm], header=True)


def _one_time(n: Notice) -> list[Flowable]:
    """一次性告知单: every missing material at once; accepted (容缺受理) or waiting for the main materials."""
    registered = n.day("registered_at")
    subject = (f"你（单位）于{text(registered)}" if registered else "你（单位）") + (
        f"申请办理的{text(n.item)}（案件编号：{text(n.get('case_no'))}）")
    if n.content.get("accepted"):
        status = (f"{subject}，基本条件具备、主要申请材料齐全，本机关已予容缺受理。"
                  "现将尚需补正的材料一次性告知如下，补正期间不影响案件办理：")
    else:
        status = (f"{subject}，因缺少下列主要材料暂未受理（并非不予受理）。"
                  "现将需要补正的全部材料一次性告知如下，补齐后即予受理：")
    flow: list[Flowable] = [_addressee(n), para(None, markup=status), Spacer(1, 2 * mm), _materials(n),
                            Spacer(1, 2 * mm)]
    if deadline := n.time("supplement_deadline"):
        flow.append(para(None, markup=f"请于{text(deadline)}前补正上述材料。"))
    flow.append(para("补正材料可交至原受理窗口，也可由帮办代办人员代为提交。"))
    flow += [Spacer(1, 3 * mm), _officers(n, ("经办人", n.person("handler")),
                                          ("受理窗口", " ".join(x for x in (n.get("hall"), n.get("window")) if x)))]
    return flow


def _supplement(n: Notice) -> list[Flowable]:
    """材料补正通知单: the materials to correct or supply, by when, and on what basis."""
    registered = n.day("registered_at")
    subject = (f"你（单位）于{text(registered)}" if registered else "你（单位）") + (
        f"提交的{text(n.item)}申请材料（案件编号：{text(n.get('case_no'))}）")
    basis = n.get("legal_basis")
    flow: list[Flowable] = [
        _addressee(n),
        para(None, markup=f"{subject}不齐全或者不符合法定形式"
                          + (f"，依据{text(basis)}的规定" if basis else "") + "，请补正下列材料："),
        Spacer(1, 2 * mm), _materials(n), Spacer(1, 2 * mm),
    ]
    if reason := n.get("reason"):
        flow.append(para(None, markup=f"说明：{text(reason)}"))
    if deadline := n.time("supplement_deadline"):
        flow.append(para(None, markup=f"请于{text(deadline)}前补正。补正期间，办理时限暂停计算。"))
    flow += [Spacer(1, 3 * mm), _officers(n, ("经办人", n.person("handler")),
                                          ("受理窗口", " ".join(x for x in (n.get("hall"), n.get("window")) if x)))]
    return flow


def _combined(n: Notice) -> list[Flowable]:
    """办理结果告知书: every matter of a case of several, its department and outcome; remedies for refusals."""
    matters = n.content.get("matters") or []
    registered = n.day("registered_at")
    where = text(n.get("hall"))
    lead = ((f"你（单位）于{text(registered)}" if registered else "你（单位）")
            + (f"在{where}" if where else "")
            + f"统一受理的{_count(len(matters))}项事项"
            + f"（案件编号：{text(n.get('case_no'))}）已办理完毕，结果告知如下：")
    rows: list[list[Any]] = [["序号", "事项", "承办部门", "办理结果", "说明"]]
    refused: list[tuple[int, dict[str, Any]]] = []
    for i, m in enumerate(matters, 1):
        note = m.get("result") or ""
        if m.get("reasons"):
            note = f"理由：{m['reasons']}\n依据：{m.get('legal_basis', '')}"
            if m.get("doc_no"):
                note += f"\n（详见{m['doc_no']}不予受理告知书）"
            refused.append((i, m))
        rows.append([str(i), f"{m.get('item_name') or m.get('item', '')}\n{m.get('case_no', '')}",
                     m.get("department_name") or m.get("department", ""), m.get("outcome", ""), note])
    flow: list[Flowable] = [_addressee(n), para(None, markup=lead), Spacer(1, 2 * mm),
                            table(rows, [12 * mm, 40 * mm, 32 * mm, 20 * mm, WIDTH - 104 * mm], header=True),
                            Spacer(1, 3 * mm)]
    for i, m in refused:
        flow.append(para(_remedies(m.get("remedies"), f"第{i}项不予受理决定")))
    flow += [Spacer(1, 3 * mm), _officers(n, ("经办人", n.person("handler")))]
    return flow


def _minutes(n: Notice) -> list[Flowable]:
    """联合会商纪要: the question, every department's last opinion, the extensions and the conclusion."""
    c = n.content
    lead = (c.get("lead") or {}).get("name", "")
    departments = "、".join(d.get("name", "") for d in c.get("departments") or [])
    opened = n.day("opened_at")
    flow: list[Flowable] = [
        para(None, markup=f"{text(opened)}，{text(lead)}就案件{text(c.get('case_no'))}的下列事项，"
                          f"召集{text(departments)}进行联合会商（会商编号：{text(c.get('consultation_id'))}"
                          + (f"，会商期限：{text(n.time('deadline'))}" if c.get("deadline") else "") + "）。"),
        para("一、会商事项", "plain"),
        para(c.get("question")),
        para("二、各部门意见", "plain"),
    ]
    for i, o in enumerate(c.get("opinions") or [], 1):
        who = person_of(o.get("by"))
        line = (f"（{_cn(i)}）{text(o.get('department_name'))}：{text(OPINIONS.get(o.get('decision', ''), ''))}。"
                f"{text(o.get('text'))}")
        if o.get("legal_basis"):
            line += f"依据：{text(o['legal_basis'])}。"
        line += f"（{text(who)}，{text(format_local(o.get('at'), n.tz))}，第{int(o.get('version', 1))}版）"
        flow.append(para(None, markup=line))
    for j, d in enumerate(c.get("missing") or [], len(c.get("opinions") or []) + 1):
        flow.append(para(None, markup=f"（{_cn(j)}）{text(d.get('name'))}：未反馈意见。"))
    section = 3
    if c.get("extensions"):
        flow.append(para(f"{_cn(section)}、延期情况", "plain"))
        section += 1
        for e in c["extensions"]:
            flow.append(para(None, markup=f"延长{int(e.get('days', 0))}个工作日：{text(e.get('reason'))}"
                                          f"（{text(format_local(e.get('at'), n.tz))}）"))
    flow.append(para(f"{_cn(section)}、会商结论", "plain"))
    conclusion = c.get("conclusion")
    if conclusion:
        line = f"{text(CONCLUSIONS.get(conclusion.get('decision', ''), ''))}。{text(conclusion.get('reasons'))}"
        if conclusion.get("legal_basis"):
            line += f"依据：{text(conclusion['legal_basis'])}。"
        if conclusion.get("follows"):
            line += f"采纳{text('、'.join(conclusion['follows']))}的意见。"
        if conclusion.get("no_answer"):
            line += f"{text('、'.join(conclusion['no_answer']))}未在期限内反馈意见。"
        flow.append(para(None, markup=line))
        flow.append(_officers(n, ("召集人", n.person("convened_by")), ("结论人", person_of(conclusion.get("by")))))
    else:
        flow.append(para("会商尚未结束，本纪要为草稿。"))
    return flow


def _generic(n: Notice) -> list[Flowable]:
    """A document of a kind this version does not know: its content as a table, nothing left out."""
    rows = [[key, value] for key, value in n.content.items()]
    return [table(rows, [45 * mm, WIDTH - 45 * mm])] if rows else []


BODIES: dict[str, Callable[[Notice], list[Flowable]]] = {
    "rejection_notice": _rejection,
    "one_time_notice": _one_time,
    "supplement_notice": _supplement,
    "combined_result": _combined,
    "consultation_minutes": _minutes,
}
WITH_RECEIPT = frozenset({"rejection_notice", "one_time_notice", "supplement_notice", "combined_result"})


def story(n: Notice) -> list[Flowable]:
    """Header (authority mark, number, red rule), title, body, signature with seal area, receipt."""
    flow: list[Flowable] = []
    if n.authority:
        flow.append(Heading(n.authority, 26, RED, space_after=3 * mm))
    if n.get("doc_no"):
        flow.append(para(n.get("doc_no"), "number"))
    if flow:
        flow.append(Rule(1.2))
    draft = n.kind == "consultation_minutes" and not n.content.get("conclusion") and n.content.get("layout")
    flow += [Heading(n.title + ("（草稿）" if draft else ""), 22, space_after=5 * mm)]
    flow += BODIES.get(n.kind, _generic)(n)
    if n.kind in BODIES:
        flow += [CondPageBreak(48 * mm), Spacer(1, 16 * mm),
                 Signature(n.authority, n.issued_on, seal=bool(n.authority) and not draft)]
    if n.kind in WITH_RECEIPT:
        flow += [Spacer(1, 6 * mm), _receipt(n)]
    return flow


def render_document(kind: str, title: str, content: dict[str, Any], issued_at: datetime) -> bytes:
    """Render a stored document as an A4 PDF with its font embedded; the same input gives the same bytes."""
    n = Notice(kind, title, content, issued_at)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=(210 * mm, 297 * mm), title=n.title, author=n.authority or "casehall", creator="casehall",
        subject=str(n.get("doc_no") or n.get("case_no")), leftMargin=LEFT, rightMargin=RIGHT, topMargin=TOP,
        bottomMargin=BOTTOM, invariant=True, lang="zh-CN", initialFontName=register(), initialFontSize=BODY_SIZE,
    )
    doc.build(story(n), onFirstPage=page_number, onLaterPages=page_number)
    return buffer.getvalue()
