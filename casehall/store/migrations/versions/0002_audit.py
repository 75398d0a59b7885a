"""audit: chain anchors, archived case histories

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 23:32:24.647174
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('chain_anchors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('anchored_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('case_count', sa.Integer(), nullable=False),
    sa.Column('heads', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_chain_anchors_anchored_at'), 'chain_anchors', ['anchored_at'], unique=False)
    op.create_table('case_histories',
    sa.Column('case_no', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('workflow_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('run_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('history', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('event_count', sa.Integer(), nullable=False),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_no'], ['cases.case_no'], ),
    sa.PrimaryKeyConstraint('case_no')
    )


def downgrade() -> None:
    op.drop_table('case_histories')
    op.drop_index(op.f('ix_chain_anchors_anchored_at'), table_name='chain_anchors')
    op.drop_table('chain_anchors')
