"""What lineage-airflow adds to each Airflow task instance, as a ratio to Airflow's own cost.

Runs one DAG of ``--tasks`` trivial PythonOperator tasks with
``dag.test()`` (every task in this process, no scheduler), alternately
without and with lineage's listeners registered, in one process and one
run, after a warm-up of each: Airflow's own cost per task instance is the
time of a run without lineage divided by the number of tasks, lineage's the
difference of the medians. ``dag.test()`` is the harshest comparison: under
a scheduler, Airflow's own cost per task (a new process, API calls) is far
larger while lineage's is the same.

    /path/to/venv-with-airflow-and-lineage-airflow/bin/python benchmarks/engines/airflow_bench.py

Needs ``apache-airflow`` and ``lineage-airflow`` installed in the
interpreter that runs it; uses a temporary AIRFLOW_HOME (SQLite) and a
temporary lineage instance. Prints a table and, with ``--json PATH``,
writes the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

DAG_FILE = '''
import datetime
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

def work(i, scale=2):
    return i * scale

with DAG("bench", schedule=None, start_date=datetime.datetime(2026, 1, 1)) as dag:
    previous = None
    for i in range({tasks}):
        task = PythonOperator(task_id=f"t{{i}}", python_callable=work, op_args=[i],
                              op_kwargs={{"scale": 3}})
        if previous is not None:
            previous >> task
        previous = task
'''


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10, help="tasks per DAG run")
    parser.add_argument("--repeats", type=int, default=3, help="DAG runs per side")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="airflow-bench-"))
    (work / "dags").mkdir()
    (work / "dags" / "bench.py").write_text(DAG_FILE.format(tasks=args.tasks))
    os.environ.update({
        "AIRFLOW_HOME": str(work / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(work / "dags"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{work}/airflow.db",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    })
    from airflow.utils import db

    db.initdb()
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_dag", work / "dags" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dag = module.dag

    from lineage.testing import temporary_instance

    with temporary_instance(work / "lineage"):
        import lineage as ln

        managers = _listener_managers()
        timings: dict[str, list[float]] = {"airflow": [], "airflow+lineage": []}
        for side in ("airflow", "airflow+lineage"):  # warm-up: imports, the in-process API
            _set_lineage(managers, side != "airflow")
            dag.test()
        for _ in range(args.repeats):
            for side in ("airflow", "airflow+lineage"):
                _set_lineage(managers, side != "airflow")
                start = time.perf_counter()
                dag_run = dag.test()
                timings[side].append(time.perf_counter() - start)
                if str(dag_run.state) != "success":
                    raise SystemExit(f"the benchmark DAG failed: {dag_run.state}")
        recorded = ln.Run.filter(external_source="airflow").count()

    base = statistics.median(timings["airflow"])
    tracked = statistics.median(timings["airflow+lineage"])
    per_task_airflow = base / args.tasks
    per_task_lineage = (tracked - base) / args.tasks
    result = {
        "tasks": args.tasks, "repeats": args.repeats, "runs_recorded": recorded,
        "dag_run_s": {"airflow": timings["airflow"], "airflow+lineage": timings["airflow+lineage"]},
        "per_task_ms": {"airflow": per_task_airflow * 1000, "lineage_added": per_task_lineage * 1000},
        "ratio_added_to_airflow": per_task_lineage / per_task_airflow,
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cores": os.cpu_count(), "load_1min": os.getloadavg()[0]},
        "versions": _versions(),
    }
    print(f"dag.test() of {args.tasks} tasks, median of {args.repeats} runs each, side by side")
    print(f"  Airflow alone           {base:8.3f} s per DAG run  {per_task_airflow * 1000:8.1f} ms per task")
    print(f"  Airflow + lineage       {tracked:8.3f} s per DAG run  "
          f"{tracked / args.tasks * 1000:8.1f} ms per task")
    print(f"  added by lineage        {per_task_lineage * 1000:8.1f} ms per task instance "
          f"= {result['ratio_added_to_airflow']:.2f} x Airflow's own")
    print(f"  (load average at the end: {result['machine']['load_1min']:.1f} on "
          f"{os.cpu_count()} cores; {recorded} lineage runs recorded)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


def _listener_managers() -> list:
    """Airflow's two listener managers (core: DAG runs; task SDK: task instances)."""
    from airflow.listeners.listener import get_listener_manager as core
    from airflow.sdk.listener import get_listener_manager as sdk

    return [core(), sdk()]


def _set_lineage(managers: list, on: bool) -> None:
    from lineage_airflow import listener

    for manager in managers:
        if on:
            manager.add_listener(listener)
        elif manager.pm.is_registered(listener):
            manager.pm.unregister(listener)


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in ("apache-airflow", "lineage", "lineage-airflow")}


if __name__ == "__main__":
    sys.exit(main())
