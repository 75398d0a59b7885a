"""read tails: the overdue list from a covering partial index of the running cases

``ix_cases_running_registered``: the cases whose legal clock runs (``CLOCK_RUNNING``, clock not paused), by
(registered_at, case_no) with their deadline, department and clerk alongside. The overdue list walks it newest
first and tests the deadline, department and clerk in the index itself: it reads no row it does not show (an
index-only scan as far as the visibility map allows). Its predicate must stay equal to ``RUNNING_STATUSES`` in
``casehall.store.queries`` (``tests/test_reads.py`` checks it), or the planner cannot use it.

Indexes are built CONCURRENTLY, outside the migration's transaction: on a table of millions of cases, registration
and every action keep writing while they build (a plain CREATE INDEX blocks writes to ``cases`` for its duration). A
build that fails leaves an invalid index: running the migration again drops it and builds it anew. (Migration 0009
built its indexes under that write lock — 392 s at ten million cases; an installation upgrading past 0009 with many
cases should do it in a quiet hour, see docs/capacity.md.)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUNNING = "'in_consultation', 'in_handling', 'supplement_overdue', 'veto_requested'"
INDEXES = {
    "ix_cases_running_registered": "ON cases (registered_at, case_no) INCLUDE (deadline, department_code, clerk_id)"
                                   f" WHERE status IN ({RUNNING}) AND NOT clock_paused",
}


def upgrade() -> None:
    with op.get_context().autocommit_block():
        for name, definition in INDEXES.items():
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")  # a failed build's invalid leftover
            op.execute(f"CREATE INDEX CONCURRENTLY {name} {definition}")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name in INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
