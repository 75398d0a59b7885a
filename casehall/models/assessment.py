"""What crosses the boundary of the monthly assessment report: the workflow's input (the period and the locality's
configuration, kept in the schedule so every run weighs alike) and the activity's answer. Workflow-safe."""

from pydantic import BaseModel, Field

DEFAULT_WEIGHTS = {"response": 30.0, "resolution": 35.0, "satisfaction": 35.0}  # Beijing style
DEFAULT_CASE_WEIGHTS = {"on_time": 50.0, "satisfaction": 50.0}
SCHEDULE_ID = "assessment-monthly-report"
TIME_ZONE = "Asia/Shanghai"


class ReportConfig(BaseModel):
    weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    case_weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_CASE_WEIGHTS))
    top_grades: int = Field(2, ge=1, le=4)  # how many top satisfaction grades count as satisfied


class MonthlyReportInput(BaseModel):
    """``period``: ``YYYY-MM``; None: the month before the one the run starts in (Asia/Shanghai)."""

    period: str | None = Field(None, pattern=r"^[0-9]{4}-[0-9]{2}$")
    config: ReportConfig = Field(default_factory=ReportConfig)


class ComputeReportInput(BaseModel):
    period: str
    config: ReportConfig


class DomainDigest(BaseModel):
    domain: str
    units: int
    received: int  # at the root(s): every order (case) counted in the period
    digest: str  # sha256 over every unit's figures: a re-run of the period gives the same


class MonthlyReportResult(BaseModel):
    period: str
    domains: list[DomainDigest]
