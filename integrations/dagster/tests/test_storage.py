"""The event-log storage for ``dagster.yaml``: the real storage underneath, every event recorded."""

from __future__ import annotations

import dagster as dg
import lineage as ln
import pytest
from dagster_helpers import STORAGE_YAML, dagster_home, dagster_runs, step
from dagster._core.storage.event_log import SqlEventLogStorage, SqliteEventLogStorage



@dg.asset
def source_rows() -> list[str]:
    return ["b", "a"]


@dg.asset
def sorted_rows(source_rows: list[str]) -> list[str]:
    return sorted(source_rows)


def test_storage_is_the_configured_one_and_travels_to_other_processes(tmp_path):
    home = dagster_home(tmp_path)
    with dg.DagsterInstance.from_config(str(home)) as dagster_instance:
        storage = dagster_instance.event_log_storage
        # The real storage, so `dagster instance migrate` and type checks keep working ...
        assert isinstance(storage, SqliteEventLogStorage) and isinstance(storage, SqlEventLogStorage)
        assert storage.lineage_records_events
        # ... and the instance ref that step processes rebuild from names lineage's class.
        ref = dagster_instance.get_ref().event_storage_data
        assert (ref.module_name, ref.class_name) == ("lineage_dagster", "LineageEventLogStorage")
        assert storage.inst_data.class_name == "LineageEventLogStorage"


def test_without_instrument_runs_steps_files_and_loads_are_recorded(instance, tmp_path):
    home = dagster_home(tmp_path)
    with dg.DagsterInstance.from_config(str(home)) as dagster_instance:
        result = dg.materialize([source_rows, sorted_rows], instance=dagster_instance)
    assert result.success
    # Outputs from the file each materialization names; the load as a run -> run edge.
    assert dagster_runs(result.run_id) == [
        ("__ephemeral_asset_job__", 1, "completed", {}, [], []),
        ("sorted_rows", 1, "completed", None, [], ["dagster/sorted_rows"]),
        ("source_rows", 1, "completed", None, [], ["dagster/source_rows"]),
    ]
    assert step(result.run_id, "sorted_rows").upstream_runs.one() == step(result.run_id,
                                                                          "source_rows")
    assert ln.Run.get(external_id=result.run_id).transform.key == "dagster/__ephemeral_asset_job__"


def test_replayed_event_batches_are_recorded_once(instance, tmp_path, monkeypatch):
    from lineage_dagster.recorder import recorder

    handled = []
    real_handle = recorder.handle
    monkeypatch.setattr(recorder, "handle", lambda e, i: (handled.append(e), real_handle(e, i)))
    home = dagster_home(tmp_path, text="telemetry:\n  enabled: false\n")
    with dg.DagsterInstance.from_config(str(home)) as plain:
        result = dg.materialize([source_rows], instance=plain)
        entries = [r.event_log_entry for r in plain.get_records_for_run(result.run_id).records]
    assert ln.Run.filter(external_id=result.run_id).count() == 0

    # The same instance (its run storage knows the run), now with lineage's event storage
    # keeping events elsewhere: the whole run arrives as one batch.
    (home / "dagster.yaml").write_text(STORAGE_YAML.format(home=tmp_path / "replay"))
    with dg.DagsterInstance.from_config(str(home)) as recording:
        recording.event_log_storage.store_event_batch(entries)
    assert handled == entries  # each event once, though the batch stores them one by one
    assert dagster_runs(result.run_id) == [
        ("__ephemeral_asset_job__", 1, "completed", {}, [], []),
        ("source_rows", 1, "completed", None, [], ["dagster/source_rows"]),
    ]


def test_default_storage_needs_dagster_home(tmp_path, monkeypatch):
    from lineage_dagster import LineageEventLogStorage

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    with pytest.raises(dg.DagsterInvariantViolationError, match="set DAGSTER_HOME"):
        LineageEventLogStorage.from_config_value(None, {})
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    storage = LineageEventLogStorage.from_config_value(None, {})
    assert isinstance(storage, SqliteEventLogStorage)
    assert (tmp_path / "history" / "runs").is_dir()
