"""Engine events for the same task from many processes at once land on one run."""

from __future__ import annotations

import random

import lineage as ln
from lineage import lifecycle

WRITERS = 6
TASKS = 25


def _report_events(transform_id: int, seed: int, barrier) -> int:
    """Send start and finish events for every task, in a shuffled order."""
    events = [(i, kind) for i in range(TASKS) for kind in ("start", "finish")]
    random.Random(seed).shuffle(events)
    barrier.wait(timeout=60)
    for i, kind in events:
        if kind == "start":
            lifecycle.engine_run(transform_id, external_source="engine", external_id=f"task-{i}",
                                 params={"i": i}, details={f"writer{seed}": True})
        else:
            lifecycle.engine_run(transform_id, external_source="engine", external_id=f"task-{i}",
                                 status="completed")
    return len(events)


def test_concurrent_duplicate_and_out_of_order_events_make_one_run_per_task(
        instance, processes, fork_barrier):
    transform = lifecycle.get_or_create_transform("engine.py", "x = 1", "engine")
    barrier = fork_barrier(WRITERS)
    results = processes(_report_events, [(transform.id, seed, barrier) for seed in range(WRITERS)])
    assert [status for status, _ in results] == ["ok"] * WRITERS, results
    runs = ln.Run.filter(external_source="engine").all()
    assert len(runs) == TASKS
    assert {r.status for r in runs} == {"completed"}
    assert sorted(r.params["i"] for r in runs) == list(range(TASKS))
    # every writer's details were merged into the one run, none lost
    assert all(len(r.details) == WRITERS for r in runs), [r.details for r in runs]
