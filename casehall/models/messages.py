"""Message ids: English sentences with ``{placeholders}``, translated by ``casehall.core.i18n`` when answered.
Workflow-safe (stdlib only): refusals raised inside workflows carry the id and its parameters, not a translation.

``pybabel extract -F babel.cfg`` finds ``N_("...")`` (a message) and ``NC_("kind", "...")`` (a label of a value,
the kind being its gettext context) everywhere under ``casehall/``.
"""

from string import Formatter
from typing import Any


def N_(msgid: str) -> str:
    """Mark ``msgid`` for extraction into the catalogues (``pybabel extract``); returns it unchanged."""
    return msgid


def NC_(context: str, msgid: str) -> str:
    """Mark ``msgid`` in ``context`` (a kind of value: status, role...) for extraction; returns it unchanged."""
    return msgid


class _Keep(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(template: str, params: dict[str, Any]) -> str:
    """``template`` with its ``{placeholders}`` filled; a missing one stays as written, never an error."""
    try:
        return Formatter().vformat(template, (), _Keep(params))
    except (ValueError, IndexError, AttributeError, KeyError):
        return template


def message(msgid: str, **params: Any) -> dict[str, Any]:
    """The structured form carried by refusals (``ApplicationError`` details) and API errors."""
    return {"msgid": msgid, "params": params}


# Labels of the values the screens show, by kind; ``casehall.core.i18n.label`` translates them.
LABELS: dict[str, dict[str, str]] = {
    "status": {
        "registered": NC_("status", "registered"),
        "awaiting_materials": NC_("status", "awaiting main materials"),
        "awaiting_supplement": NC_("status", "accepted, awaiting supplements"),
        "supplement_overdue": NC_("status", "supplements overdue"),
        "in_handling": NC_("status", "in handling"),
        "veto_requested": NC_("status", "veto requested"),
        "in_consultation": NC_("status", "in joint consultation"),
        "awaiting_callback": NC_("status", "awaiting callback"),
        "rectification": NC_("status", "in rectification"),
        "closed": NC_("status", "closed"),
        "rejected": NC_("status", "rejected"),
    },
    "role": {
        "clerk": NC_("role", "window clerk"),
        "manager": NC_("role", "manager"),
        "director": NC_("role", "director"),
        "auditor": NC_("role", "auditor"),
        "admin": NC_("role", "administrator"),
        "operator": NC_("role", "hotline operator"),
        "dispatcher": NC_("role", "dispatcher"),
        "unit_handler": NC_("role", "unit handler"),
        "unit_head": NC_("role", "unit head"),
        "supervisor": NC_("role", "supervisor"),
    },
    "satisfaction": {
        "very_satisfied": NC_("satisfaction", "very satisfied"),
        "satisfied": NC_("satisfaction", "satisfied"),
        "basically_satisfied": NC_("satisfaction", "basically satisfied"),
        "dissatisfied": NC_("satisfaction", "dissatisfied"),
        "very_dissatisfied": NC_("satisfaction", "very dissatisfied"),
    },
    "channel": {
        "window": NC_("channel", "service window"),
        "online": NC_("channel", "online"),
        "phone": NC_("channel", "phone"),
        "hotline": NC_("channel", "12345 hotline"),
    },
    "handling_mode": {
        "window": NC_("handling_mode", "at the window"),
        "online": NC_("handling_mode", "online"),
        "home_visit": NC_("handling_mode", "home visit"),
    },
    "instruction": {
        "accept": NC_("instruction", "accept the case"),
        "joint_consultation": NC_("instruction", "joint consultation"),
        "assisted_handling": NC_("instruction", "assisted handling"),
    },
    "task": {
        "veto": NC_("task", "veto approval"),
        "supplement_overdue": NC_("task", "supplements overdue"),
        "rectification": NC_("task", "callback rectification"),
        "consultation_overdue": NC_("task", "consultation overdue"),
        "consultation_lead": NC_("task", "consultation overdue (lead department)"),
    },
    "document": {
        "rejection_notice": NC_("document", "rejection notice"),
        "one_time_notice": NC_("document", "one-time notice"),
        "combined_result": NC_("document", "combined result"),
    },
    "event": {
        "registered": NC_("event", "registered"),
        "accepted": NC_("event", "accepted"),
        "accepted_on_instruction": NC_("event", "accepted on instruction"),
        "accepted_after_consultation": NC_("event", "accepted after consultation"),
        "accepted_tolerantly": NC_("event", "accepted tolerantly"),
        "one_time_notice_issued": NC_("event", "one-time notice issued"),
        "supplement_received": NC_("event", "supplement received"),
        "supplement_reminder": NC_("event", "supplement reminder"),
        "supplement_overdue": NC_("event", "supplements overdue"),
        "supplement_extended": NC_("event", "supplement deadline extended"),
        "materials_complete": NC_("event", "materials complete"),
        "proceed_without_missing": NC_("event", "proceeding without the missing materials"),
        "veto_requested": NC_("event", "veto requested"),
        "veto_reminder": NC_("event", "veto approval reminder"),
        "veto_escalated": NC_("event", "veto escalated to the director"),
        "veto_approved": NC_("event", "veto approved"),
        "veto_refused": NC_("event", "veto refused"),
        "consultation_convened": NC_("event", "joint consultation convened"),
        "consultation_concluded": NC_("event", "joint consultation concluded"),
        "matters_dispatched": NC_("event", "matters dispatched"),
        "matters_finished": NC_("event", "all matters finished"),
        "completed": NC_("event", "completed"),
        "callback_rated": NC_("event", "callback rated"),
        "callback_dissatisfied": NC_("event", "callback dissatisfied"),
        "rectified": NC_("event", "rectified"),
        "rectification_overdue": NC_("event", "rectification overdue"),
        "rectification_escalated": NC_("event", "rectification escalated"),
        "handed_over": NC_("event", "handed over"),
        "handling_arranged": NC_("event", "home visit or online handling arranged"),
        "helper_assigned": NC_("event", "helper assigned"),
        "signed_on_behalf": NC_("event", "signed on the applicant's behalf"),
        "deadline_recomputed": NC_("event", "deadline recomputed"),
    },
    "consultation_event": {
        "convened": NC_("consultation_event", "convened"),
        "reminder": NC_("consultation_event", "reminder"),
        "escalated_to_department_managers": NC_("consultation_event", "escalated to the departments' managers"),
        "escalated_to_lead": NC_("consultation_event", "escalated to the lead department"),
        "opinion_given": NC_("consultation_event", "opinion given"),
        "opinion_amended": NC_("consultation_event", "opinion amended"),
        "deadline_extended": NC_("consultation_event", "deadline extended"),
        "concluded": NC_("consultation_event", "concluded"),
    },
    "id_type": {
        "resident_id": NC_("id_type", "resident ID card"),
        "passport": NC_("id_type", "Chinese passport"),
        "foreign_passport": NC_("id_type", "foreign passport"),
        "hk_macao_permit": NC_("id_type", "Hong Kong/Macao resident's permit to the mainland"),
        "taiwan_permit": NC_("id_type", "Taiwan resident's permit to the mainland"),
        "foreign_permanent_residence": NC_("id_type", "foreigner's permanent residence ID card"),
        "uscc": NC_("id_type", "unified social credit code"),
    },
    "applicant_kind": {
        "person": NC_("applicant_kind", "person"),
        "company": NC_("applicant_kind", "company or organisation"),
    },
}

# Parameters whose values are themselves vocabulary: rendered through LABELS (a kind) or as a message ("").
PARAM_KINDS: dict[str, str] = {
    "status": "status",
    "role": "role",
    "roles": "role",
    "grade": "satisfaction",
    "channel": "channel",
    "handling_mode": "handling_mode",
    "instruction": "instruction",
    "event": "event",
    "id_type": "id_type",
    "verb": "",
    "what": "",
    "verdict": "",
}

# Words passed as ``verb``, ``what`` or ``verdict`` by refusals: messages of their own.
WORDS = (
    N_("accepted"),
    N_("supplemented"),
    N_("given an overdue-supplement decision"),
    N_("completed"),
    N_("rated"),
    N_("rectified"),
    N_("sent to a joint consultation"),
    N_("decide a veto"),
    N_("decide on overdue supplements"),
    N_("record a rectification"),
    N_("convene a joint consultation"),
    N_("extend the deadline"),
    N_("assign a helper (assisted handling)"),
    N_("answer for it"),
    N_("record the conclusion"),
    N_("approved"),
    N_("refused"),
)
