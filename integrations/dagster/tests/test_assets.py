"""Asset graphs through `materialize`: runs, steps, artifacts and their graph."""

from __future__ import annotations

import pickle
from pathlib import Path

import dagster as dg
import lineage as ln
import lineage_dagster
from conftest import dagster_runs, graph_edges, step


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
