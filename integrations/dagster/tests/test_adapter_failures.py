"""An adapter failure never fails the user's run: logged once, the result unchanged.

The lineage database is made really unreachable in the middle of a run:
a PostgreSQL database of its own whose connections are refused and
terminated (``ALLOW_CONNECTIONS false`` + ``pg_terminate_backend``), and
an SQLite instance whose files are made immutable (``chattr +i``).
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import dagster as dg
import lineage as ln
import lineage_dagster
import pytest
from lineage import lifecycle
from lineage.lifecycle import guard
from lineage.testing import POSTGRES_ENV, temporary_instance

#: What the middle asset does to the lineage database while it runs.
_cut: list[Callable[[], None]] = []


@dg.asset
def before() -> list[int]:
    return [5, 3, 4]


@dg.asset
def during(before: list[int]) -> list[int]:
    _cut.pop()()  # the lineage database goes away here, mid-run
    return sorted(before)


@dg.asset
def after(during: list[int]) -> int:
    return sum(during)


@pytest.fixture
def warnings_of_the_adapter(monkeypatch, caplog):
    """The WARNING records of ``lineage.dagster`` (each kind is reported once per process)."""
    monkeypatch.setattr(guard, "_reported", set())
    caplog.set_level(logging.DEBUG, logger="lineage.dagster")
    return lambda: [r for r in caplog.records
                    if r.name == "lineage.dagster" and r.levelno == logging.WARNING]


def _materialize_with_a_cut(cut: Callable[[], None], tmp_path: Path) -> dg.ExecuteInProcessResult:
    _cut[:] = [cut]
    store = tmp_path / "dagster-store"
    resources = lineage_dagster.instrument({"io_manager": dg.FilesystemIOManager(base_dir=str(store))})
    result = dg.materialize([before, during, after], resources=resources)
    assert not _cut, "the cut did not happen"
    return result


def _assert_result_unchanged(result: dg.ExecuteInProcessResult, tmp_path: Path) -> None:
    assert result.success and result.output_for_node("after") == 12
    assert pickle.loads((tmp_path / "dagster-store" / "during").read_bytes()) == [3, 4, 5]
    assert [m.asset_key.path for m in result.get_asset_materialization_events()] == [
        ["before"], ["during"], ["after"]]


def test_postgres_database_unreachable_mid_run(tmp_path, lineage_postgres_url,
                                               warnings_of_the_adapter):
    admin = os.environ[POSTGRES_ENV].replace("postgresql+psycopg://", "postgresql://", 1)
    name = urlsplit(lineage_postgres_url).path.lstrip("/")

    def set_connections(allowed: bool) -> None:
        import psycopg

        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
            if not allowed:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = %s AND pid <> pg_backend_pid()", [name])

    try:
        with temporary_instance(tmp_path / "lineage", db=lineage_postgres_url):
            result = _materialize_with_a_cut(lambda: set_connections(False), tmp_path)
            _assert_result_unchanged(result, tmp_path)
            assert len(warnings_of_the_adapter()) == 1
            set_connections(True)
            ln.connect(lineage_postgres_url)  # the old connections were terminated
            # The step that started before the cut waits for its write (its input link
            # with it); once the database is back it is written (the background writer
            # retries each second; written here at once).
            lifecycle.write_pending_runs()
            # What was recorded before the cut is there; nothing after it is.
            steps = {r.name: r.status for r in ln.Run.filter(
                external_id__startswith=f"{result.run_id}/")}
            assert steps == {"before": "completed", "during": "started"}
            assert ln.Run.get(external_id=result.run_id).status == "started"
    finally:
        set_connections(True)


def test_sqlite_files_made_immutable_mid_run(tmp_path, warnings_of_the_adapter):
    with temporary_instance(tmp_path / "lineage") as instance:
        # The database and its write-ahead log (not the -shm file: SQLite maps that into
        # memory, and a mapping it cannot extend kills the process with SIGBUS).
        files = [instance.root / n for n in ("lineage.db", "lineage.db-wal")]
        frozen: list[Path] = []

        def freeze() -> None:
            for path in [*files, instance.root]:
                if path.exists():
                    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
                    if done.returncode != 0:
                        pytest.skip(f"chattr +i does not work here: {done.stderr.decode()}")
                    frozen.append(path)

        try:
            result = _materialize_with_a_cut(freeze, tmp_path)
        finally:
            for path in frozen:
                subprocess.run(["chattr", "-i", str(path)], check=True)
        _assert_result_unchanged(result, tmp_path)
        assert len(warnings_of_the_adapter()) == 1
        assert guard.failures["dagster"] >= 1


def test_a_bug_in_the_adapter(tmp_path, instance, monkeypatch, warnings_of_the_adapter):
    from lineage_dagster import io_managers

    real = io_managers.artifact_key

    def broken_for_during(path, partition=None):
        if list(path) == ["during"]:
            raise KeyError("a bug in lineage-dagster")
        return real(path, partition)

    monkeypatch.setattr(io_managers, "artifact_key", broken_for_during)
    _cut[:] = [lambda: None]
    result = dg.materialize([before, during, after], resources=lineage_dagster.instrument({}))

    assert result.success and result.output_for_node("after") == 12
    (warning,) = warnings_of_the_adapter()
    assert "KeyError" in warning.getMessage() and "the pipeline goes on" in warning.getMessage()
    # The adapter stops recording the run at its first failure, and still records its end:
    # no run is left "started", and the aborted step says why.
    assert ln.Run.get(external_id=result.run_id).status == "completed"
    steps = {r.name: r for r in ln.Run.filter(external_id__startswith=f"{result.run_id}/")}
    assert {name: r.status for name, r in steps.items()} == {
        "before": "completed", "during": "aborted"}
    assert "stopped recording this run after a failure of its own" in steps["during"].error


class _ListenersThatRefuseRemoval(dict):
    """Dagster's per-run listener lists, as a later Dagster might keep them: no ``get``."""

    def __missing__(self, run_id: str) -> list:
        self[run_id] = []
        return self[run_id]

    def get(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201 - dict's own signature
        raise AttributeError("this Dagster keeps its listeners another way")


def test_a_failing_unsubscribe_at_the_runs_end_leaves_the_run_alone(tmp_path, warnings_of_the_adapter):
    with temporary_instance(tmp_path / "lineage"):
        dagster_instance = dg.DagsterInstance.ephemeral(tempdir=str(tmp_path / "dagster"))
        dagster_instance._subscribers = _ListenersThatRefuseRemoval()  # noqa: SLF001
        resources = lineage_dagster.instrument(
            {"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path / "store"))})
        _cut[:] = [lambda: None]
        result = dg.materialize([before, during, after], instance=dagster_instance,
                                resources=resources)
        assert result.success and result.output_for_node("after") == 12
        (warning,) = warnings_of_the_adapter()
        assert "this Dagster keeps its listeners another way" in warning.getMessage()
        runs = ln.Run.filter(external_source="dagster").all()
        assert {run.status for run in runs} == {"completed"} and len(runs) == 4
