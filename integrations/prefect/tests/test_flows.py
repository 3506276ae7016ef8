"""Flow and task runs recorded from the real Prefect engine."""

from __future__ import annotations

import os

import pytest

import lineage as ln
import pipelines


def runs_of(flow_run: ln.Run) -> dict[str, list[ln.Run]]:
    """The runs a flow run initiated, by entrypoint, attempts in order."""
    grouped: dict[str, list[ln.Run]] = {}
    for run in ln.Run.filter(initiated_by_run_id=flow_run.id).order_by("attempt"):
        grouped.setdefault(run.entrypoint, []).append(run)
    return grouped


def flow_run_of(entrypoint: str) -> ln.Run:
    (run,) = ln.Run.filter(entrypoint=entrypoint, external_source="prefect")
    return run


def test_two_task_flow(instance):
    assert pipelines.two_tasks(3) == 3

    flow_run = flow_run_of("two_tasks")
    assert (flow_run.status, flow_run.attempt, flow_run.params) == ("completed", 1, {"n": 3})
    assert flow_run.initiated_by_run is None
    tasks = runs_of(flow_run)
    assert sorted(tasks) == ["extract", "total"]
    (extract,), (total,) = tasks["extract"], tasks["total"]
    assert (extract.status, extract.attempt, extract.params) == ("completed", 1, {"n": 3})
    # The future passed to total is recorded as the value it resolved to.
    assert (total.status, total.attempt, total.params) == ("completed", 1, {"numbers": [0, 1, 2]})
    assert [r.id for r in total.upstream_runs] == [extract.id]
    assert list(extract.upstream_runs) == []
    for run in (flow_run, extract, total):
        assert run.external_source == "prefect"
        assert run.transform_id == flow_run.transform_id
        assert run.transform.key == "pipelines.py"
        assert run.finished_at is not None and run.error is None
    assert len({flow_run.external_id, extract.external_id, total.external_id}) == 3


def test_retried_task_keeps_each_attempt(instance):
    assert pipelines.retried(4) == 3

    tasks = runs_of(flow_run_of("retried"))
    first, second = tasks["flaky"]
    assert (first.attempt, first.status, second.attempt, second.status) == (1, "errored", 2, "completed")
    assert first.external_id == second.external_id
    assert "ValueError: boom on the first attempt" in first.error
    assert second.error is None
    assert first.params == second.params == {"numbers": [0, 1, 2, 3]}
    assert [r.id for r in second.attempts] == [first.id, second.id]
    (extract,) = tasks["extract"]
    assert [r.id for r in first.upstream_runs] == [r.id for r in second.upstream_runs] == [extract.id]


def test_cached_task_run_is_cached(instance):
    assert pipelines.cached_twice(5) == 20
    assert pipelines.calls["double"] == 1  # Prefect really reused the first result

    runs = runs_of(flow_run_of("cached_twice"))["double"]
    assert sorted(r.status for r in runs) == ["cached", "completed"]
    assert all(r.params == {"x": 5} and r.attempt == 1 for r in runs)
    assert runs[0].external_id != runs[1].external_id


def test_failing_task_fails_the_flow_run_with_its_error(instance):
    with pytest.raises(RuntimeError, match="no data"):
        pipelines.failing("no data")

    flow_run = flow_run_of("failing")
    (fail,) = runs_of(flow_run)["fail"]
    assert (fail.status, fail.params) == ("errored", {"reason": "no data"})
    assert "RuntimeError: no data" in fail.error
    assert flow_run.status == "errored"
    assert "no data" in flow_run.error


def test_subflow_nests_in_its_parent(instance):
    assert pipelines.parent(3) == 4

    parent = flow_run_of("parent")
    child = flow_run_of("child")
    assert child.initiated_by_run_id == parent.id
    assert child.params == {"numbers": [0, 1, 2]}
    assert (parent.status, child.status) == ("completed", "completed")
    (extract,) = runs_of(parent)["extract"]
    (total,) = runs_of(child)["total"]
    assert sorted(runs_of(parent)) == ["child", "extract"]
    # The subflow received extract's result; total received the subflow's parameter.
    assert [r.id for r in child.upstream_runs] == [extract.id]
    assert list(total.upstream_runs) == []
    graph = ln.lineage_graph(parent)
    assert graph.edges[f"run:{parent.uid}", f"run:{child.uid}"]["relation"] == "initiated"
    assert graph.edges[f"run:{extract.uid}", f"run:{child.uid}"]["relation"] == "data"
    assert graph.edges[f"run:{child.uid}", f"run:{total.uid}"]["relation"] == "initiated"


