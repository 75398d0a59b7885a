"""What operators see of a running workflow: search attributes in the Temporal UI and the workflow's counters.

Search attributes (never personal data: numbers, codes, status, deadline) let an operator type
``DepartmentCode="MKT" AND CaseStatus="veto_requested"`` in the Temporal UI. The recorder upserts them after every
transition it stores (only those that changed), behind the patch ``search-attributes`` so that histories recorded
before keep replaying. ``Overdue`` is kept by workflows that record the moment their deadline passes (hotline orders);
a hall case's or consultation's clock pauses and resumes, so for them search ``Deadline < "<now>"`` with the running
statuses (README, "Operating casehall").

The counters go through ``workflow.metric_meter()``: not counted on replay, exported by the worker's Prometheus
endpoint (``CASEHALL_WORKER_METRICS_ADDRESS``) beside the SDK's own, and no-ops without it."""

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from temporalio import workflow
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import (
    SearchAttributeIndexedValueType,
    SearchAttributeKey,
    SearchAttributePair,
    SearchAttributeUpdate,
    TypedSearchAttributes,
)
from temporalio.service import RPCError, RPCStatusCode

with workflow.unsafe.imports_passed_through():
    from casehall.models.case import CaseView
    from casehall.models.consultation import ConsultationStatus, ConsultationView
    from casehall.models.enums import FINAL_STATUSES, CaseStatus
    from casehall.models.hotline import ORDER_FINAL, OrderView

PATCH = "search-attributes"  # decided at the first transition (histories recorded before "…-at-start")
PATCH_AT_START = "search-attributes-at-start"  # decided once, first thing in run: a replay decides it at the same
# point (a patch decided after a local activity can land in another workflow task on replay)

CASE_NO = SearchAttributeKey.for_keyword("CaseNo")  # the case number; a consultation's case; a hotline order's
DEPARTMENT = SearchAttributeKey.for_keyword("DepartmentCode")  # the item's / lead / current unit
ITEM = SearchAttributeKey.for_keyword("ItemCode")  # the service item; a hotline order's category
STATUS = SearchAttributeKey.for_keyword("CaseStatus")
DEADLINE = SearchAttributeKey.for_datetime("Deadline")
DEADLINE_PROVISIONAL = SearchAttributeKey.for_bool("DeadlineProvisional")  # computed on a provisional calendar
OVERDUE = SearchAttributeKey.for_bool("Overdue")
KIND = SearchAttributeKey.for_keyword("Kind")  # hall_case | consultation | hotline_order

KEYS: tuple[SearchAttributeKey[Any], ...] = (
    CASE_NO, DEPARTMENT, ITEM, STATUS, DEADLINE, DEADLINE_PROVISIONAL, OVERDUE, KIND)

HALL_CASE, CONSULTATION, HOTLINE_ORDER = "hall_case", "consultation", "hotline_order"

# The names `temporal server start-dev --search-attribute Name=Type` and `temporal operator search-attribute create
# --type` take.
CLI_TYPES = {
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
    SearchAttributeIndexedValueType.BOOL: "Bool",
}


def cli_flags() -> list[str]:
    """``--search-attribute Name=Type`` for every key, for ``temporal server start-dev``."""
    return [arg for key in KEYS for arg in ("--search-attribute", f"{key.name}={CLI_TYPES[key.indexed_value_type]}")]


def kind_of(view: Any) -> str:
    if isinstance(view, ConsultationView):
        return CONSULTATION
    if isinstance(view, OrderView):
        return HOTLINE_ORDER
    return HALL_CASE


