"""assessment: facts folded from the event logs (refreshed per batch of new events), watermarks, monthly reports

``assessment_facts``: one row per hotline assignment (an order's dispatch to a unit) or hall case, the facts
``casehall.assessment.rates`` folds from its events with the time of every milestone, and the range its deadline
may fall in (``due_lo``..``due_hi``) to find a period's rows. ``assessment_watermarks``: the last event id folded,
per log. ``assessment_reports``: the stored figures of each unit and period, with the message to its head.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assessment_facts",
        sa.Column("domain", sa.String(8), primary_key=True),
        sa.Column("key", sa.String(48), primary_key=True),
        sa.Column("ref", sa.String(40), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("due_lo", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_hi", sa.DateTime(timezone=True), nullable=False),
        sa.Column("facts", JSONB, nullable=False),
    )
    op.create_index("ix_assessment_facts_due", "assessment_facts", ["domain", "due_lo", "due_hi"])
    op.create_index("ix_assessment_facts_ref", "assessment_facts", ["domain", "ref"])
    op.create_table(
        "assessment_watermarks",
        sa.Column("domain", sa.String(8), primary_key=True),
        sa.Column("last_id", sa.BigInteger, nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "assessment_reports",
        sa.Column("period", sa.String(32), primary_key=True),
        sa.Column("domain", sa.String(8), primary_key=True),
        sa.Column("unit", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("parent", sa.String(32), nullable=True),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("rank", sa.Integer, nullable=True),
        sa.Column("figures", JSONB, nullable=False),
        sa.Column("config", JSONB, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),  # sha256 of figures + config: equal reruns, equal digest
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("runs", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_index("ix_assessment_reports_level", "assessment_reports", ["period", "domain", "level"])
    op.create_index("ix_assessment_reports_unit", "assessment_reports", ["domain", "unit", "period"])


def downgrade() -> None:
    op.drop_table("assessment_reports")
    op.drop_table("assessment_watermarks")
    op.drop_table("assessment_facts")
