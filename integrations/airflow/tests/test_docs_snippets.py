"""The code blocks of docs/airflow.md run as written, with Airflow installed.

The blocks marked ``<!-- snippet: needs (airflow) -->`` are skipped by the
core docs test and run here, with the runner of the repository's tests/docs,
against a copy of this session's migrated Airflow metadata database.
"""

from __future__ import annotations

import os
from pathlib import Path

from airflow_helpers import airflow_environment, copy_sqlite

from lineage.testing import doc_snippets


def test_docs_airflow_page_runs_as_written(airflow_db: Path, tmp_path: Path) -> None:
    """Every Python and shell block of docs/airflow.md runs, the Airflow ones (dag.test()) included."""
    copy_sqlite(airflow_db, tmp_path / "airflow.db")
    env = {**os.environ, **airflow_environment(tmp_path)}
    doc_snippets().check_engine_page("airflow.md", "airflow", at_least=3, env=env)
