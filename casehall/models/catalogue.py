"""The department tree and the service catalogue as the centre edits them: bounded request bodies (whatever passes
can be stored and run by a case) and the shapes answered. The rules that need the database (the tree, references,
what a department still holds) are in ``casehall.store.catalogue``."""

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from casehall.models.case import ItemRules, Material
from casehall.models.messages import N_
from casehall.models.text import Line, Name, OptionalText, Storable, Text

# Codes are printed on cases and documents and name workflows' items: letters, digits, '-', '_' and '.'.
CatalogueCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")]
DepartmentKind = Literal["bureau", "department", "section"]
# bureau > department > section: a node stands only under a node of a higher kind; only a bureau stands at the top.
KIND_RANK: dict[str, int] = {"bureau": 0, "department": 1, "section": 2}
DocPrefix = Annotated[str, StringConstraints(strip_whitespace=True, max_length=16), Storable]
Days = Annotated[int, Field(ge=1, le=365)]
MAX_MATERIALS = 50  # a clerk submits at most 50 materials with a case (``RegisterCase``)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- departments -------------------------------------------------------------------------------------------------
class DepartmentIn(_Body):
    """A new department of the tree."""

    code: CatalogueCode
    name: Name
    kind: DepartmentKind
    parent_code: CatalogueCode | None = None
    doc_prefix: DocPrefix = ""  # of its document numbers; '' = the nearest one above
    reconsideration_body: Line = ""
    court: Line = ""
    reason: OptionalText = ""


class DepartmentPatch(_Body):
    """An edit of a department: only the fields given change (``parent_code: null`` puts it at the top). ``version``
    is the one the edit was made from; ``code`` may be repeated but never changed."""

    version: int = Field(ge=1)
    code: CatalogueCode | None = None
    name: Name | None = None
    kind: DepartmentKind | None = None
    parent_code: CatalogueCode | None = None
    doc_prefix: DocPrefix | None = None
    reconsideration_body: Line | None = None
    court: Line | None = None
    reason: OptionalText = ""


class Reason(_Body):
    """Why a department is taken out of use or deleted, an item withdrawn: kept in the change log."""

    reason: Text = Field(max_length=500)


class OptionalReason(_Body):
    reason: OptionalText = ""


class DepartmentPublic(BaseModel):
    code: str
    name: str
    kind: str
    parent_code: str | None
    doc_prefix: str
    reconsideration_body: str
    court: str
    active: bool
    version: int
    users: int  # active users
    items: int  # service items on offer
    open_cases: int


# ---- service items -----------------------------------------------------------------------------------------------
class MaterialIn(Material):
    """A material of an item: ``main`` ones must be there to accept, secondary ones may follow (tolerant
    acceptance); ``how_to_supply`` is printed on the one-time notice."""

    model_config = ConfigDict(extra="forbid")
    how_to_supply: Line = ""


class RulesIn(ItemRules):
    """``ItemRules`` with bounds an administrator can be held to (working days unless named otherwise)."""

    model_config = ConfigDict(extra="forbid")
    veto_reminder_days: int = Field(1, ge=1, le=30)
    veto_escalation_days: int = Field(2, ge=1, le=60)
    supplement_days: int = Field(5, ge=1, le=60)
    supplement_reminder_days: int = Field(1, ge=0, le=30)
    callback_calendar_days: int = Field(3, ge=1, le=30)
    rectification_days: int = Field(5, ge=1, le=60)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.veto_reminder_days >= self.veto_escalation_days:
            raise ValueError(N_("the veto reminder ({reminder} working days) must come before the escalation to the "
                                "director ({escalation} working days)").format(
                reminder=self.veto_reminder_days, escalation=self.veto_escalation_days))
        if self.supplement_reminder_days >= self.supplement_days:
            raise ValueError(N_("the supplement reminder ({reminder} working days before the deadline) must be "
                                "shorter than the supplement time ({days} working days)").format(
                reminder=self.supplement_reminder_days, days=self.supplement_days))
        return self


Materials = Annotated[list[MaterialIn], Field(max_length=MAX_MATERIALS)]


def check_materials(materials: list[MaterialIn] | None) -> None:
    if materials is None:
        return
    seen: set[str] = set()
    for m in materials:
        if m.name in seen:
            raise ValueError(N_("material {name} is listed twice").format(name=m.name))
        seen.add(m.name)


EXPEDITED_LONGER = N_("the expedited time limit ({expedited} working days) cannot be longer than the normal time "
                      "limit ({normal} working days)")


def check_time_limits(normal: int | None, expedited: int | None) -> None:
    if normal is not None and expedited is not None and expedited > normal:
        raise ValueError(EXPEDITED_LONGER.format(expedited=expedited, normal=normal))


class ItemIn(_Body):
    """A new service item."""

    code: CatalogueCode
    name: Name
    department_code: CatalogueCode
    time_limit_days: Days
    expedited_days: Days  # for urgent cases from another region (异地急办)
    materials: Materials = []
    rules: RulesIn = RulesIn()
    reason: OptionalText = ""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        check_time_limits(self.time_limit_days, self.expedited_days)
        check_materials(self.materials)
        return self


class ItemPatch(_Body):
    """An edit of a service item: only the fields given change (``materials`` and ``rules`` replace the whole list
    or set). It applies to cases registered from now on; cases already registered keep the item they started with."""

    version: int = Field(ge=1)
    code: CatalogueCode | None = None
    name: Name | None = None
    department_code: CatalogueCode | None = None
    time_limit_days: Days | None = None
    expedited_days: Days | None = None
    materials: Materials | None = None
    rules: RulesIn | None = None
    reason: OptionalText = ""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        check_time_limits(self.time_limit_days, self.expedited_days)
        check_materials(self.materials)
        return self


class ItemPublic(BaseModel):
    code: str
    name: str
    department_code: str
    time_limit_days: int
    expedited_days: int
    materials: list[Material]
    rules: ItemRules
    withdrawn_at: datetime | None
    version: int


class ItemDetail(ItemPublic):
    cases: int  # registered on it, ever
    open_cases: int


# ---- the change log ----------------------------------------------------------------------------------------------
Entity = Literal["department", "item"]


class ChangePublic(BaseModel):
    id: int
    at: datetime
    actor_username: str
    address: str
    entity: Entity
    code: str
    action: str  # created | updated | deactivated | reactivated | deleted | withdrawn | reinstated
    reason: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class ChangePage(BaseModel):
    items: list[ChangePublic]
    next_before: int | None  # pass as ``before`` for the older changes; None: none left
