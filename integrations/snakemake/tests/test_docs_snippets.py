"""The code blocks of docs/snakemake.md run as written, with Snakemake installed.

The blocks marked ``<!-- snippet: needs (snakemake) -->`` are skipped by the
core docs test and run here, with the runner of the repository's tests/docs.
"""

from __future__ import annotations

from lineage.testing import doc_snippets


def test_docs_snakemake_page_runs_as_written() -> None:
    """Every Python and shell block of docs/snakemake.md runs, the Snakemake ones included."""
    doc_snippets().check_engine_page("snakemake.md", "snakemake", at_least=2)
