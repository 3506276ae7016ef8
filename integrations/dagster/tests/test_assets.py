"""Asset graphs through `materialize`: runs, steps, artifacts and their graph."""

from __future__ import annotations

import pickle
from pathlib import Path

import dagster as dg
import lineage as ln
import lineage_dagster
from dagster_helpers import dagster_runs, graph_edges, step


@dg.asset
def raw() -> list[int]:
    return [3, 1, 2]


@dg.asset
def ordered(raw: list[int]) -> list[int]:
    return sorted(raw)


def test_two_asset_graph(instance):
    result = dg.materialize([raw, ordered], resources=lineage_dagster.instrument({}))

    assert result.success and result.output_for_node("ordered") == [1, 2, 3]
    run_id = result.run_id
    assert dagster_runs(run_id) == [
        ("__ephemeral_asset_job__", 1, "completed", {}, [], []),
        ("ordered", 1, "completed", None, ["dagster/raw"], ["dagster/ordered"]),
        ("raw", 1, "completed", None, [], ["dagster/raw"]),
    ]
    job = ln.Run.get(external_id=run_id)
    assert job.transform.key == "test_assets.py" and job.transform.kind == "dagster"
    assert job.details["job"] == "__ephemeral_asset_job__" and job.finished_at is not None
    for key in ("raw", "ordered"):
        run = step(run_id, key)
        assert run.initiated_by_run_id == job.id
        assert run.entrypoint == key and run.transform.key == "test_assets.py"
        assert run.details["step_key"] == key and run.details["dagster_run_id"] == run_id

    # The artifact holds what the IO manager wrote (Dagster's pickle), and Dagster's metadata names it.
    materialization = result.asset_materializations_for_node("ordered")[0]
    artifact = ln.Artifact.get(key="dagster/ordered")
    assert pickle.loads(Path(artifact.cache()).read_bytes()) == [1, 2, 3]
    assert materialization.metadata[lineage_dagster.ARTIFACT_METADATA].value == artifact.uid

    assert graph_edges(artifact) == {
        ("run:__ephemeral_asset_job__#1", "run:raw#1", "initiated"),
        ("run:__ephemeral_asset_job__#1", "run:ordered#1", "initiated"),
        ("run:raw#1", "artifact:dagster/raw", "output"),
        ("artifact:dagster/raw", "run:ordered#1", "input"),
        ("run:ordered#1", "artifact:dagster/ordered", "output"),
    }


@dg.multi_asset(outs={"left": dg.AssetOut(), "right": dg.AssetOut()})
def halves() -> tuple[list[int], list[int]]:
    return [1, 2], [3, 4]


@dg.asset
def joined(left: list[int], right: list[int]) -> list[int]:
    return left + right


def test_multi_asset_graph(instance):
    result = dg.materialize([halves, joined], resources=lineage_dagster.instrument({}))

    assert result.success
    assert dagster_runs(result.run_id) == [
        ("__ephemeral_asset_job__", 1, "completed", {}, [], []),
        ("halves", 1, "completed", None, [], ["dagster/left", "dagster/right"]),
        ("joined", 1, "completed", None, ["dagster/left", "dagster/right"], ["dagster/joined"]),
    ]
    assert graph_edges(ln.Artifact.get(key="dagster/joined")) == {
        ("run:__ephemeral_asset_job__#1", "run:halves#1", "initiated"),
        ("run:__ephemeral_asset_job__#1", "run:joined#1", "initiated"),
        ("run:halves#1", "artifact:dagster/left", "output"),
        ("run:halves#1", "artifact:dagster/right", "output"),
        ("artifact:dagster/left", "run:joined#1", "input"),
        ("artifact:dagster/right", "run:joined#1", "input"),
        ("run:joined#1", "artifact:dagster/joined", "output"),
    }


def test_downstream_materialized_in_a_later_run(instance, tmp_path):
    dagster_instance = dg.DagsterInstance.ephemeral(tempdir=str(tmp_path))
    resources = lineage_dagster.instrument({})
    first = dg.materialize([raw], instance=dagster_instance, resources=resources)
    later = dg.materialize([raw, ordered], selection=[ordered], instance=dagster_instance,
                           resources=resources)

    assert later.output_for_node("ordered") == [1, 2, 3]
    raw_artifact = ln.Artifact.get(key="dagster/raw")
    assert raw_artifact.run == step(first.run_id, "raw")
    # The later run loaded the very artifact the first run made: found, not dropped.
    assert dagster_runs(later.run_id) == [
        ("__ephemeral_asset_job__", 1, "completed", {}, [], []),
        ("ordered", 1, "completed", None, ["dagster/raw"], ["dagster/ordered"]),
    ]
    assert step(later.run_id, "ordered").input_artifacts.one() == raw_artifact
    assert graph_edges(ln.Artifact.get(key="dagster/ordered")) == {
        ("run:__ephemeral_asset_job__#1", "run:raw#1", "initiated"),
        ("run:__ephemeral_asset_job__#1", "run:ordered#1", "initiated"),
        ("run:raw#1", "artifact:dagster/raw", "output"),
        ("artifact:dagster/raw", "run:ordered#1", "input"),
        ("run:ordered#1", "artifact:dagster/ordered", "output"),
    }
    assert len({r.uid for r in ln.Run.filter(name="__ephemeral_asset_job__")}) == 2


