"""The code blocks of docs/dagster.md run as written, with Dagster installed.

The blocks marked ``<!-- snippet: needs (dagster) -->`` are skipped by the
core docs test and run here, with the runner of the repository's tests/docs.
"""

from __future__ import annotations

from lineage.testing import doc_snippets


def test_docs_dagster_page_runs_as_written() -> None:
    """Every Python and shell block of docs/dagster.md runs, the Dagster ones included."""
    doc_snippets().check_engine_page("dagster.md", "dagster", at_least=3)
