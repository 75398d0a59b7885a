"""Notice PDFs render with the CJK font, extractable text and escaped user input."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from pypdf import PdfReader

from casehall.documents.pdf import format_local, render_document

ISSUED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

REJECTION = {
    "case_no": "SX-2026-000123",
    "applicant": "张三",
    "item": "食品经营许可",
    "registered_at": "2026-11-20T02:30:00+00:00",
    "decided_at": "2026-11-23T09:00:00+00:00",
    "reasons": "申请事项不属于本机关职权范围",
    "legal_basis": "《中华人民共和国行政许可法》第三十二条第一款第二项",
    "requested_by": "李四",
    "approved_by": "王五",
    "approver_role": "科长",
}

ONE_TIME = {
    "case_no": "SX-2026-000456",
    "applicant": "赵六",
    "item": "个体工商户登记",
    "issued_at": "2026-11-23T01:00:00+00:00",
    "accepted": False,
    "missing": [
        {"material": "经营场所证明", "main": True, "how_to_supply": "现场提交原件"},
        {"material": "身份证复印件", "main": False, "how_to_supply": "网上上传"},
    ],
    "supplement_deadline": "2026-11-30T09:00:00+00:00",
}


def _text(pdf: bytes) -> str:
    """All extracted text, whitespace removed (CJK wrapping may split words across lines)."""
    reader = PdfReader(io.BytesIO(pdf))
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


def test_format_local_uses_shanghai_time() -> None:
    assert format_local("2026-11-23T09:00:00+00:00") == "2026年11月23日 17:00"
    assert format_local(datetime(2026, 1, 5, 0, 5)) == "2026年1月5日 08:05"
    assert format_local(None) == ""


def test_rejection_notice_renders_chinese_text() -> None:
    pdf = render_document("rejection_notice", "不予受理告知书", REJECTION, ISSUED)
    assert pdf.startswith(b"%PDF")
    assert b"STSong-Light" in pdf
    text = _text(pdf)
    for expected in (
        "不予受理告知书",
        REJECTION["case_no"],
        REJECTION["reasons"],
        REJECTION["legal_basis"],
        "王五科长",
        "2026年11月20日10:30",
        "2026年11月23日17:00",
        "行政复议",
    ):
        assert expected in text
    meta = PdfReader(io.BytesIO(pdf)).metadata
    assert meta is not None and meta.title == "不予受理告知书" and meta.author == "casehall"


def test_one_time_notice_lists_missing_materials() -> None:
    pdf = render_document("one_time_notice", "一次性告知单", ONE_TIME, ISSUED)
    assert pdf.startswith(b"%PDF")
    text = _text(pdf)
    for expected in ("SX-2026-000456", "经营场所证明", "主要材料", "次要材料", "暂未受理", "2026年11月30日17:00"):
        assert expected in text
    accepted = render_document("one_time_notice", "一次性告知单", {**ONE_TIME, "accepted": True}, ISSUED)
    assert "容缺受理" in _text(accepted)


def test_user_markup_is_escaped() -> None:
    hostile = {**REJECTION, "reasons": "<script>alert(1)</script> & <b", "applicant": "A&B <i>"}
    text = _text(render_document("rejection_notice", "<title>&", hostile, ISSUED))
    assert "<script>alert(1)</script>&<b" in text
    assert "A&B<i>" in text
    missing = [{"material": "<para>&amp", "main": True, "how_to_supply": "</td>"}]
    pdf = render_document("one_time_notice", "一次性告知单", {**ONE_TIME, "missing": missing}, ISSUED)
    assert "<para>&amp" in _text(pdf)


def test_unknown_kind_renders_key_value_table() -> None:
    pdf = render_document("other", "其他文书", {"case_no": "X-1", "备注": "<script>&"}, ISSUED)
    text = _text(pdf)
    assert "其他文书" in text and "X-1" in text and "<script>&" in text
