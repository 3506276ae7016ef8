#!/usr/bin/env bash
# Install everything the tests need, then run the whole test suite
# against SQLite and a real PostgreSQL server. Usage: bash scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install -q --disable-pip-version-check -e ".[test]"

if ! command -v dot >/dev/null 2>&1; then
    echo "installing graphviz (dot)"
    apt-get update -qq && apt-get install -y -qq graphviz >/dev/null
fi

export LINEAGE_TEST_POSTGRES_URL="${LINEAGE_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
if ! python scripts/check_postgres.py; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
        echo "starting PostgreSQL"
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
        sleep 2
    fi
    python scripts/check_postgres.py || {
        echo "PostgreSQL at ${LINEAGE_TEST_POSTGRES_URL} is unreachable: the PostgreSQL half of the suite cannot run" >&2
        exit 1
    }
fi

python -m pytest "$@"