def values(view: Any) -> dict[str, Any]:
    """The search attributes of a case, consultation or hotline order as it stands (None: not set)."""
    if isinstance(view, CaseView):
        return {CASE_NO.name: view.case_no, DEPARTMENT.name: view.department_code, ITEM.name: view.item_code,
                STATUS.name: view.status.value, DEADLINE.name: view.deadline,
                DEADLINE_PROVISIONAL.name: view.deadline_provisional if view.deadline else None,
                OVERDUE.name: None, KIND.name: HALL_CASE}
    if isinstance(view, ConsultationView):
        return {CASE_NO.name: view.case_no, DEPARTMENT.name: view.lead_department, ITEM.name: None,
                STATUS.name: view.status.value, DEADLINE.name: view.deadline,
                DEADLINE_PROVISIONAL.name: view.deadline_provisional if view.deadline else None,
                OVERDUE.name: None, KIND.name: CONSULTATION}
    if isinstance(view, OrderView):
        rnd = view.round
        return {CASE_NO.name: view.order_no, DEPARTMENT.name: rnd.lead.code if rnd else None,
                ITEM.name: view.category_code, STATUS.name: view.status.value,
                DEADLINE.name: rnd.handle_due if rnd else None, DEADLINE_PROVISIONAL.name: None,
                OVERDUE.name: view.overdue, KIND.name: HOTLINE_ORDER}
    raise TypeError(f"no search attributes for {type(view).__name__}")


def case_at_start(case_no: str, department_code: str, item_code: str) -> TypedSearchAttributes:
    """What a hall case's starter (the intake, or the combined case starting its matters) sets: the attributes of a
    case just registered. Its first transition then upserts nothing (``Published.adopt``): an upsert right after
    a local activity can be recorded after an update that arrived meanwhile, which a replay then cannot follow."""
    return TypedSearchAttributes([
        SearchAttributePair(CASE_NO, case_no), SearchAttributePair(DEPARTMENT, department_code),
        SearchAttributePair(ITEM, item_code), SearchAttributePair(STATUS, CaseStatus.REGISTERED.value),
        SearchAttributePair(KIND, HALL_CASE)])


def consultation_at_start(case_no: str, lead_department: str) -> TypedSearchAttributes:
    """What a case sets on the consultation it convenes: the attributes of a consultation just opened."""
    return TypedSearchAttributes([
        SearchAttributePair(CASE_NO, case_no), SearchAttributePair(DEPARTMENT, lead_department),
        SearchAttributePair(STATUS, ConsultationStatus.OPEN.value), SearchAttributePair(KIND, CONSULTATION)])


def updates(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[SearchAttributeUpdate[Any]]:
    """What to upsert to go from ``before`` to ``after``: changed values set, values gone unset."""
    result: list[SearchAttributeUpdate[Any]] = []
    for key in KEYS:
        old, new = before.get(key.name), after.get(key.name)
        if new == old:
            continue
        result.append(key.value_unset() if new is None else key.value_set(new))
    return result


def is_final(view: Any) -> bool:
    if isinstance(view, CaseView):
        return view.status in FINAL_STATUSES
    if isinstance(view, ConsultationView):
        return view.status != ConsultationStatus.OPEN
    if isinstance(view, OrderView):
        return view.status in ORDER_FINAL
    return False


def is_escalation(event: str) -> bool:
    """An event that hands a matter up: escalated vetoes, rectifications, consultations, decisions; supervision."""
    return "escalated" in event or event.startswith("supervision_")


class Published:
    """Keeps a workflow's search attributes and counters current; one per recorder."""

    def __init__(self) -> None:
        self.search: dict[str, Any] = {}
        self.at_start: bool | None = None  # set by ``adopt``

    def adopt(self, current: bool) -> None:
        """Call first thing in the workflow's run, with ``versions.adopt()``'s answer. A current run starts from
        the attributes its starter set (a case's intake sets those it knows), so its first upsert sends only what
        differs."""
        self.at_start = current or workflow.patched(PATCH_AT_START)
        if current:
            given = workflow.info().typed_search_attributes
            self.search = {key.name: value for key in KEYS if (value := given.get(key)) is not None}

    def recorded(self, event: str, seq: int, before: Any, after: Any) -> None:
        """After a transition is stored: count it, and upsert the search attributes that changed."""
        kind = kind_of(after)
        meter = workflow.metric_meter()
        attrs = {"kind": kind, "event": event}
        meter.create_counter("casehall_transitions", "transitions recorded").add(1, attrs)
        if seq == 1:
            meter.create_counter("casehall_opened", "cases, consultations and orders opened").add(1, {"kind": kind})
        if is_final(after) and not is_final(before):
            meter.create_counter("casehall_closed", "cases, consultations and orders closed").add(
                1, {"kind": kind, "status": str(getattr(after, "status", ""))})
        if is_escalation(event):
            meter.create_counter("casehall_escalations", "matters handed up").add(1, attrs)
        if not (self.at_start or workflow.patched(PATCH)):
            return
        now = values(after)
        changes = updates(self.search, now)
        if changes:
            workflow.upsert_search_attributes(changes)
        self.search = now

    @staticmethod
    def refused(event: str, view: Any) -> None:
        """A transition the database refused for good (waits for an operator, or refuses the action)."""
        workflow.metric_meter().create_counter("casehall_refused_writes", "transitions the database refused").add(
            1, {"kind": kind_of(view), "event": event})


# ---- registration (operators, the worker's start, test servers) --------------------------------------------------
_PROTO_TYPES: Mapping[SearchAttributeIndexedValueType, "IndexedValueType.ValueType"] = {
    SearchAttributeIndexedValueType.KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    SearchAttributeIndexedValueType.DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    SearchAttributeIndexedValueType.BOOL: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
}


class SearchAttributeConflict(ValueError):
    """A search attribute exists on the cluster with another type."""


async def missing_search_attributes(client: Client, namespace: str | None = None) -> list[SearchAttributeKey[Any]]:
    """casehall's search attributes the namespace lacks; raises ``SearchAttributeConflict`` on a type mismatch."""
    ns = namespace or client.namespace
    listed = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=ns))
    have: dict[str, IndexedValueType.ValueType] = {**listed.system_attributes, **listed.custom_attributes}
    missing: list[SearchAttributeKey[Any]] = []
    for key in KEYS:
        want = _PROTO_TYPES[key.indexed_value_type]
        if key.name not in have:
            missing.append(key)
        elif have[key.name] != want:
            raise SearchAttributeConflict(
                f"search attribute {key.name} exists in namespace {ns} as "
                f"{IndexedValueType.Name(have[key.name])}, casehall needs {IndexedValueType.Name(want)}")
    return missing


