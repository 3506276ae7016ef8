"""Real Airflow 3.3 in a temporary AIRFLOW_HOME with its own SQLite metadata database.

Airflow reads its configuration when it is first imported, so the
environment is set in `pytest_configure`, before any test module imports
it. DAGs run with ``dag.test()`` in this process (the task hooks then run
here too); `test_scheduler.py` starts a real scheduler instead.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["lineage.testing"]

DAGS = Path(__file__).parent / "dags"
_home: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    home = tempfile.mkdtemp(prefix="lineage-airflow-home-")
    _home.append(home)
    os.environ.update(airflow_environment(Path(home)))


def pytest_unconfigure(config: pytest.Config) -> None:
    for home in _home:
        shutil.rmtree(home, ignore_errors=True)


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


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Airflow's metadata database, created once per session; returns a pristine copy."""
    from airflow.utils import db

    db.initdb()
    home = Path(os.environ["AIRFLOW_HOME"])
    pristine = home / "pristine.db"
    copy_sqlite(home / "airflow.db", pristine)
    return pristine


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (its WAL included)."""
    import sqlite3

    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


@pytest.fixture
def run_dag(airflow_db, lineage_instance):
    """Run a DAG of tests/dags with ``dag.test()`` in this process; returns the DagRun."""

    def run(name: str, **kwargs):
        dag = load_dag(name)
        return dag.test(**kwargs)

    return run


def load_dag(name: str):
    """The DAG object of tests/dags/<name>.py (its ``dag`` variable)."""
    path = DAGS / f"{name}.py"
    module_name = f"lineage_airflow_test_dag_{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module.dag



@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A standalone moto S3 server on an ephemeral loopback port, for the session."""
    from s3_server import start_moto, stop

    proc, url = start_moto(tmp_path_factory.mktemp("moto"))
    yield url
    stop(proc)
