"""Identity documents of applicants (citizens and companies): type, format and check-digit rules.

Pure (stdlib + pydantic): imported inside Temporal workflows. ``check_id`` answers the normalised number or raises
``IdentityError`` (a ``ValueError``) whose text is Chinese, with the failed ``rule`` and an English ``message_en``.

Rules:
- resident ID card (居民身份证, GB 11643-1999): 17 digits and a check character (0-9 or X, ISO 7064 MOD 11-2);
  the first two digits are a province code of GB/T 2260 (first digit 1-8); digits 7-14 a valid birth date, not in
  the future.
- passport of the People's Republic of China: E or G and 8 digits, or E, a letter and 7 digits (since 2018);
  foreign passports: 5 to 20 letters and digits.
- Hong Kong / Macao residents' permit to the mainland (回乡证): H or M and 8 digits (10 on older cards).
- Taiwan residents' permit to the mainland (台胞证): 8 digits (card of 2015), or 10 digits with an optional letter
  (older booklets, e.g. ``0123456789(B)``).
- foreigner's permanent residence card: 2017 card 3 letters (nationality) and 12 digits; 2023 card 18 digits
  starting with 9, a birth date at digits 7-14 and the MOD 11-2 check character of GB 11643.
- unified social credit code of an organisation (统一社会信用代码, GB 32100-2015): 18 characters from
  ``0-9 A-H J-N P-R T U W-Y`` (no I O S V Z), digits 3-8 a region code, characters 9-17 an organisation code with its
  GB 11714 check, and a MOD 31 check character.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, ValidationInfo, field_validator, model_validator


class ApplicantKind(StrEnum):
    PERSON = "person"
    COMPANY = "company"


class IdType(StrEnum):
    RESIDENT_ID = "resident_id"  # 居民身份证
    PASSPORT = "passport"  # 中华人民共和国护照
    FOREIGN_PASSPORT = "foreign_passport"  # 外国护照
    HK_MACAO_PERMIT = "hk_macao_permit"  # 港澳居民来往内地通行证 (回乡证)
    TAIWAN_PERMIT = "taiwan_permit"  # 台湾居民来往大陆通行证 (台胞证)
    FOREIGN_PERMANENT_RESIDENCE = "foreign_permanent_residence"  # 外国人永久居留身份证
    USCC = "uscc"  # 统一社会信用代码


ID_TYPE_NAMES: dict[IdType, tuple[str, str]] = {
    IdType.RESIDENT_ID: ("居民身份证", "resident ID card"),
    IdType.PASSPORT: ("中国护照", "Chinese passport"),
    IdType.FOREIGN_PASSPORT: ("外国护照", "foreign passport"),
    IdType.HK_MACAO_PERMIT: ("港澳居民来往内地通行证", "Hong Kong/Macao resident's permit to the mainland"),
    IdType.TAIWAN_PERMIT: ("台湾居民来往大陆通行证", "Taiwan resident's permit to the mainland"),
    IdType.FOREIGN_PERMANENT_RESIDENCE: ("外国人永久居留身份证", "foreigner's permanent residence ID card"),
    IdType.USCC: ("统一社会信用代码", "unified social credit code"),
}

TYPES_OF: dict[ApplicantKind, frozenset[IdType]] = {
    ApplicantKind.PERSON: frozenset(IdType) - {IdType.USCC},
    ApplicantKind.COMPANY: frozenset({IdType.USCC}),
}

# Province-level codes of GB/T 2260 (71 Taiwan, 81 Hong Kong, 82 Macao, 83 residence permits of Taiwan residents).
PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54,
     61, 62, 63, 64, 65, 71, 81, 82, 83}
)
EARLIEST_BIRTH = date(1850, 1, 1)
_MOD11_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]


class IdentityError(ValueError):
    """A number that breaks a rule of its document type; ``str()`` is the Chinese message."""

    def __init__(self, rule: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_zh)
        self.rule, self.message_zh, self.message_en = rule, message_zh, message_en


def _fail(id_type: IdType, rule: str, zh: str, en: str) -> IdentityError:
    name_zh, name_en = ID_TYPE_NAMES[id_type]
    return IdentityError(rule, f"{name_zh}号码{zh}", f"{name_en} number: {en}")


def mod11_2_check(first17: str) -> str:
    """The check character of GB 11643-1999 (ISO 7064 MOD 11-2) for 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, _MOD11_WEIGHTS, strict=True))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def uscc_check(first17: str) -> str:
    """The check character of GB 32100-2015 for the first 17 characters of a unified social credit code."""
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def org_code_check(first8: str) -> str:
    """The check character of an organisation code (GB 11714-1997)."""
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def normalise(number: str) -> str:
    """Full-width characters folded (NFKC), spaces removed, letters upper-case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", number)).upper()


def _birth_date(id_type: IdType, digits: str, today: date) -> None:
    try:
        born = date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise _fail(id_type, "birth_date", f"中的出生日期 {digits} 不存在",
                    f"the birth date {digits} does not exist") from None
    if born > today:
        raise _fail(id_type, "birth_date", f"中的出生日期 {born.isoformat()} 晚于今天",
                    f"the birth date {born.isoformat()} is in the future")
    if born < EARLIEST_BIRTH:
        raise _fail(id_type, "birth_date", f"中的出生日期 {born.isoformat()} 早于 1850 年",
                    f"the birth date {born.isoformat()} is before 1850")


def _mod11(id_type: IdType, number: str) -> None:
    if number[17] != mod11_2_check(number[:17]):
        raise _fail(id_type, "check_digit", "校验位不符（GB 11643-1999），请逐位核对",
                    "the check character does not match (GB 11643-1999); check every digit")


def _resident_id(number: str, today: date) -> str:
    t = IdType.RESIDENT_ID
    if len(number) != 18:
        raise _fail(t, "length", f"应为 18 位，实为 {len(number)} 位", f"18 characters expected, got {len(number)}")
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise _fail(t, "charset", "应为 17 位数字加 1 位数字或 X", "17 digits and a digit or X expected")
    if int(number[:2]) not in PROVINCES:
        raise _fail(t, "region", f"的地区码 {number[:6]} 不是有效的省级行政区划代码",
                    f"the region code {number[:6]} has no valid province")
    _birth_date(t, number[6:14], today)
    _mod11(t, number)
    return number


def _uscc(number: str) -> str:
    t = IdType.USCC
    if len(number) != 18:
        raise _fail(t, "length", f"应为 18 位，实为 {len(number)} 位", f"18 characters expected, got {len(number)}")
    wrong = sorted({c for c in number if c not in USCC_CHARSET})
    if wrong:
        raise _fail(t, "charset", f"含有不允许的字符 {''.join(wrong)}（不使用 I、O、S、V、Z）",
                    f"characters not allowed: {''.join(wrong)} (I, O, S, V, Z are never used)")
    if not number[2:8].isdigit():
        raise _fail(t, "region", f"第 3-8 位应为行政区划码，实为 {number[2:8]}",
                    f"characters 3-8 must be a region code, got {number[2:8]}")
    if number[16] != org_code_check(number[8:16]):
        raise _fail(t, "org_code_check", "第 9-17 位的组织机构代码校验位不符（GB 11714）",
                    "the organisation code (characters 9-17) fails its check (GB 11714)")
    if number[17] != uscc_check(number[:17]):
        raise _fail(t, "check_digit", "校验码不符（GB 32100-2015），请逐位核对",
                    "the check character does not match (GB 32100-2015); check every character")
    return number


def _permanent_residence(number: str, today: date) -> str:
    t = IdType.FOREIGN_PERMANENT_RESIDENCE
    if re.fullmatch(r"[A-Z]{3}\d{12}", number):
        return number  # 2017 card
    if len(number) != 18 or not re.fullmatch(r"9\d{16}[\dX]", number):
        raise _fail(t, "format", "应为 2017 版 3 位字母加 12 位数字，或 2023 版以 9 开头的 18 位号码",
                    "3 letters and 12 digits (2017 card) or 18 characters starting with 9 (2023 card) expected")
    _birth_date(t, number[6:14], today)
    _mod11(t, number)
    return number


_PATTERNS: dict[IdType, tuple[str, str, str]] = {
    IdType.PASSPORT: (r"[EG]\d{8}|E[A-HJ-NP-Z]\d{7}", "应为 E 或 G 加 8 位数字，或 E 加 1 位字母和 7 位数字",
                      "E or G and 8 digits, or E, a letter and 7 digits expected"),
    IdType.FOREIGN_PASSPORT: (r"[A-Z0-9]{5,20}", "应为 5 至 20 位字母或数字", "5 to 20 letters or digits expected"),
    IdType.HK_MACAO_PERMIT: (r"[HM]\d{8}(\d{2})?", "应为 H 或 M 加 8 位（旧证 10 位）数字",
                             "H or M and 8 digits (10 on older cards) expected"),
    IdType.TAIWAN_PERMIT: (r"\d{8}|\d{10}[A-Z]?", "应为 8 位数字，或旧证 10 位数字（可带 1 位字母）",
                           "8 digits, or 10 digits with an optional letter (older permits) expected"),
}


def check_id(id_type: IdType | str, number: str, today: date | None = None) -> str:
    """The normalised number, or ``IdentityError`` naming the failed rule.

    ``today`` bounds birth dates; inside a workflow pass ``workflow.now().date()`` (a date valid once stays valid).
    """
    t = IdType(id_type)
    value = normalise(number)
    if not value:
        raise _fail(t, "required", "不能为空", "must not be empty")
    day = today or date.today()
    if t is IdType.RESIDENT_ID:
        return _resident_id(value, day)
    if t is IdType.USCC:
        return _uscc(value)
    if t is IdType.FOREIGN_PERMANENT_RESIDENCE:
        return _permanent_residence(value, day)
    if t is IdType.TAIWAN_PERMIT:
        value = re.sub(r"\(([A-Z])\)$", r"\1", value)  # 0123456789(B) -> 0123456789B
    pattern, zh, en = _PATTERNS[t]
    if not re.fullmatch(pattern, value):
        raise _fail(t, "format", zh, en)
    return value


ResidentIdNumber = Annotated[str, AfterValidator(lambda v: check_id(IdType.RESIDENT_ID, v))]
CreditCode = Annotated[str, AfterValidator(lambda v: check_id(IdType.USCC, v))]


class ApplicantIdentity(BaseModel):
    """Who applies and the document proving it; ``id_number`` comes back normalised (e.g. a final ``x`` upper-case).

    Subclass it (``class Applicant(ApplicantIdentity)``) or embed it: errors point at ``id_type`` / ``id_number``.
    """

    kind: ApplicantKind = ApplicantKind.PERSON
    id_type: IdType = IdType.RESIDENT_ID
    id_number: str = Field(min_length=1, max_length=40)

    @model_validator(mode="before")
    @classmethod
    def _default_type(cls, data: Any) -> Any:
        """Without ``id_type``: a company shows its credit code, a person a resident ID card."""
        if isinstance(data, dict) and data.get("id_type") is None:
            company = data.get("kind") in (ApplicantKind.COMPANY, ApplicantKind.COMPANY.value)
            return {**data, "id_type": IdType.USCC if company else IdType.RESIDENT_ID}
        return data

    @field_validator("id_type")
    @classmethod
    def _type_fits_kind(cls, value: IdType, info: ValidationInfo) -> IdType:
        kind = info.data.get("kind")
        if kind is not None and value not in TYPES_OF[kind]:
            if kind is ApplicantKind.COMPANY:
                raise IdentityError("kind", "企业或其他组织应使用统一社会信用代码",
                                    "a company proves itself with its unified social credit code")
            raise IdentityError("kind", "个人不能使用统一社会信用代码",
                                "a person cannot use a unified social credit code")
        return value

    @field_validator("id_number")
    @classmethod
    def _number_fits_type(cls, value: str, info: ValidationInfo) -> str:
        id_type = info.data.get("id_type")
        return value if id_type is None else check_id(id_type, value)
