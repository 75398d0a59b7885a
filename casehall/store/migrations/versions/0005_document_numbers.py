"""official documents: document numbers (文号) per authority, year and kind, their register, and what a document
needs from departments (prefix of the number, reconsideration body, court) and users (title)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Empty means "not configured": the documents then fall back to the parent department's value, and finally to
    # the generic wording (本级人民政府, 有管辖权的人民法院) and the department's code as prefix.
    op.add_column("departments", sa.Column("doc_prefix", sa.String(length=16), nullable=False, server_default=""))
    op.add_column("departments", sa.Column("reconsideration_body", sa.Text(), nullable=False, server_default=""))
    op.add_column("departments", sa.Column("court", sa.Text(), nullable=False, server_default=""))
    op.add_column("users", sa.Column("title", sa.String(length=32), nullable=False, server_default=""))
    op.execute("UPDATE departments SET doc_prefix = '政服' WHERE code = 'CITY' AND doc_prefix = ''")
    op.create_table(
        "document_numbers",
        sa.Column("authority_code", sa.String(length=32), sa.ForeignKey("departments.code"), primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(length=32), primary_key=True),
        sa.Column("last", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "document_register",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ref", sa.String(length=120), nullable=False, unique=True),
        sa.Column("authority_code", sa.String(length=32), sa.ForeignKey("departments.code"), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("doc_no", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content", JSONB(), nullable=True),
        sa.UniqueConstraint("authority_code", "year", "kind", "number", name="uq_document_register_number"),
    )


def downgrade() -> None:
    op.drop_table("document_register")
    op.drop_table("document_numbers")
    op.drop_column("users", "title")
    op.drop_column("departments", "court")
    op.drop_column("departments", "reconsideration_body")
    op.drop_column("departments", "doc_prefix")
