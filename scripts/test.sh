#!/usr/bin/env bash
# Run the whole test suite, each part in a fresh virtual environment:
# the core (SQLite + a real PostgreSQL server), then every integration under
# integrations/<tool>/ in an environment of its own (the engines pin
# conflicting libraries).
#
#   bash scripts/test.sh                    # everything (what CI runs)
#   bash scripts/test.sh core [pytest args] # the core suite only
#   bash scripts/test.sh prefect [args]     # one integration's suite only
#
# Environments live in .venvs/ and are re-created on every run, so a
# package installed by hand can never hide a missing dependency (uv's cache
# makes this take seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_setup.sh
ensure_uv
ensure_graphviz
ensure_chromium

export LINEAGE_TEST_POSTGRES_URL="${LINEAGE_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"

suites=()
if [ $# -gt 0 ] && { [ "$1" = core ] || [ -d "integrations/$1" ]; }; then
    suites=("$1"); shift
else
    suites=(core)
    for dir in integrations/*/; do
        [ -f "$dir/pyproject.toml" ] && suites+=("$(basename "$dir")")
    done
fi

run_core() {
    fresh_venv .venvs/core -e ".[test]"
    if ! .venvs/core/bin/python scripts/check_postgres.py; then
        if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
            echo "starting PostgreSQL"
            pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
            sleep 2
        fi
        .venvs/core/bin/python scripts/check_postgres.py || {
            echo "PostgreSQL at ${LINEAGE_TEST_POSTGRES_URL} is unreachable: the PostgreSQL half of the suite cannot run" >&2
            exit 1
        }
    fi
    .venvs/core/bin/python -m pytest "$@"
}

run_integration() {
    local tool="$1"; shift
    local venv=".venvs/$tool"
    echo "=== integration: $tool"
    fresh_venv "$venv" -e ".[test]" -e "integrations/$tool[test]"
    (cd "integrations/$tool" && "../../$venv/bin/python" -m pytest "$@")
}

for suite in "${suites[@]}"; do
    if [ "$suite" = core ]; then
        run_core "$@"
    else
        run_integration "$suite" "$@"
    fi
done
