"""The code blocks of docs/prefect.md run as written, with Prefect installed.

The blocks marked ``<!-- snippet: needs (prefect) -->`` are skipped by the
core docs test and run here, with the runner of the repository's tests/docs.
"""

from __future__ import annotations

from lineage.testing import doc_snippets


def test_docs_prefect_page_runs_as_written() -> None:
    """Every Python and shell block of docs/prefect.md runs, the Prefect ones included."""
    doc_snippets().check_engine_page("prefect.md", "prefect", at_least=6)
