"""Helpers of the Airflow tests: Airflow's home and metadata database, the test DAGs.

Imported by name (``from airflow_helpers import load_dag``), never from
`conftest`, whose module name every test folder shares.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

DAGS = Path(__file__).parent / "dags"


def airflow_environment(home: Path, dags: Path = DAGS) -> dict[str, str]:
    """Variables that give Airflow a home of its own (SQLite metadata, no examples)."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
    }


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (its WAL included)."""
    import sqlite3

    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def load_dag(name: str):
    """The DAG object of tests/dags/<name>.py (its ``dag`` variable)."""
    path = DAGS / f"{name}.py"
    module_name = f"lineage_airflow_test_dag_{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module.dag
