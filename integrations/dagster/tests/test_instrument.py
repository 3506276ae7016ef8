"""`instrument` changes what lineage sees, nothing of what Dagster does."""

from __future__ import annotations

import inspect
import pickle
from pathlib import Path

import dagster as dg
import lineage as ln
import lineage_dagster
import pytest
from dagster_helpers import dagster_runs, step
from lineage_dagster.io_managers import INNER_PREFIX


@dg.asset
def numbers() -> list[int]:
    return [2, 4]


@dg.asset
def total(numbers: list[int]) -> int:
    return sum(numbers)


@dg.op
def one() -> int:
    return 1


@dg.job(resource_defs={"io_manager": dg.mem_io_manager, "flag": dg.ResourceDefinition.hardcoded_resource(True)})
def own_resources_job():
    one()


@dg.job
def plain_job():
    one()


def test_rejects_what_it_cannot_instrument():
    with pytest.raises(TypeError, match="takes a dagster.Definitions, a dagster.JobDefinition"):
        lineage_dagster.instrument([numbers])


def test_definitions_keep_everything_but_their_io_managers():
    other = dg.ResourceDefinition.hardcoded_resource("kept")
    schedule = dg.ScheduleDefinition(name="nightly", cron_schedule="0 3 * * *",
                                     job=dg.define_asset_job("assets_job"))
    defs = dg.Definitions(assets=[numbers, total], schedules=[schedule],
                          jobs=[own_resources_job, plain_job],
                          resources={"other": other, "io_manager": dg.fs_io_manager,
                                     "files": dg.FilesystemIOManager(base_dir="x")},
                          metadata={"team": "data"})
    wrapped = lineage_dagster.instrument(defs)

    fields = set(inspect.signature(dg.Definitions.__new__).parameters) - {"cls", "resources", "jobs"}
    for field in fields:
        assert getattr(wrapped, field) == getattr(defs, field), field
    assert wrapped.resources["other"] is other
    assert wrapped.resources[INNER_PREFIX + "files"] is defs.resources["files"]
    assert sorted(wrapped.resources) == sorted(["other", "io_manager", "files",
                                                INNER_PREFIX + "files"])
    assert wrapped.resources["io_manager"] is not dg.fs_io_manager
    # A @job with resources of its own gets its IO managers wrapped; one without keeps
    # taking the (wrapped) resources of the Definitions.
    own, plain = wrapped.jobs
    assert own.resource_defs["io_manager"] is not dg.mem_io_manager
    assert own.resource_defs["flag"] is own_resources_job.resource_defs["flag"]
    assert plain is plain_job
    resolved = wrapped.resolve_job_def("plain_job")
    assert resolved.resource_defs["io_manager"] is wrapped.resources["io_manager"]
    # Instrumenting twice wraps once.
    again = lineage_dagster.instrument(wrapped)
    assert again.resources["io_manager"] is wrapped.resources["io_manager"]


def test_io_manager_config_from_run_config_still_applies(instance, tmp_path):
    defs = lineage_dagster.instrument(dg.Definitions(assets=[numbers, total],
                                                     resources={"io_manager": dg.fs_io_manager}))
    config = {"resources": {"io_manager": {"config": {"base_dir": str(tmp_path / "cfg")}}}}
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(run_config=config)

    assert result.success
    assert pickle.loads((tmp_path / "cfg" / "total").read_bytes()) == 6
    assert Path(ln.Artifact.get(key="dagster/total").cache()).read_bytes() == (
        tmp_path / "cfg" / "total").read_bytes()
    assert step(result.run_id, "total").transform.key == "test_instrument.py"


def test_generator_io_managers_are_torn_down(instance, tmp_path):
    events = []

    @dg.io_manager
    def managed(init_context):
        events.append("setup")
        try:
            yield dg.FilesystemIOManager(base_dir=str(tmp_path / "gen")).create_io_manager(
                init_context)
        finally:
            events.append("teardown")

    result = dg.materialize([numbers, total],
                            resources=lineage_dagster.instrument({"io_manager": managed}))
    assert result.success and events == ["setup", "teardown"]
    assert dagster_runs(result.run_id)[1:] == [
        ("numbers", 1, "completed", None, [], ["dagster/numbers"]),
        ("total", 1, "completed", None, ["dagster/numbers"], ["dagster/total"]),
    ]


def test_instrumented_run_inside_a_tracked_script_links_to_it(instance):
    outer = ln.track(params={"why": "nested"})
    try:
        result = dg.materialize([numbers], resources=lineage_dagster.instrument({}))
    finally:
        ln.finish()
    assert ln.Run.get(external_id=result.run_id).initiated_by_run_id == outer.id