def test_upstream_materialized_without_lineage_is_found_by_its_file(instance, tmp_path):
    dagster_instance = dg.DagsterInstance.ephemeral(tempdir=str(tmp_path))
    plain = dg.materialize([raw], instance=dagster_instance)
    later = dg.materialize([raw, ordered], selection=[ordered], instance=dagster_instance,
                           resources=lineage_dagster.instrument({}))

    assert ln.Run.filter(external_id=plain.run_id).count() == 0
    loaded = step(later.run_id, "ordered").input_artifacts.one()
    written = plain.asset_materializations_for_node("raw")[0].metadata["path"].value
    assert loaded.key == "dagster/raw" and loaded.run is None
    assert Path(loaded.cache()).read_bytes() == Path(written).read_bytes()


def test_pythonic_io_manager_artifact_is_the_file_it_wrote(instance, tmp_path):
    resources = lineage_dagster.instrument(
        {"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path / "store"))})
    result = dg.materialize([raw, ordered], resources=resources)

    assert result.success
    for key in ("raw", "ordered"):
        artifact = ln.Artifact.get(key=f"dagster/{key}")
        written = tmp_path / "store" / key
        assert Path(artifact.cache()).read_bytes() == written.read_bytes()
        assert artifact.run == step(result.run_id, key)


def test_in_memory_io_manager_records_the_pickled_value(instance):
    result = dg.materialize([raw, ordered],
                            resources=lineage_dagster.instrument({"io_manager": dg.mem_io_manager}))

    assert result.success and result.output_for_node("ordered") == [1, 2, 3]
    assert dagster_runs(result.run_id)[1:] == [
        ("ordered", 1, "completed", None, ["dagster/raw"], ["dagster/ordered"]),
        ("raw", 1, "completed", None, [], ["dagster/raw"]),
    ]
    artifact = ln.Artifact.get(key="dagster/ordered")
    assert pickle.loads(Path(artifact.cache()).read_bytes()) == [1, 2, 3]


daily = dg.StaticPartitionsDefinition(["2026-12-01", "2026-12-02"])


@dg.asset(partitions_def=daily)
def readings(context) -> str:
    return f"readings of {context.partition_key}"


@dg.asset(partitions_def=daily)
def summary(readings: str) -> str:
    return readings.upper()


def test_partitions_are_versions_of_their_own_keys(instance):
    resources = lineage_dagster.instrument({})
    for day in ("2026-12-01", "2026-12-02"):
        result = dg.materialize([readings, summary], partition_key=day, resources=resources)
        assert dagster_runs(result.run_id)[1:] == [
            ("readings", 1, "completed", None, [], [f"dagster/readings/{day}"]),
            ("summary", 1, "completed", None, [f"dagster/readings/{day}"],
             [f"dagster/summary/{day}"]),
        ]
        assert step(result.run_id, "summary").details["partition"] == day
    artifact = ln.Artifact.get(key="dagster/summary/2026-12-02")
    assert pickle.loads(Path(artifact.cache()).read_bytes()) == "READINGS OF 2026-12-02"


def test_rematerialization_is_a_new_version(instance, tmp_path):
    counter = {"n": 0}

    @dg.asset(name="counted")
    def counted() -> int:
        counter["n"] += 1
        return counter["n"]

    resources = lineage_dagster.instrument({})
    first = dg.materialize([counted], resources=resources)
    second = dg.materialize([counted], resources=resources)

    versions = ln.Artifact.filter(key="dagster/counted").order_by("version").all()
    assert [a.run for a in versions] == [step(first.run_id, "counted"),
                                         step(second.run_id, "counted")]
    assert [a.is_latest for a in versions] == [False, True]


@dg.asset
def flaky_leaf(ordered: list[int]) -> list[int]:
    raise ValueError("boom")


def test_a_long_lived_process_keeps_nothing_of_ended_runs(instance, tmp_path):
    from lineage_dagster import internals
    from lineage_dagster.recorder import recorder

    dagster_instance = dg.DagsterInstance.ephemeral(tempdir=str(tmp_path / "dagster"))
    resources = lineage_dagster.instrument({})
    for repeat in range(12):  # successes and failures, as a code server runs them
        assets = [raw, ordered] + ([flaky_leaf] if repeat % 3 == 2 else [])
        result = dg.materialize(assets, instance=dagster_instance, resources=resources,
                                raise_on_error=False)
        assert result.success == (repeat % 3 != 2)
        assert internals.run_listener_count(dagster_instance) == 0  # unsubscribed at the end
        assert recorder._watched == set() and recorder._dagster_runs == {}  # noqa: SLF001
    assert ln.Run.filter(external_source="dagster", name="__ephemeral_asset_job__").count() == 12
