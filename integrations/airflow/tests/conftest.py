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
import socket
import subprocess
import sys
import tempfile
import time
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


# --- S3: a standalone moto server on loopback -------------------------------------------
S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
          "AWS_DEFAULT_REGION": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A standalone moto S3 server on an ephemeral loopback port, for the session."""
    port = _free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("moto server did not start") from None
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def use_endpoint(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    for name, value in S3_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()