async def register_search_attributes(client: Client, namespace: str | None = None) -> list[str]:
    """Add casehall's search attributes the namespace lacks (idempotent); the names added. A server that cannot
    list them (the time-skipping test server) is given them one by one, those it has already skipped."""
    ns = namespace or client.namespace

    async def add(keys: Sequence[SearchAttributeKey[Any]]) -> None:
        await client.operator_service.add_search_attributes(AddSearchAttributesRequest(
            namespace=ns, search_attributes={key.name: _PROTO_TYPES[key.indexed_value_type] for key in keys}))

    try:
        missing = await missing_search_attributes(client, ns)
    except RPCError as err:
        if err.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        added = []
        for key in KEYS:
            try:
                await add([key])
                added.append(key.name)
            except RPCError as refused:
                if refused.status != RPCStatusCode.ALREADY_EXISTS and "already exists" not in refused.message:
                    raise
        return added
    if missing:
        await add(missing)
    return [key.name for key in missing]


class SearchAttributesMissing(ValueError):
    """The namespace lacks casehall's search attributes and this client may not add them."""


async def ensure_search_attributes(client: Client, namespace: str | None = None) -> list[str]:
    """At a worker's start: add what the namespace lacks (without them every workflow task would fail). A cluster
    that refuses (no operator rights) raises ``SearchAttributesMissing`` naming the command an operator runs."""
    ns = namespace or client.namespace
    try:
        added = await register_search_attributes(client, ns)
    except RPCError as err:
        raise SearchAttributesMissing(
            f"cannot register casehall's search attributes in namespace {ns}: {err.message}; run "
            "`casehall temporal register-search-attributes` with operator rights "
            "(or `temporal operator search-attribute create`)") from None
    if added:
        logging.getLogger("casehall.worker").info("registered search attributes in %s: %s", ns, ", ".join(added))
    return added


def describe(keys: Sequence[SearchAttributeKey[Any]] = KEYS) -> list[tuple[str, str]]:
    """(name, type) of each search attribute, for listings."""
    return [(key.name, CLI_TYPES[key.indexed_value_type]) for key in keys]
