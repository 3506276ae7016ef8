#!/usr/bin/env bash
# Install lineage into .venvs/demo and run the example pipeline on the
# embedded default instance, ending with its lineage graph (lineage.svg).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_setup.sh
ensure_uv
ensure_graphviz
fresh_venv .venvs/demo -e ".[all]"
.venvs/demo/bin/python examples/pipeline.py "$@"
.venvs/demo/bin/lineage runs | head -20
