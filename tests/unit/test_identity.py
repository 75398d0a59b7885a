"""Identity documents: format, region, birth date and check-digit rules of each type."""

from datetime import date

import pytest
from pydantic import ValidationError

from casehall.models.identity import (
    ApplicantIdentity,
    ApplicantKind,
    IdentityError,
    IdType,
    check_id,
    mod11_2_check,
    org_code_check,
    uscc_check,
)

TODAY = date(2026, 3, 1)


def rule_of(id_type: IdType, number: str) -> str:
    with pytest.raises(IdentityError) as err:
        check_id(id_type, number, today=TODAY)
    assert isinstance(err.value, ValueError)
    assert any("\u4e00" <= c <= "\u9fff" for c in str(err.value)), str(err.value)  # the message is Chinese
    return err.value.rule


def test_mod11_2_matches_the_standard_example() -> None:
    # GB 11643-1999 appendix example: 11010519491231002X
    assert mod11_2_check("11010519491231002") == "X"
    assert check_id(IdType.RESIDENT_ID, "11010519491231002x", today=TODAY) == "11010519491231002X"


@pytest.mark.parametrize("number", [
    "220201199001011238",  # valid replacement of the README's 220201199001011234
    "220201198802024325",
    "440305200002290010",  # 29 February of a leap year
    "810000199507011238",  # Hong Kong residents' residence permit (81)
])
def test_valid_resident_ids(number: str) -> None:
    assert mod11_2_check(number[:17]) == number[17]
    assert check_id(IdType.RESIDENT_ID, f" {number} ", today=TODAY) == number


@pytest.mark.parametrize(("number", "rule"), [
    ("110105194912310021", "check_digit"),
    ("220201199001011234", "check_digit"),  # the README example: its check digit is 8
    ("ABCDEF", "length"),
    ("", "required"),
    ("22020119900101123", "length"),
    ("2202011990010112345", "length"),
    ("22020119900101123A", "charset"),
    ("X20201199001011238", "charset"),
    ("920201199001011235", "region"),  # 9x is no province (2023 permanent residence cards start with 9)
    ("000000199001011232", "region"),
    ("220201199002301233", "birth_date"),  # 30 February
    ("440305190002290010", "birth_date"),  # 1900 was not a leap year
    ("220201203001011230", "birth_date"),  # in the future
    ("220201180001011235", "birth_date"),  # before 1850
])
def test_invalid_resident_ids(number: str, rule: str) -> None:
    assert rule_of(IdType.RESIDENT_ID, number) == rule


def test_birth_date_bound_is_today() -> None:
    p17 = "22020120260302123"
    number = p17 + mod11_2_check(p17)
    assert rule_of(IdType.RESIDENT_ID, number) == "birth_date"
    assert check_id(IdType.RESIDENT_ID, number, today=date(2026, 3, 2)) == number


def test_full_width_input_is_folded() -> None:
    assert check_id(IdType.RESIDENT_ID, "２２０２０１１９９００１０１１２３８", today=TODAY) == "220201199001011238"


@pytest.mark.parametrize("code", [
    "91350100M000100Y43",  # the example of GB 32100-2015
    "914403001922038216",
    "91440300708461136T",
    "91330100716105852F",
])
def test_valid_credit_codes(code: str) -> None:
    assert uscc_check(code[:17]) == code[17] and org_code_check(code[8:16]) == code[16]
    assert check_id(IdType.USCC, code.lower()) == code


@pytest.mark.parametrize(("code", "rule"), [
    ("91350100M000100Y44", "check_digit"),
    ("91350100M000100Y4", "length"),
    ("91350100M000I00Y43", "charset"),  # I is never used
    ("9135010OM000100Y43", "charset"),  # O for 0
    ("91S50100M000100Y43", "charset"),
    ("913501A0M000100Y43", "region"),
    ("91350100M000100Y53", "org_code_check"),
    ("ABCDEF", "length"),
])
def test_invalid_credit_codes(code: str, rule: str) -> None:
    assert rule_of(IdType.USCC, code) == rule


