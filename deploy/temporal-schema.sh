#!/bin/sh
# One-shot schema set-up for the Temporal server of docker-compose.yml, run in temporalio/admin-tools (the step the
# deprecated temporalio/auto-setup image did at every start). Idempotent: existing databases are kept, the schema is
# brought to the version of this admin-tools image.
set -eu
SCHEMA=/etc/temporal/schema/postgresql/v12
for db in "${DBNAME:-temporal}:temporal" "${VISIBILITY_DBNAME:-temporal_visibility}:visibility"; do
  name=${db%%:*}
  dir=${db#*:}
  set -- --plugin "${DB:-postgres12}" --ep "${POSTGRES_SEEDS}" -p "${DB_PORT:-5432}" -u "${POSTGRES_USER}" \
    --pw "${POSTGRES_PWD}" --db "${name}"
  temporal-sql-tool "$@" create-database 2>/dev/null || echo "database ${name} exists"
  temporal-sql-tool "$@" setup-schema -v 0.0 2>/dev/null || echo "database ${name} has a schema"
  temporal-sql-tool "$@" update-schema -d "${SCHEMA}/${dir}/versioned"
done
echo "temporal schema ready"
