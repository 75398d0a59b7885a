#!/bin/sh
# One-shot, after the Temporal server is healthy (temporalio/admin-tools): casehall's namespace and the search
# attributes its workflows upsert (SEARCH_ATTRIBUTES: "Name=Type ..."). Idempotent.
# On a cluster set up otherwise: `casehall temporal register-search-attributes` does the second part.
set -eu
if temporal operator namespace describe --namespace "${NAMESPACE}" >/dev/null 2>&1; then
  echo "namespace ${NAMESPACE} exists"
else
  temporal operator namespace create --namespace "${NAMESPACE}" --retention "${RETENTION}"
fi
existing=$(temporal operator search-attribute list --namespace "${NAMESPACE}")
for pair in ${SEARCH_ATTRIBUTES}; do
  name=${pair%%=*}
  kind=${pair#*=}
  if echo "${existing}" | grep -qw "${name}"; then
    echo "search attribute ${name} exists"
  else
    temporal operator search-attribute create --namespace "${NAMESPACE}" --name "${name}" --type "${kind}"
  fi
done
echo "namespace ${NAMESPACE} ready"
