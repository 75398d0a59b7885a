"""applicants are citizens and companies: the kind of applicant and the type of identity document

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("applicant_kind", sa.String(length=16), nullable=False,
                                     server_default="person"))
    op.add_column("cases", sa.Column("applicant_id_type", sa.String(length=32), nullable=False,
                                     server_default="resident_id"))


def downgrade() -> None:
    op.drop_column("cases", "applicant_id_type")
    op.drop_column("cases", "applicant_kind")
