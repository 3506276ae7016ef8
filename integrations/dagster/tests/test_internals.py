"""Every private Dagster API the adapter uses, checked against the pinned Dagster.

When one of these fails after a Dagster upgrade, the function named in the
test is the one place to adapt (`lineage_dagster.internals`).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from lineage_dagster import internals


def test_the_pinned_version_is_installed():
    assert dg.__version__ == internals.PINNED_VERSION


def test_restart_attempt_reads_dagster_s_retry_message():
    @dg.op(retry_policy=dg.RetryPolicy(max_retries=2))
    def twice_flaky(context):
        if context.retry_number < 2:
            raise RuntimeError("not yet")

    @dg.job
    def job():
        twice_flaky()

    result = job.execute_in_process()
    messages = [e.message for e in result.all_events
                if e.event_type == dg.DagsterEventType.STEP_RESTARTED]
    assert [internals.restart_attempt(m) for m in messages] == [2, 3]
    assert internals.restart_attempt("Started execution of step") is None


def test_subscribe_to_run_sees_the_events_of_its_run_in_the_step_thread():
    import threading

    seen = []

    @dg.io_manager
    def listening(init_context):
        internals.subscribe_to_run(init_context.instance, init_context.run_id,
                                   lambda e: seen.append((e.dagster_event.event_type_value
                                                          if e.dagster_event else None,
                                                          threading.get_ident())))
        return dg.mem_io_manager.resource_fn(init_context)

    body = []

    @dg.op
    def one():
        body.append(threading.get_ident())
        return 1

    @dg.job(resource_defs={"io_manager": listening})
    def job():
        one()

    job.execute_in_process()
    kinds = [k for k, _ in seen]
    assert {"STEP_START", "STEP_SUCCESS", dg.DagsterEventType.RUN_SUCCESS.value} <= set(kinds)
    assert {t for k, t in seen if k == "STEP_START"} == set(body)


def test_unsubscribe_from_run_while_dagster_calls_the_listeners():
    instance = dg.DagsterInstance.ephemeral()
    seen = []

    def leaving(entry):
        seen.append("leaving")
        internals.unsubscribe_from_run(instance, entry.run_id, leaving)

    @dg.op
    def one():
        return 1

    @dg.job
    def job():
        one()

    run_id = "0c4e3cd3-5ac5-4b9a-8f3b-1f0f1d8b9b21"
    internals.subscribe_to_run(instance, run_id, leaving)
    internals.subscribe_to_run(instance, run_id, lambda entry: seen.append("staying"))
    assert internals.run_listener_count(instance) == 2
    job.execute_in_process(instance=instance, run_id=run_id)
    assert seen[:2] == ["leaving", "staying"] and seen.count("leaving") == 1
    assert seen.count("staying") > 1  # the list Dagster iterated was not changed under it
    assert internals.run_listener_count(instance) == 1


def test_io_context_step_facts():
    facts = {}

    class Probe(dg.IOManager):
        def handle_output(self, context, obj):
            facts["step"] = internals.io_step(context)
            facts["attempt"] = internals.step_attempt(context)
            facts["path"] = internals.node_handle_path(context)

        def load_input(self, context):
            return None

    @dg.op
    def leaf():
        return 1

    @dg.graph
    def outer():
        return leaf()

    @dg.job(resource_defs={"io_manager": dg.IOManagerDefinition.hardcoded_io_manager(Probe())})
    def job():
        outer()

    result = job.execute_in_process()
    assert facts == {"step": (result.run_id, "outer.leaf"), "attempt": 1,
                     "path": ["outer", "leaf"]}


def test_ephemeral_run_id_of_an_earlier_run_s_output(tmp_path):
    seen = []

    class Probe(dg.IOManager):
        def handle_output(self, context, obj):
            pass

        def load_input(self, context):
            seen.append(context.upstream_output.run_id)
            return 1

    @dg.asset
    def up():
        return 1

    @dg.asset
    def down(up):
        return up

    instance = dg.DagsterInstance.ephemeral(tempdir=str(tmp_path))
    resources = {"io_manager": dg.IOManagerDefinition.hardcoded_io_manager(Probe())}
    dg.materialize([up], instance=instance, resources=resources)
    dg.materialize([up, down], selection=[down], instance=instance, resources=resources)
    assert len(seen) == 1 and not internals.is_real_run_id(seen[0])
    assert internals.is_real_run_id("a1b2") and not internals.is_real_run_id(None)


def test_code_origin_file_of_reconstructable_jobs():
    import dagster_jobs

    here = Path(__file__).with_name("dagster_jobs.py")
    by_module = dg.reconstructable(dagster_jobs.rerun_job)
    by_reconstructor = dg.build_reconstructable_job(
        "dagster_jobs", "mp_job", reconstructor_working_directory=str(here.parent))
    for job in (by_module, by_reconstructor):
        origin = job.get_python_origin()
        run = dg.DagsterRun(job_name="x", run_id="r", job_code_origin=origin)
        assert Path(internals.code_origin_file(run)) == here
    assert internals.code_origin_file(dg.DagsterRun(job_name="x", run_id="r")) is None


def test_op_function_and_op_definitions():
    def body():
        return 1

    op = dg.op(name="body")(body)

    @dg.graph
    def nested():
        return op()

    assert internals.op_function(op) is body
    assert [o.name for o in internals.op_definitions(nested)] == ["body"]
    assert [o.name for o in internals.op_definitions(op)] == ["body"]


def test_default_io_manager_and_own_resources():
    @dg.op
    def one():
        return 1

    @dg.job
    def plain():
        one()

    @dg.job(resource_defs={"x": dg.ResourceDefinition.hardcoded_resource(1)})
    def with_resources():
        one()

    assert plain.resource_defs["io_manager"] is internals.default_io_manager()
    assert not internals.has_own_resources(plain)
    assert internals.has_own_resources(with_resources)


def test_storage_classes_and_building_from_yaml_config(tmp_path):
    storage = internals.build_configurable(
        "dagster._core.storage.event_log", "SqliteEventLogStorage",
        {"base_dir": str(tmp_path)}, internals.event_log_storage_class())
    assert isinstance(storage, internals.event_log_storage_class())
    assert isinstance(storage, internals.configurable_class())
    assert internals.storage_instance(storage) is None
    with pytest.raises(Exception):
        internals.build_configurable("dagster._core.storage.event_log", "SqliteEventLogStorage",
                                     {"no_such_field": 1}, internals.event_log_storage_class())
