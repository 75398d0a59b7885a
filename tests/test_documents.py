"""Official documents: GB/T 9704 layout with the font embedded and every glyph present; enrichment at issue time
(authority, 文号, names and titles, remedies) and the per-authority, per-year numbering, concurrency-safe."""

from __future__ import annotations

import asyncio
import io
import re
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from casehall.documents.fonts import charset
from casehall.documents.pdf import render_document
from casehall.documents.samples import ISSUED, SAMPLES, write
from casehall.models.activity_io import DocumentSpec
from casehall.models.consultation import Conclusion, ConsultationView, Opinion
from casehall.models.documents import chinese_date, format_local
from casehall.models.tables import Case, Department, DocumentNumber, DocumentRegister, User
from casehall.store.documents import Authority, allocate_number, consultation_minutes, enrich_document

POPPLER = shutil.which("pdffonts") is not None and shutil.which("pdftotext") is not None


def _text(pdf: bytes) -> str:
    """All text, whitespace removed (CJK wrapping splits words across lines): pdftotext if there, else pypdf."""
    if POPPLER:
        out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    else:
        out = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return "".join(out.split())


def _fonts(pdf: bytes) -> dict[str, bool]:
    """Every font a page uses: base name -> embedded (a FontFile, FontFile2 or FontFile3 in its descriptor)."""
    fonts: dict[str, bool] = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources: Any = page["/Resources"]
        for ref in (resources.get("/Font") or {}).values():
            font: Any = ref.get_object()
            descriptor: Any = font.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            fonts[str(font["/BaseFont"])] = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    return fonts


def _notdef_shows(pdf: bytes) -> int:
    """How many times a text operator draws code 0 (.notdef, an empty box in a viewer) of a subset font."""
    reader = PdfReader(io.BytesIO(pdf))
    count = 0
    for page in reader.pages:
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            strings = operands[0] if operator == b"TJ" else operands if operator in (b"Tj", b"'", b'"') else []
            for item in strings:
                if isinstance(item, bytes | str):  # pypdf decodes strings; the codes drawn are the original bytes
                    raw = item if isinstance(item, bytes) else item.original_bytes  # type: ignore[attr-defined]
                    count += raw.count(0)
    return count


def _chars(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(_chars(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_chars(v) for v in value)) if value else set()
    return set(str(value)) if value is not None else set()


# ---- rendering (no database) ----------------------------------------------------------------------------------

def test_dates_in_chinese_and_local_time() -> None:
    assert chinese_date(date(2026, 11, 22)) == "二〇二六年十一月二十二日"
    assert chinese_date(date(2030, 1, 10)) == "二〇三〇年一月十日"
    assert chinese_date(date(2026, 10, 31)) == "二〇二六年十月三十一日"
    assert format_local("2026-11-23T09:00:00+00:00") == "2026年11月23日 17:00"
    assert format_local(datetime(2026, 1, 5, 0, 5)) == "2026年1月5日 08:05"  # naive is UTC
    assert format_local(None) == ""


@pytest.mark.parametrize("kind", list(SAMPLES))
def test_every_document_embeds_its_font_and_has_every_glyph(kind: str) -> None:
    title, content = SAMPLES[kind]
    pdf = render_document(kind, title, content, ISSUED)
    fonts = _fonts(pdf)
    assert fonts and all(fonts.values()), fonts  # no font left to the viewer, no Helvetica
    assert all("CasehallSerifSC" in name for name in fonts)
    if POPPLER:
        listing = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True).stdout.decode()
        if not listing:  # older pdffonts read files only
            listing = _pdffonts_file(pdf)
        rows = [line.split() for line in listing.splitlines()[2:] if line.strip()]
        assert rows and all(row[-5] == "yes" for row in rows), listing  # the "emb" column
    assert _notdef_shows(pdf) == 0
    missing = {c for c in _chars(content) | set(title) if ord(c) not in charset() and c not in "\n\t"}
    assert not missing, missing
    text = _text(pdf)
    assert content["authority"]["name"] in text and content["doc_no"] in text and content["case_no"] in text
    assert "二〇二六年十一月二十二日" in text


def _pdffonts_file(pdf: bytes) -> str:
    path = Path(__file__).parent / ".pdffonts.pdf"
    try:
        path.write_bytes(pdf)
        return subprocess.run(["pdffonts", str(path)], capture_output=True, check=True).stdout.decode()
    finally:
        path.unlink(missing_ok=True)