def test_process_pool_tasks_link_to_their_flow_run_and_upstream_task_runs(instance):
    assert pipelines.in_processes(3) == 3 + 6

    flow_run = flow_run_of("in_processes")
    tasks = runs_of(flow_run)
    assert sorted((r.params["n"], r.status) for r in tasks["extract"]) == [
        (3, "completed"), (4, "completed")]
    totals = {r.params["numbers"][-1]: r for r in tasks["total"]}
    assert sorted(totals) == [2, 3]
    # Prefect resolves futures before a task goes to a worker process; the
    # adapter's runner passes their task runs along, found there by external id.
    extracts = {r.params["n"]: r for r in tasks["extract"]}
    assert [r.id for r in totals[2].upstream_runs] == [extracts[3].id]
    assert [r.id for r in totals[3].upstream_runs] == [extracts[4].id]
    assert list(extracts[3].upstream_runs) == list(extracts[4].upstream_runs) == []
    graph = ln.lineage_graph(flow_run)
    assert graph.edges[f"run:{extracts[3].uid}", f"run:{totals[2].uid}"]["relation"] == "data"
    assert {r.pid for r in tasks["extract"] + tasks["total"]} - {os.getpid()}  # other processes


def test_process_pool_tasks_of_prefects_own_flow_with_hooks_record_upstream_runs(instance):
    from prefect.task_runners import ProcessPoolTaskRunner

    assert pipelines.plain_in_processes(2) == 2

    tasks = runs_of(flow_run_of("plain_in_processes"))
    (extract,) = tasks["plain_extract"]
    flaky = tasks["plain_flaky"]
    # A worker process retries the task: each attempt received extract's result.
    assert [r.status for r in flaky] == ["errored", "completed"]
    assert all([u.id for u in r.upstream_runs] == [extract.id] for r in flaky)
    assert extract.pid != os.getpid()
    # The flow keeps a process-pool runner of its own configuration.
    runner = pipelines.plain_in_processes.task_runner
    assert isinstance(runner, ProcessPoolTaskRunner) and runner._max_workers == 2


def test_steps_in_and_under_tasks_link_to_the_task_run(instance):
    assert pipelines.with_steps(3) == 30 + 3

    tasks = runs_of(flow_run_of("with_steps"))
    (scaled,), (stepped_task,) = tasks["scaled"], tasks["stepped"]
    (scale,) = ln.Run.filter(entrypoint="scale")
    assert scale.initiated_by_run_id == scaled.id
    assert scale.params == {"numbers": [0, 1, 2], "factor": 10}
    (step_run,) = ln.Run.filter(entrypoint="stepped", external_source=None)
    assert step_run.initiated_by_run_id == stepped_task.id
    assert step_run.status == stepped_task.status == "completed"


def test_artifacts_passed_between_tasks_are_inputs(instance, tmp_path):
    assert pipelines.artifacts(str(tmp_path), 3) == 3

    tasks = runs_of(flow_run_of("artifacts"))
    (write,), (count,) = tasks["write_table"], tasks["count_rows"]
    table = ln.Artifact.get(key="tables/table.csv")
    assert table.run_id == write.id
    assert [a.id for a in count.input_artifacts] == [table.id]
    assert list(count.upstream_runs) == []  # the artifact is the edge
    graph = ln.lineage_graph(table)
    assert graph.has_edge(f"run:{write.uid}", f"artifact:{table.uid}")
    assert graph.has_edge(f"artifact:{table.uid}", f"run:{count.uid}")


def test_crashed_flow_run_is_aborted_with_its_task_runs(instance):
    with pytest.raises(KeyboardInterrupt):
        pipelines.crashing()

    flow_run = flow_run_of("crashing")
    tasks = runs_of(flow_run)
    assert flow_run.status == "aborted"
    assert flow_run.error.startswith("crashed: ")
    (extract,), (interrupted,) = tasks["extract"], tasks["interrupted"]
    assert extract.status == "completed"
    assert interrupted.status == "aborted" and "KeyboardInterrupt" in interrupted.error


