#!/usr/bin/env bash
# Install lineage and run the example pipeline on the embedded default
# instance (./.lineage), ending with its lineage graph (lineage.svg).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q --disable-pip-version-check -e ".[all]"
if ! command -v dot >/dev/null 2>&1; then
    echo "installing graphviz (dot)"
    apt-get update -qq && apt-get install -y -qq graphviz >/dev/null
fi
python examples/pipeline.py "$@"
lineage runs | head -20
