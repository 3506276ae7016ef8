"""lineage-prefect's own CPU per task run, without Prefect's engine: a quick A/B measure.

Usage (an environment with lineage, lineage-prefect and prefect)::

    python benchmarks/engines/prefect_hot_path.py [--tasks 1000] [--repeats 5] [--json]

`prefect_bench.py` measures inside Prefect, where a run takes minutes and a
figure moves by a third from one run to the next on a shared machine. This
script calls the adapter's recorder as Prefect's engine does for an inline
task (the drop-in task's start, its body's end, the completion hook) with
stand-ins of Prefect's task, task run and context objects, on a chain of
tasks in one flow run, one fresh embedded (SQLite) instance. Between the
calls it runs code that touches a few megabytes (what Prefect's own work
does), so lineage's code runs in cold caches as it does inside Prefect: the
same calls in a tight loop cost a fifth of that.

Figures (per task run, median and range over repeats):

* **hooking thread**: CPU time (`time.thread_time`) of the recorder calls;
* **background writer**: CPU time of the thread that writes the batches of
  ended task runs (``lineage.lifecycle.deferred``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

#: Strings touched between recorder calls (about 4 MB): Prefect's work between them.
_JUNK = [str(i) * 3 for i in range(60_000)]


def touch_caches() -> int:
    """Walk and rebuild a few megabytes of objects, as Prefect does between hook calls."""
    seen: dict[str, int] = {}
    for text in _JUNK[::3]:
        seen[text] = len(text)
    return len(seen)


def writer_cpu_seconds() -> float:
    """CPU time of lineage's background writer so far (0 before it starts)."""
    for thread in threading.enumerate():
        if thread.name == "lineage-deferred-runs" and thread.ident is not None:
            return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
    return 0.0


def increment(x: int) -> int:
    """The task's function."""
    return x + 1


def chain(n: int) -> int:
    """The flow's function."""
    return n


def one_flow(n: int) -> tuple[float, float]:
    """A flow run of `n` chained task runs: (hooking CPU, writer CPU) per task run."""
    from lineage_prefect import recorder, state_hooks

    task, flow = SimpleNamespace(fn=increment), SimpleNamespace(fn=chain)
    completed = SimpleNamespace(name="Completed")
    flow_run = SimpleNamespace(id=uuid.uuid4(), name="chain", parameters={"n": n},
                               parent_task_run_id=None, tags=[])
    recorder.flow_started(flow, flow_run)
    hooking, previous, writer = 0.0, None, writer_cpu_seconds()
    for k in range(n):
        inputs = {"x": [SimpleNamespace(input_type="task_run", id=previous)]} if previous else {}
        task_run = SimpleNamespace(id=uuid.uuid4(), run_count=1, flow_run_id=flow_run.id,
                                   name=f"increment-{k}", tags=[], task_inputs=inputs,
                                   task_key="increment")
        context = SimpleNamespace(parameters={"x": k})
        touch_caches()
        start = time.thread_time()
        entry = recorder.task_started(task, task_run, context)
        recorder.task_body_left(entry)
        hooking += time.thread_time() - start
        touch_caches()
        start = time.thread_time()
        state_hooks.lineage_on_completion(task, task_run, completed)
        hooking += time.thread_time() - start
        previous = task_run.id
    time.sleep(0.6)  # the last batch is written
    recorder.flow_ended(flow_run, "completed")
    return hooking / n, (writer_cpu_seconds() - writer) / n


def measure(n: int, repeats: int) -> dict[str, Any]:
    from lineage.testing import temporary_instance

    with tempfile.TemporaryDirectory() as folder, temporary_instance(Path(folder)):
        one_flow(50)  # warm-up: transform, environment, templates
        samples = [one_flow(n) for _ in range(repeats)]
    ms = 1000.0
    result: dict[str, Any] = {"tasks_per_flow": n, "repeats": repeats}
    for at, name in ((0, "hooking_cpu_per_task_ms"), (1, "writer_cpu_per_task_ms")):
        values = [s[at] * ms for s in samples]
        result[name] = {"median": round(statistics.median(values), 4),
                        "min": round(min(values), 4), "max": round(max(values), 4)}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1000, help="task runs per flow run")
    parser.add_argument("--repeats", type=int, default=5, help="flow runs measured")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = measure(args.tasks, args.repeats)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for name, label in (("hooking_cpu_per_task_ms", "hooking thread"),
                        ("writer_cpu_per_task_ms", "background writer")):
        row = result[name]
        print(f"{label:18} {row['median']:.4f} ms per task run "
              f"({row['min']:.4f} to {row['max']:.4f}, {args.repeats} flows of {args.tasks})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
