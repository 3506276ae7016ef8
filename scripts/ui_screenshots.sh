#!/usr/bin/env bash
# Make the screenshots of docs/ui.md: the demo pipeline, `lineage ui`, headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_setup.sh
ensure_uv
ensure_graphviz
ensure_chromium
fresh_venv .venvs/demo -e ".[all]" "selenium>=4.20"
.venvs/demo/bin/python scripts/ui_screenshots.py "$@"
