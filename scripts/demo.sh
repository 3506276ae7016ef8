#!/usr/bin/env bash
# Install lineage into .venvs/demo and run the example pipeline in its own
# embedded instance (./lineage-demo, or $DEMO_INSTANCE), whatever your
# default instance is, ending with its lineage graph (lineage.svg).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_setup.sh
ensure_uv
ensure_graphviz
fresh_venv .venvs/demo -e ".[all]"
instance="${DEMO_INSTANCE:-lineage-demo}"
.venvs/demo/bin/python examples/pipeline.py --instance "$instance" "$@"
LINEAGE_INSTANCE="$instance" .venvs/demo/bin/lineage runs | head -20