def test_prefect_decorators_with_hooks(instance):
    assert pipelines.plain(2) == 2

    flow_run = flow_run_of("plain")
    assert (flow_run.status, flow_run.params) == ("completed", {"n": 2})
    tasks = runs_of(flow_run)
    (extract,) = tasks["plain_extract"]
    first, second = tasks["plain_flaky"]
    assert (first.status, second.status) == ("errored", "completed")
    assert "ValueError: plain boom" in first.error  # an immediate retry still has the exception
    assert second.params == {"numbers": [0, 1]}
    assert [r.id for r in second.upstream_runs] == [extract.id]


def test_async_tasks_and_map(instance):
    import asyncio

    assert asyncio.run(pipelines.gather(3)) == 0 + 1 + 4
    assert pipelines.mapped(3) == 0 + 1 + 4

    for flow_name in ("gather", "mapped"):
        flow_run = flow_run_of(flow_name)
        fetches = runs_of(flow_run)["fetch"]
        assert sorted(r.params["i"] for r in fetches) == [0, 1, 2]
        assert {r.status for r in fetches} | {flow_run.status} == {"completed"}


def test_drop_in_tasks_record_their_start_in_the_body_and_keep_the_users_hooks(instance):
    from lineage.context import current_run

    import lineage_prefect

    seen: dict[str, object] = {}

    def users_running_hook(task, task_run, state) -> None:
        seen["hook"] = state.name

    @lineage_prefect.task(on_running=[users_running_hook])
    def body(x: int) -> int:
        seen["current"] = current_run()
        return x + 1

    @lineage_prefect.task
    def numbers(n: int):
        seen["generator current"] = current_run()
        yield from range(n)

    @lineage_prefect.flow
    def dropped_in(x: int = 1) -> int:
        return body(x) + sum(numbers(3))

    # Prefect calls no running hook of lineage's for a task with a body it wraps ...
    assert [h.__name__ for h in body.on_running_hooks] == ["users_running_hook"]
    assert "lineage_on_running" in [h.__name__ for h in numbers.on_running_hooks]
    assert dropped_in(1) == 2 + 3
    assert seen["hook"] == "Running"  # ... and the user's own still runs
    tasks = runs_of(flow_run_of(dropped_in.fn.__qualname__))
    (body_run,), (numbers_run,) = tasks[body.fn.__qualname__], tasks[numbers.fn.__qualname__]
    assert seen["current"] is not None and seen["current"].uid == body_run.uid
    assert seen["generator current"] is not None and seen["generator current"].uid == numbers_run.uid
    assert (body_run.status, body_run.params, body_run.attempt) == ("completed", {"x": 1}, 1)
    assert (numbers_run.status, numbers_run.params) == ("completed", {"n": 3})
    assert current_run() is None  # nothing stays current after the flow


def test_what_the_runs_of_a_task_share_is_worked_out_once(instance, monkeypatch):
    from lineage import lifecycle

    looked_up: list[str] = []
    function_transform = lifecycle.function_transform

    def counting(fn, *args, **kwargs):
        looked_up.append(fn.__name__)
        return function_transform(fn, *args, **kwargs)

    monkeypatch.setattr(lifecycle, "function_transform", counting)
    assert pipelines.mapped(3) == 0 + 1 + 4
    assert set(looked_up) == {"fetch", "mapped"}
    looked_up.clear()
    assert pipelines.mapped(2) == 0 + 1
    assert looked_up == []  # not once per task or flow run
    for flow_run in ln.Run.filter(entrypoint="mapped", external_source="prefect"):
        fetches = runs_of(flow_run)["fetch"]
        assert {r.transform_id for r in fetches} == {flow_run.transform_id}
        assert {r.space_id for r in fetches} == {flow_run.space_id}
        assert {r.cli_args == flow_run.cli_args for r in fetches} == {True}


def test_task_parameters_resolve_futures_and_leave_plain_values_as_they_are():
    from types import SimpleNamespace

    from prefect.futures import PrefectFuture

    from lineage_prefect import _prefect

    class Done(PrefectFuture):
        def __init__(self, value):
            self.value = value

        def result(self, timeout=None, raise_on_failure=True):
            return self.value

        wait = add_done_callback = lambda *args, **kwargs: None

    context = SimpleNamespace(parameters={"n": 3, "s": "a", "f": Done(2), "items": [Done(1), 4],
                                          "by": {"k": Done("v")}})
    assert _prefect.task_parameters(context) == {"n": 3, "s": "a", "f": 2, "items": [1, 4],
                                                 "by": {"k": "v"}}
    assert _prefect.task_parameters(SimpleNamespace(parameters={})) == {}