def test_rejection_names_reasons_basis_remedies_and_approver() -> None:
    title, content = SAMPLES["rejection_notice"]
    text = _text(render_document("rejection_notice", title, content, ISSUED))
    for expected in ("长春市市场监督管理局", "长市监不受〔2026〕12号", "不予受理告知书", "李喆：",
                     "HALL-20261120-000123",
                     "".join(content["reasons"].split()), "《中华人民共和国民法典》第二百七十九条",
                     "六十日内向长春市人民政府申请行政复议", "六个月内依法向长春市朝阳区人民法院提起行政诉讼",
                     "审批人：张明（登记注册科科长）", "经办人：王芳", "（印章）", "送达回执", "2026年11月20日"):
        assert expected in text, expected
    assert "manager" not in text  # the approver by name, never the username


def test_combined_result_is_a_letter_not_a_dict() -> None:
    title, content = SAMPLES["combined_result"]
    text = _text(render_document("combined_result", title, content, ISSUED))
    for expected in ("统一受理的两项事项", "个体工商户设立登记", "长春市住房和城乡建设局", "已核发营业执照",
                     "（详见长住建不受〔2026〕3号不予受理告知书）", "如对第2项不予受理决定不服",
                     "长春市南关区人民法院"):
        assert expected in text, expected
    assert "{" not in text and "'case_no'" not in text and "+00:00" not in text


def test_minutes_say_opinions_and_conclusion_in_words() -> None:
    title, content = SAMPLES["consultation_minutes"]
    text = _text(render_document("consultation_minutes", title, content, ISSUED))
    for expected in ("附条件同意", "赵刚（科长）", "第2版", "长春市人力资源和社会保障局：未反馈意见", "延长2个工作日",
                     "予以受理", "采纳长春市住房和城乡建设局的意见"):
        assert expected in text, expected
    assert "agree_with_conditions" not in text and "accept" not in text
    draft = {k: v for k, v in content.items() if k not in ("conclusion", "doc_no")}
    assert "（草稿）" in _text(render_document("consultation_minutes", title, draft, ISSUED))


def test_same_content_same_bytes() -> None:
    title, content = SAMPLES["one_time_notice"]
    assert render_document("one_time_notice", title, content, ISSUED) == render_document(
        "one_time_notice", title, content, ISSUED)


def test_documents_stored_by_older_versions_still_print() -> None:
    legacy = {"case_no": "SX-2026-000123", "applicant": "张三", "item": "MKT-001 食品经营许可",
              "registered_at": "2026-11-20T02:30:00+00:00", "decided_at": "2026-11-23T09:00:00+00:00",
              "reasons": "不属于本机关职权范围", "legal_basis": "《中华人民共和国行政许可法》第三十二条",
              "requested_by": "clerk", "approved_by": "王五", "approver_role": "manager"}
    text = _text(render_document("rejection_notice", "不予受理告知书", legacy, ISSUED))
    for expected in ("不予受理告知书", "SX-2026-000123", "不属于本机关职权范围", "王五（负责人）",
                     "六十日内向本级人民政府申请行政复议", "六个月内依法向有管辖权的人民法院提起行政诉讼",
                     "二〇二六年十一月二十二日"):
        assert expected in text, expected
    old_one_time = {"case_no": "SX-1", "applicant": "赵六", "item": "X", "accepted": False,
                    "missing": [{"material": "经营场所证明", "main": True, "how_to_supply": "原件"}],
                    "supplement_deadline": "2026-11-30T09:00:00+00:00"}
    text = _text(render_document("one_time_notice", "一次性告知单", old_one_time, ISSUED))
    assert "暂未受理" in text and "经营场所证明" in text and "2026年11月30日17:00" in text
    old_combined = {"case_no": "P-1", "applicant": "A", "issued_at": "2026-11-22T02:00:00+00:00",
                    "matters": [{"case_no": "P-2", "item": "MKT-001", "department": "MKT", "outcome": "不予受理",
                                 "result": "", "reasons": "理由甲", "legal_basis": "依据乙"}]}
    text = _text(render_document("combined_result", "办理结果告知书", old_combined, ISSUED))
    assert "MKT-001" in text and "理由甲" in text and "有管辖权的人民法院" in text


def test_user_markup_is_escaped_and_missing_glyphs_are_spelled() -> None:
    title, content = SAMPLES["rejection_notice"]
    hostile = content | {"reasons": "<script>alert(1)</script> & <b", "applicant": "A&B <i>𠀀"}
    pdf = render_document("rejection_notice", title, hostile, ISSUED)
    text = _text(pdf)
    assert "<script>alert(1)</script>&<b" in text
    assert "A&B<i>[U+20000]" in text  # a character outside the font is spelled, never an empty box
    assert _notdef_shows(pdf) == 0
    assert 0x20000 not in charset() and ord("喆") in charset() and ord("堃") in charset()


