"""The rules of the mission as pure functions: no database, no Temporal server."""

from datetime import UTC, datetime

import pytest
from temporalio.exceptions import ApplicationError

from casehall.models.case import Actor, Applicant, CaseView, ItemRules, Material, ServiceItemInfo, VetoState
from casehall.models.commands import Command, Supplement, VetoDecision
from casehall.models.enums import CaseStatus, Channel, HandlingMode, Instruction, Role
from casehall.models.events import EventType
from casehall.models.text import storable
from casehall.workflows import no_veto, tolerant_acceptance
from casehall.workflows.access import require_helper, require_responsible, sees_id_number
from casehall.workflows.errors import CONFLICT, FORBIDDEN, INVALID, INVALID_STATE

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
CLERK = Actor(user_id=1, username="clerk", role=Role.CLERK, department_code="CITY")
CLERK2 = Actor(user_id=2, username="clerk2", role=Role.CLERK, department_code="CITY")
MANAGER = Actor(user_id=3, username="manager", role=Role.MANAGER, department_code="MKT")
OTHER_MANAGER = Actor(user_id=4, username="manager-housing", role=Role.MANAGER, department_code="HOUSING")
DIRECTOR = Actor(user_id=6, username="director", role=Role.DIRECTOR, department_code="CITY")
AUDITOR = Actor(user_id=7, username="auditor", role=Role.AUDITOR, department_code="CITY")
ITEM = ServiceItemInfo(code="MKT-001", name="个体工商户设立登记", department_code="MKT",
                       department_path=["MKT", "CITY"], time_limit_days=3, expedited_days=1, rules=ItemRules(),
                       materials=[Material(name="身份证明"), Material(name="场所证明"),
                                  Material(name="情况说明", main=False)])


def case(status: CaseStatus = CaseStatus.REGISTERED, **kw: object) -> CaseView:
    return CaseView(case_no="HALL-1", item_code=ITEM.code, department_code="MKT", status=status,
                    applicant=Applicant(name="张三", phone="13800138000", id_number="220201199001011238"),
                    channel=Channel.WINDOW, hall="大厅", window="1", description="", handling_mode=HandlingMode.WINDOW,
                    cross_region_urgent=False, first_clerk_id=1, clerk_id=1, registered_at=NOW,
                    phase_started_at=NOW, **kw)  # type: ignore[arg-type]


def vetoed(by: Actor = CLERK, **kw: object) -> CaseView:
    veto = VetoState(requested_by=by, reasons="禁止类目录", legal_basis="第十二条", requested_at=NOW,
                     resume_status=CaseStatus.REGISTERED, **kw)  # type: ignore[arg-type]
    return case(CaseStatus.VETO_REQUESTED, veto=veto)


def refused(kind: str, call: object) -> ApplicationError:
    with pytest.raises(ApplicationError) as err:
        call()  # type: ignore[operator]
    assert err.value.type == kind and err.value.non_retryable
    return err.value


def test_a_clerk_never_says_no_alone() -> None:
    decision = Command[VetoDecision](actor=CLERK2, body=VetoDecision(approve=True))
    refused(FORBIDDEN, lambda: no_veto.check_decision(vetoed(), ITEM, decision))


def test_the_requester_never_decides_even_as_a_manager() -> None:
    decision = Command[VetoDecision](actor=MANAGER, body=VetoDecision(approve=True))
    error = refused(FORBIDDEN, lambda: no_veto.check_decision(vetoed(by=MANAGER), ITEM, decision))
    assert error.details[0]["msgid"] == "the requester of a veto can never decide it"


def test_only_deciders_of_the_item_department_or_above() -> None:
    refused(FORBIDDEN, lambda: no_veto.check_decision(
        vetoed(), ITEM, Command(actor=OTHER_MANAGER, body=VetoDecision(approve=True))))
    no_veto.check_decision(vetoed(), ITEM, Command(actor=MANAGER, body=VetoDecision(approve=True)))
    no_veto.check_decision(vetoed(), ITEM, Command(actor=DIRECTOR, body=VetoDecision(approve=True)))


