"""read indexes: keyset pagination of the case lists, case-number prefixes, Chinese text search by bigrams

Lists are ordered by (registered_at, case_no) descending and paged by a cursor on that pair, so each list filter
gets an index ending in it. Chinese has no spaces and pg_trgm finds no trigrams in it under the C locale (nor in a
two-character word under any locale), so applicant names and descriptions are indexed by their character bigrams
(``casehall_case_terms``, a GIN index): a search for 营业执照 looks up 营业, 业执, 执照 and checks the text.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGRAMS = """
CREATE OR REPLACE FUNCTION casehall_bigrams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT coalesce(array_agg(DISTINCT substr(l, i, 2)), '{}')
  FROM (SELECT lower(t) AS l) AS s, generate_series(1, length(l) - 1) AS i
$$
"""
# Self-contained (no call to casehall_bigrams): index builds run with search_path = pg_catalog since PostgreSQL 17.
CASE_TERMS = """
CREATE OR REPLACE FUNCTION casehall_case_terms(applicant text, description text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT coalesce(array_agg(DISTINCT substr(l, i, 2)), '{}')
  FROM (SELECT lower(applicant || ' ' || description) AS l) AS s, generate_series(1, length(l) - 1) AS i
$$
"""
PLAN_ROWS = """
CREATE OR REPLACE FUNCTION casehall_plan_rows(query text) RETURNS bigint
LANGUAGE plpgsql VOLATILE STRICT
AS $$
DECLARE plan jsonb;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
  RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
END
$$
"""


def upgrade() -> None:
    op.execute(BIGRAMS)
    op.execute(CASE_TERMS)
    op.execute(PLAN_ROWS)  # how many rows the planner expects a query to return (list totals past a cap)
    op.create_index("ix_cases_registered", "cases", ["registered_at", "case_no"])
    op.create_index("ix_cases_department_registered", "cases", ["department_code", "registered_at", "case_no"])
    op.create_index("ix_cases_clerk_registered", "cases", ["clerk_id", "registered_at", "case_no"])
    op.create_index("ix_cases_status_registered_no", "cases", ["status", "registered_at", "case_no"])
    op.drop_index("ix_cases_status_registered", table_name="cases")
    op.execute("CREATE INDEX ix_cases_case_no_prefix ON cases (case_no text_pattern_ops)")
    op.execute("CREATE INDEX ix_cases_text_bigrams ON cases"
               " USING gin (casehall_case_terms(applicant_name, description))")
    # 10,000 most common bigrams in the statistics: the list tells common texts (read newest-first) from rare ones
    op.execute("ALTER INDEX ix_cases_text_bigrams ALTER COLUMN 1 SET STATISTICS 1000")
    op.execute("CREATE INDEX ix_tasks_open ON tasks (role, department_code, opened_at, id) WHERE closed_at IS NULL")
    op.execute("ANALYZE cases")
    op.execute("ANALYZE tasks")


def downgrade() -> None:
    op.drop_index("ix_tasks_open", table_name="tasks")
    op.drop_index("ix_cases_text_bigrams", table_name="cases")
    op.drop_index("ix_cases_case_no_prefix", table_name="cases")
    op.create_index("ix_cases_status_registered", "cases", ["status", "registered_at"])
    op.drop_index("ix_cases_status_registered_no", table_name="cases")
    op.drop_index("ix_cases_clerk_registered", table_name="cases")
    op.drop_index("ix_cases_department_registered", table_name="cases")
    op.drop_index("ix_cases_registered", table_name="cases")
    op.execute("DROP FUNCTION casehall_plan_rows(text)")
    op.execute("DROP FUNCTION casehall_case_terms(text, text)")
    op.execute("DROP FUNCTION casehall_bigrams(text)")
