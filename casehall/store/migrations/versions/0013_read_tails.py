"""read tails: the overdue list from a covering partial index of the running cases, text search week by week

``ix_cases_running_registered``: the cases whose legal clock runs (``CLOCK_RUNNING``, clock not paused), by
(registered_at, case_no) with their deadline, department and clerk alongside. The overdue list walks it newest
first and tests the deadline, department and clerk in the index itself: it reads no row it does not show (an
index-only scan as far as the visibility map allows). Its predicate must stay equal to ``RUNNING_STATUSES`` in
``casehall.store.queries`` (``tests/test_reads.py`` checks it), or the planner cannot use it.

``ix_cases_text_weekly``: the bigrams of a case's applicant name and description (as ``casehall_case_terms`` of
0009 cuts them) each tagged with the week of its registration (``2915:营业``: weeks since 1970-01-01 UTC). A search
reads the newest weeks first and each week only through its own matches, so a name held by thousands of cases needs
no more rows than fill the page; the plain bigram index of 0009 still finds the rare text in all older weeks at once.

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

# Self-contained like casehall_case_terms (index builds run with search_path = pg_catalog).
CASE_TERMS_WEEKLY = """
CREATE OR REPLACE FUNCTION casehall_case_terms_weekly(applicant text, description text, registered_at timestamptz)
RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT coalesce(array_agg(DISTINCT w || substr(l, i, 2)), '{}')
  FROM (SELECT lower(applicant || ' ' || description) AS l,
               floor(extract(epoch FROM registered_at) / 604800)::bigint::text || ':' AS w) AS s,
       generate_series(1, length(l) - 1) AS i
$$
"""
RUNNING = "'in_consultation', 'in_handling', 'supplement_overdue', 'veto_requested'"
INDEXES = {
    "ix_cases_running_registered": "ON cases (registered_at, case_no) INCLUDE (deadline, department_code, clerk_id)"
                                   f" WHERE status IN ({RUNNING}) AND NOT clock_paused",
    "ix_cases_text_weekly": "ON cases USING gin (casehall_case_terms_weekly(applicant_name, description,"
                            " registered_at))",
}


def upgrade() -> None:
    op.execute(CASE_TERMS_WEEKLY)
    with op.get_context().autocommit_block():
        for name, definition in INDEXES.items():
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")  # a failed build's invalid leftover
            op.execute(f"CREATE INDEX CONCURRENTLY {name} {definition}")
    op.execute("ANALYZE cases")  # the weekly index's element statistics: without them the planner scans the table


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name in INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    op.execute("DROP FUNCTION IF EXISTS casehall_case_terms_weekly(text, text, timestamptz)")