def test_unknown_kind_prints_its_content() -> None:
    text = _text(render_document("other", "其他文书", {"case_no": "X-1", "备注": "<script>&"}, ISSUED))
    assert "其他文书" in text and "X-1" in text and "<script>&" in text


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) not installed")
def test_first_pages_render_with_red_mark_and_ink(tmp_path: Path) -> None:
    from PIL import Image

    for path in write(tmp_path):
        if path.suffix != ".png":
            continue
        image = Image.open(path).convert("RGB")
        width, height = image.size
        pixels: Any = image.load()
        assert pixels is not None
        top = [pixels[x, y] for x in range(0, width, 2) for y in range(int(height * 0.08), int(height * 0.25), 2)]
        red = sum(1 for r, g, b in top if r > 180 and g < 90 and b < 90)
        ink = sum(1 for x in range(0, width, 3) for y in range(0, height, 3) if sum(pixels[x, y]) < 200)
        assert red > 200, (path, red)  # the authority's mark and the rule under the number
        assert ink > 400, (path, ink)  # text drawn (measured: 900 and more; a blank page has 0)


# ---- enrichment and numbering (PostgreSQL) ---------------------------------------------------------------------

AT = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)


async def _case(session: AsyncSession, case_no: str, item: str = "MKT-001", dept: str = "MKT") -> None:
    clerk = await session.scalar(select(User).where(col(User.username) == "clerk"))
    assert clerk is not None and clerk.id is not None
    session.add(Case(case_no=case_no, item_code=item, department_code=dept, status="rejected", applicant_name="李喆",
                     applicant_phone="13800138000", applicant_id_number="220201199001011238", channel="window",
                     hall="长春市政务服务中心", window="3号窗口", first_clerk_id=clerk.id, clerk_id=clerk.id,
                     registered_at=AT, updated_at=AT))
    await session.flush()


def _rejection(case_no: str) -> DocumentSpec:
    return DocumentSpec(kind="rejection_notice", title="不予受理告知书", content={
        "case_no": case_no, "applicant": "李喆", "item": "MKT-001 个体工商户设立登记", "reasons": "理由",
        "legal_basis": "依据", "requested_by": "clerk", "approved_by": "manager", "approver_role": "manager"})


