"""Op jobs through `execute_in_process`: retries as attempts, failures, config, run -> run edges."""

from __future__ import annotations

import dagster as dg
import lineage as ln
import lineage_dagster
from dagster_helpers import dagster_runs, graph_edges, step


@dg.op(retry_policy=dg.RetryPolicy(max_retries=2), config_schema={"scale": int})
def flaky(context) -> int:
    if context.retry_number == 0:
        raise RuntimeError("flaky fails the first time")
    return context.op_config["scale"] * 2


@dg.op
def double(value: int) -> int:
    return value * 2


@dg.job
def retried():
    double(flaky())


def test_retried_op_that_fails_once(instance):
    config = {"ops": {"flaky": {"config": {"scale": 3}}}}
    result = lineage_dagster.instrument(retried).execute_in_process(run_config=config)

    assert result.success and result.output_for_node("double") == 12
    run_id = result.run_id
    assert dagster_runs(run_id) == [
        ("retried", 1, "completed", config, [], []),
        ("double", 1, "completed", None, [], []),
        ("flaky", 1, "errored", {"scale": 3}, [], []),
        ("flaky", 2, "completed", {"scale": 3}, [], []),
    ]
    first, second = step(run_id, "flaky").attempts.all()
    assert (first.attempt, second.attempt) == (1, 2)
    assert "RuntimeError: flaky fails the first time" in first.error and second.error is None
    assert first.finished_at <= second.started_at
    # double received flaky's value, no artifact: a run -> run edge from the attempt that made it.
    assert step(run_id, "double").upstream_runs.one() == second
    assert graph_edges(ln.Run.get(external_id=run_id)) == {
        ("run:retried#1", "run:flaky#1", "initiated"),
        ("run:retried#1", "run:flaky#2", "initiated"),
        ("run:retried#1", "run:double#1", "initiated"),
        ("run:flaky#2", "run:double#1", "data"),
    }


@dg.op
def broken() -> int:
    raise ValueError("broken on purpose")


@dg.op
def never(value: int) -> int:
    return value


@dg.job
def failing():
    never(broken())


def test_failing_op(instance):
    result = lineage_dagster.instrument(failing).execute_in_process(raise_on_error=False)

    assert not result.success
    run_id = result.run_id
    assert dagster_runs(run_id) == [
        ("failing", 1, "errored", {}, [], []),
        ("broken", 1, "errored", None, [], []),
    ]
    broken_run = step(run_id, "broken")
    assert "ValueError: broken on purpose" in broken_run.error
    assert 'in broken\n    raise ValueError("broken on purpose")' in broken_run.error
    job = ln.Run.get(external_id=run_id)
    assert job.error and job.finished_at is not None
    assert ln.Run.filter(status__in=["started", "scheduled"]).count() == 0


@dg.op(config_schema={"rows": int, "name": str, "api_token": dg.Field(str, is_required=False)})
def configured(context) -> int:
    return context.op_config["rows"]


@dg.graph
def inner_graph():
    return configured()


@dg.job
def nested():
    double(inner_graph())


def test_op_config_of_nested_ops_as_params(instance):
    config = {"ops": {"inner_graph": {"ops": {"configured": {
        "config": {"rows": 5, "name": "a b", "api_token": "s3cr3t-value"}}}}}}
    result = lineage_dagster.instrument(nested).execute_in_process(run_config=config)

    assert result.output_for_node("double") == 10
    run = step(result.run_id, "inner_graph.configured")
    assert run.params == {"rows": 5, "name": "a b", "api_token": "***"}
    assert run.details["op"] == "inner_graph.configured"
    assert "s3cr3t" not in str(ln.Run.get(external_id=result.run_id).params)
    assert step(result.run_id, "double").upstream_runs.one() == run


def test_in_process_op_jobs_keep_values_in_memory(instance, tmp_path):
    dagster_instance = dg.DagsterInstance.ephemeral(tempdir=str(tmp_path))
    result = lineage_dagster.instrument(retried).execute_in_process(
        run_config={"ops": {"flaky": {"config": {"scale": 1}}}}, instance=dagster_instance)

    assert result.success
    # As without lineage: execute_in_process keeps op outputs in memory, writes no files.
    assert not (tmp_path / "storage" / result.run_id).exists()
    assert step(result.run_id, "double").upstream_runs.one() == step(result.run_id, "flaky")