def test_a_decision_is_once_and_its_repeat_passes() -> None:
    decided = vetoed(decided_by=MANAGER, approve=True)
    no_veto.check_decision(decided, ITEM, Command(actor=DIRECTOR, body=VetoDecision(approve=True)))
    refused(CONFLICT, lambda: no_veto.check_decision(decided, ITEM, Command(
        actor=DIRECTOR, body=VetoDecision(approve=False, instruction=Instruction.ACCEPT))))


def test_refusing_a_veto_needs_an_instruction() -> None:
    refused(INVALID, lambda: no_veto.check_decision(vetoed(), ITEM, Command(
        actor=MANAGER, body=VetoDecision(approve=False))))


@pytest.mark.parametrize("status", [CaseStatus.VETO_REQUESTED, CaseStatus.CLOSED, CaseStatus.REJECTED,
                                    CaseStatus.AWAITING_CALLBACK, CaseStatus.IN_CONSULTATION])
def test_no_veto_request_from_a_pending_veto_or_a_finished_case(status: CaseStatus) -> None:
    refused(INVALID_STATE, lambda: no_veto.check_request(case(status)))


def test_tolerant_acceptance_tells_main_from_secondary_materials() -> None:
    missing = [m.name for m in tolerant_acceptance.missing(ITEM, ["身份证明"])]
    assert missing == ["场所证明", "情况说明"]
    assert tolerant_acceptance.main_missing(ITEM, missing) == ["场所证明"]
    assert tolerant_acceptance.main_missing(ITEM, ["情况说明"]) == []
    refused(INVALID, lambda: tolerant_acceptance.check_supplement(case(missing_materials=["情况说明"]), ["身份证明"]))


def test_one_time_notice_lists_every_missing_item_once() -> None:
    notice = tolerant_acceptance.one_time_notice(case(missing_materials=["场所证明", "情况说明"]), ITEM, None, NOW)
    assert [line["material"] for line in notice.content["missing"]] == ["场所证明", "情况说明"]
    assert notice.content["accepted"] is False


def test_access_rules() -> None:
    view = case()
    refused(FORBIDDEN, lambda: require_responsible(CLERK2, view, ITEM))
    refused(FORBIDDEN, lambda: require_responsible(AUDITOR, view, ITEM))
    require_responsible(MANAGER, view, ITEM)
    refused(INVALID, lambda: require_helper(AUDITOR))  # a bad choice of helper is bad input, not the caller's fault
    assert sees_id_number(CLERK, (1, 1), ITEM.department_path)
    assert not sees_id_number(CLERK2, (1, 1), ITEM.department_path)
    assert sees_id_number(DIRECTOR, (1, 1), ITEM.department_path)
    assert not sees_id_number(OTHER_MANAGER, (1, 1), ITEM.department_path)


def test_every_event_says_where_it_leaves_the_case() -> None:
    assert EventType.ACCEPTED.status == CaseStatus.IN_HANDLING
    assert EventType.VETO_REQUESTED.suspends and EventType.VETO_REFUSED.resumes
    assert EventType.VETO_REFUSED.status is None and EventType.CONSULTATION_CONCLUDED.resumes
    final = {e for e in EventType if e.status in (CaseStatus.CLOSED, CaseStatus.REJECTED)}
    assert final == {EventType.CALLBACK_RATED, EventType.RECTIFIED, EventType.VETO_APPROVED}


def test_commands_recorded_before_the_envelope_still_read() -> None:
    old = {"actor": CLERK.model_dump(), "items": ["情况说明"], "on_behalf_of_applicant": True}
    command = Command[Supplement].model_validate(old)
    assert command.actor == CLERK and command.body.items == ["情况说明"] and command.body.on_behalf_of_applicant


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "bell\x07", "del\x7f"])
def test_text_postgresql_refuses_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        storable(text)
    assert storable("换行\n制表\t中文") == "换行\n制表\t中文"