@pytest.mark.parametrize(("id_type", "number", "normalised"), [
    (IdType.PASSPORT, "e12345678", "E12345678"),
    (IdType.PASSPORT, "G12345678", "G12345678"),
    (IdType.PASSPORT, "EA1234567", "EA1234567"),
    (IdType.FOREIGN_PASSPORT, "x1234", "X1234"),
    (IdType.FOREIGN_PASSPORT, "AB12345678901234567C", "AB12345678901234567C"),
    (IdType.HK_MACAO_PERMIT, "H12345678", "H12345678"),
    (IdType.HK_MACAO_PERMIT, "M1234567801", "M1234567801"),
    (IdType.TAIWAN_PERMIT, "12345678", "12345678"),
    (IdType.TAIWAN_PERMIT, "0123456789(b)", "0123456789B"),
    (IdType.TAIWAN_PERMIT, "0123456789", "0123456789"),
    (IdType.FOREIGN_PERMANENT_RESIDENCE, "USA110012311234", "USA110012311234"),
])
def test_valid_other_documents(id_type: IdType, number: str, normalised: str) -> None:
    assert check_id(id_type, number, today=TODAY) == normalised


def test_permanent_residence_2023_card() -> None:
    p17 = "93184019850615001"  # 9, region 31, nationality 840, born 1985-06-15
    number = p17 + mod11_2_check(p17)
    assert check_id(IdType.FOREIGN_PERMANENT_RESIDENCE, number, today=TODAY) == number
    wrong = p17 + ("0" if number[17] != "0" else "1")
    assert rule_of(IdType.FOREIGN_PERMANENT_RESIDENCE, wrong) == "check_digit"
    bad_date = "93184019851315001"
    assert rule_of(IdType.FOREIGN_PERMANENT_RESIDENCE, bad_date + mod11_2_check(bad_date)) == "birth_date"
    p17 = "83184019850615001"
    assert rule_of(IdType.FOREIGN_PERMANENT_RESIDENCE, p17 + mod11_2_check(p17)) == "format"


@pytest.mark.parametrize(("id_type", "number"), [
    (IdType.PASSPORT, "E1234567"),
    (IdType.PASSPORT, "A12345678"),
    (IdType.PASSPORT, "EI1234567"),
    (IdType.FOREIGN_PASSPORT, "AB12"),
    (IdType.FOREIGN_PASSPORT, "AB-12345"),
    (IdType.FOREIGN_PASSPORT, "A" * 21),
    (IdType.HK_MACAO_PERMIT, "K12345678"),
    (IdType.HK_MACAO_PERMIT, "H123456789"),
    (IdType.TAIWAN_PERMIT, "1234567"),
    (IdType.TAIWAN_PERMIT, "ABCDEF"),
    (IdType.FOREIGN_PERMANENT_RESIDENCE, "US1100123112345"),
])
def test_invalid_other_documents(id_type: IdType, number: str) -> None:
    assert rule_of(id_type, number) == "format"


def test_applicant_identity_model() -> None:
    person = ApplicantIdentity(id_number="11010519491231002x")
    assert person.kind is ApplicantKind.PERSON and person.id_type is IdType.RESIDENT_ID
    assert person.id_number == "11010519491231002X"
    company = ApplicantIdentity.model_validate({"kind": "company", "id_number": "91350100m000100y43"})
    assert company.id_type is IdType.USCC and company.id_number == "91350100M000100Y43"
    assert ApplicantIdentity(id_type=IdType.PASSPORT, id_number="E12345678").id_number == "E12345678"

    with pytest.raises(ValidationError) as err:
        ApplicantIdentity(id_number="110105194912310021")
    (e,) = err.value.errors()
    assert e["loc"] == ("id_number",) and e["ctx"]["error"].rule == "check_digit"
    with pytest.raises(ValidationError) as err:
        ApplicantIdentity.model_validate({"kind": "company", "id_type": "resident_id", "id_number": "x"})
    assert [e["loc"] for e in err.value.errors()] == [("id_type",)]
    with pytest.raises(ValidationError) as err:
        ApplicantIdentity.model_validate({"kind": "person", "id_type": "uscc", "id_number": "91350100M000100Y43"})
    assert err.value.errors()[0]["ctx"]["error"].rule == "kind"
    with pytest.raises(ValidationError) as err:
        ApplicantIdentity.model_validate({"id_type": "driving_licence", "id_number": "x"})
    assert err.value.errors()[0]["type"] == "enum"
