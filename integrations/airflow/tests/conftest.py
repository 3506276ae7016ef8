"""Real Airflow 3.3 in a temporary AIRFLOW_HOME with its own SQLite metadata database.

Airflow reads its configuration when it is first imported, so the
environment is set in `pytest_configure`, before any test module imports
it. DAGs run with ``dag.test()`` in this process (the task hooks then run
here too); `test_scheduler.py` starts a real scheduler instead.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from airflow_helpers import airflow_environment, copy_sqlite, load_dag

from lineage import testing

pytest_plugins = ["lineage.testing"]

_home: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    home = tempfile.mkdtemp(prefix="lineage-airflow-home-")
    _home.append(home)
    os.environ.update(airflow_environment(Path(home)))


def pytest_unconfigure(config: pytest.Config) -> None:
    for home in _home:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Airflow's metadata database, created once per session; returns a pristine copy."""
    from airflow.utils import db

    db.initdb()
    home = Path(os.environ["AIRFLOW_HOME"])
    pristine = home / "pristine.db"
    copy_sqlite(home / "airflow.db", pristine)
    return pristine


@pytest.fixture
def run_dag(airflow_db, lineage_instance):
    """Run a DAG of tests/dags with ``dag.test()`` in this process; returns the DagRun."""

    def run(name: str, **kwargs):
        dag = load_dag(name)
        return dag.test(**kwargs)

    return run


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A standalone moto S3 server on an ephemeral loopback port, for the session."""
    with testing.moto_server(tmp_path_factory.mktemp("moto")) as url:
        yield url