@pytest.fixture(scope="module")
async def configured(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    async with sessions.begin() as session:
        await session.execute(update(Department).where(col(Department.code) == "MKT").values(
            doc_prefix="长市监", reconsideration_body="长春市人民政府", court="长春市朝阳区人民法院"))
        await session.execute(update(User).where(col(User.username) == "manager").values(title="科长"))
    return sessions


async def test_enrichment_adds_authority_number_names_and_remedies(
        configured: async_sessionmaker[AsyncSession]) -> None:
    async with configured.begin() as session:
        await _case(session, "DOC-1")
        content = await enrich_document(session, "DOC-1", _rejection("DOC-1"), AT, seq=7)
        again = await enrich_document(session, "DOC-1", _rejection("DOC-1"), AT, seq=7)  # the event rewritten
    assert content["authority"] == {"code": "MKT", "name": "市场监督管理局"}
    assert re.fullmatch(r"长市监不受〔2026〕\d+号", content["doc_no"]) and again["doc_no"] == content["doc_no"]
    assert content["approver"]["name"] == "张科长" and content["approver"]["title"] == "科长"
    assert content["handler"]["name"] == "王窗口"
    assert content["remedies"]["reconsideration_body"] == "长春市人民政府"
    assert content["remedies"]["court"] == "长春市朝阳区人民法院"
    assert content["issued_on"] == "2026-11-22" and content["item_name"] == "个体工商户设立登记"
    text = _text(render_document("rejection_notice", "不予受理告知书", content, AT))
    for expected in ("市场监督管理局", content["doc_no"], "DOC-1", "理由", "依据", "张科长（科长）",
                     "长春市人民政府", "长春市朝阳区人民法院", "二〇二六年十一月二十二日"):
        assert expected in text, expected


async def test_a_section_issues_nothing_and_unset_fields_fall_back(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        await _case(session, "DOC-2", dept="MKT-REG")
        spec = _rejection("DOC-2")
        spec.content["approved_by"] = "nobody"  # a user since deleted: the username stays
        await session.execute(update(Department).where(col(Department.code).in_(["HOUSING", "CITY"]))
                              .values(doc_prefix="", court="", reconsideration_body=""))
        from casehall.store.documents import authority_of

        housing = await authority_of(session, "HOUSING")
        section = await authority_of(session, "MKT-REG")
    assert section.code == "MKT"  # the 登记注册科 is part of the bureau that signs
    assert housing.prefix == "HOUSING" and housing.court == "有管辖权的人民法院"
    assert housing.reconsideration_body == "本级人民政府"


async def test_two_rejections_of_one_authority_in_a_year_are_consecutive(
        configured: async_sessionmaker[AsyncSession]) -> None:
    async with configured.begin() as session:
        for case_no in ("DOC-3", "DOC-4"):
            await _case(session, case_no)
        first = await enrich_document(session, "DOC-3", _rejection("DOC-3"), AT, seq=5)
        second = await enrich_document(session, "DOC-4", _rejection("DOC-4"), AT, seq=5)
        next_year = await enrich_document(session, "DOC-4", _rejection("DOC-4"),
                                          datetime(2027, 1, 3, tzinfo=UTC), seq=9)
        one_time = await enrich_document(session, "DOC-4", DocumentSpec(
            kind="one_time_notice", title="一次性告知单", content={"case_no": "DOC-4"}), AT, seq=11)
    n1 = int(re.findall(r"〕(\d+)号", first["doc_no"])[0])
    assert second["doc_no"] == f"长市监不受〔2026〕{n1 + 1}号"
    assert next_year["doc_no"] == "长市监不受〔2027〕1号"
    assert one_time["doc_no"] == "长市监告知〔2026〕1号"


async def test_numbering_is_concurrency_safe(sessions: async_sessionmaker[AsyncSession]) -> None:
    authority = Authority("SOCIAL", "人力资源和社会保障局", "人社", "", "")

    async def issue(i: int) -> str:
        async with sessions.begin() as session:
            return await allocate_number(session, authority, "rejection_notice", 2031, f"test:{i}", AT)

    numbers = await asyncio.gather(*(issue(i) for i in range(24)))
    assert sorted(int(re.findall(r"〕(\d+)号", n)[0]) for n in numbers) == list(range(1, 25))

    async def rolled_back() -> None:  # a failed transaction gives its number back: no gap
        async with sessions() as session:
            await allocate_number(session, authority, "rejection_notice", 2031, "test:lost", AT)
            await session.rollback()

    await rolled_back()
    assert await issue(99) == "人社不受〔2031〕25号"
    async with sessions() as session:
        last = await session.scalar(select(col(DocumentNumber.last)).where(
            col(DocumentNumber.authority_code) == "SOCIAL", col(DocumentNumber.year) == 2031))
        register = (await session.scalars(select(col(DocumentRegister.number)).where(
            col(DocumentRegister.authority_code) == "SOCIAL", col(DocumentRegister.year) == 2031))).all()
    assert last == 25 and sorted(register) == list(range(1, 26))


async def test_minutes_are_numbered_once_and_frozen(configured: async_sessionmaker[AsyncSession]) -> None:
    async with configured.begin() as session:
        await _case(session, "DOC-5")
        users = {u.username: u for u in (await session.scalars(select(User))).all()}
    from casehall.models.case import Actor
    from casehall.models.enums import Role

    def actor(name: str) -> Actor:
        u = users[name]
        assert u.id is not None
        return Actor(user_id=u.id, username=u.username, role=Role(u.role), department_code=u.department_code)

    view = ConsultationView(
        consultation_id="DOC-5-1", case_no="DOC-5", lead_department="MKT", departments=["HOUSING", "SOCIAL"],
        question="可否办理？", documents=[], opened_at=AT,
        opinions={"HOUSING": [Opinion(department_code="HOUSING", version=1, decision="agree", text="同意",
                                      legal_basis="", by=actor("manager-housing"), at=AT)]})
    async with configured() as session:
        draft = await consultation_minutes(session, view)
    assert "doc_no" not in draft and draft["missing"] == [{"code": "SOCIAL", "name": "人力资源和社会保障局"}]
    view.conclusion = Conclusion(decision="accept", reasons="可以办理", follows=["HOUSING"], by=actor("manager"),
                                 at=AT, no_answer=["SOCIAL"])
    async with configured() as session:
        first = await consultation_minutes(session, view)
    async with configured.begin() as session:
        await session.execute(update(Department).where(col(Department.code) == "HOUSING").values(name="改名后的局"))
    async with configured() as session:
        later = await consultation_minutes(session, view)
    assert first == later and first["doc_no"] == "长市监会商〔2026〕1号"
    assert first["opinions"][0]["department_name"] == "住房和城乡建设局"
    assert first["conclusion"]["by"] == {"name": "张科长", "title": "科长", "username": "manager"}
    text = _text(render_document("consultation_minutes", "联合会商纪要", later, AT))
    assert "长市监会商〔2026〕1号" in text and "住房和城乡建设局：同意" in text and "改名后的局" not in text
    async with configured.begin() as session:
        await session.execute(delete(DocumentRegister).where(col(DocumentRegister.ref) == "consultation:DOC-5-1"))
