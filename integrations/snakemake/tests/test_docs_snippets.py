"""The code blocks of docs/snakemake.md run as written, with Snakemake installed.

The blocks marked ``<!-- snippet: needs (snakemake) -->`` are skipped by the
core docs test and run here, with the runner of the repository's tests/docs.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def _doc_snippets():  # the runner of tests/docs, imported by its path
    path = Path(__file__).resolve().parents[3] / "tests" / "docs" / "doc_snippets.py"
    spec = importlib.util.spec_from_file_location("doc_snippets", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("doc_snippets", module)
    spec.loader.exec_module(module)
    return module


def test_docs_snakemake_page_runs_as_written() -> None:
    """Every Python and shell block of docs/snakemake.md runs, the Snakemake ones included."""
    _doc_snippets().check_engine_page("snakemake.md", "snakemake", at_least=2)
