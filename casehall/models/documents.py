"""What official documents say the same way everywhere: dates in Chinese, local times, document numbers (文号),
titles, remedies. Stdlib only: shared by the renderer (casehall.documents) and the enrichment (store.documents)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Shanghai"
DIGITS = "〇一二三四五六七八九"

# The word of a document number (文号) per document kind: 长政服不受〔2026〕12号.
KIND_CODES = {
    "rejection_notice": "不受",
    "one_time_notice": "告知",
    "supplement_notice": "补正",
    "combined_result": "结果",
    "consultation_minutes": "会商",
}
TITLES = {
    "rejection_notice": "不予受理告知书",
    "one_time_notice": "一次性告知单",
    "supplement_notice": "材料补正通知单",
    "combined_result": "办理结果告知书",
    "consultation_minutes": "联合会商纪要",
}
# A user's title when none is recorded: the role as the hall names it.
ROLE_TITLES = {"clerk": "窗口工作人员", "manager": "负责人", "director": "分管领导", "auditor": "督查人员",
               "admin": "系统管理员"}

RECONSIDERATION_DAYS = 60  # 行政复议法 第二十条: within 60 days of knowing of the decision
LITIGATION_MONTHS = 6  # 行政诉讼法 第四十六条: within 6 months of knowing of the decision
DEFAULT_RECONSIDERATION_BODY = "本级人民政府"  # 行政复议法 (2023) 第二十四条: a department's decision goes to it
DEFAULT_COURT = "有管辖权的人民法院"


def _number(n: int) -> str:
    """1..31 in Chinese numerals: 十, 十一, 二十, 三十一."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else DIGITS[tens] + "十")
    return head + (DIGITS[ones] if ones else "") if n else DIGITS[0]


def chinese_date(day: date) -> str:
    """二〇二六年十一月二十二日."""
    year = "".join(DIGITS[int(d)] for d in str(day.year))
    return f"{year}年{_number(day.month)}月{_number(day.day)}日"


def parse_time(value: datetime | str | None) -> datetime | None:
    """A datetime from a value or an ISO string; naive values are taken as UTC; None or '' stays None."""
    if value is None or value == "":
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local(value: datetime | str | None, tz: str = DEFAULT_TZ) -> datetime | None:
    moment = parse_time(value)
    return moment.astimezone(ZoneInfo(tz)) if moment else None


def format_local(value: datetime | str | None, tz: str = DEFAULT_TZ) -> str:
    """2026年11月23日 17:00 in the hall's time zone; '' for nothing."""
    moment = local(value, tz)
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}" if moment else ""


def format_day(value: datetime | str | None, tz: str = DEFAULT_TZ) -> str:
    """2026年11月23日 in the hall's time zone; '' for nothing."""
    moment = local(value, tz)
    return f"{moment.year}年{moment.month}月{moment.day}日" if moment else ""


def doc_no(prefix: str, kind: str, year: int, number: int) -> str:
    """长政服不受〔2026〕12号."""
    return f"{prefix}{KIND_CODES.get(kind, '')}〔{year}〕{number}号"
