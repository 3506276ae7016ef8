"""Helpers of the Dagster tests: readable summaries of what was recorded, a DAGSTER_HOME.

Imported by name (``from dagster_helpers import step``), never from
`conftest`, whose module name every test folder shares.
"""

from __future__ import annotations

from typing import Any


def dagster_runs(run_id: str) -> list[tuple[Any, ...]]:
    """(name, attempt, status, params, inputs, outputs) of a Dagster run and its steps.

    The Dagster run comes first as ``("<job>", ...)``; steps follow by step
    key and attempt. Inputs and outputs are artifact keys, sorted.
    """
    import lineage as ln

    job = ln.Run.get(external_source="dagster", external_id=run_id)
    steps = ln.Run.filter(external_source="dagster",
                          external_id__startswith=f"{run_id}/").all()
    rows = []
    for run in [job, *sorted(steps, key=lambda r: (r.name, r.attempt))]:
        rows.append((run.name, run.attempt, run.status, run.params,
                     sorted(a.key for a in run.input_artifacts),
                     sorted(a.key for a in run.output_artifacts)))
    return rows


def step(run_id: str, step_key: str, attempt: int | None = None) -> Any:
    """The lineage run of a step attempt (the latest when `attempt` is None)."""
    from lineage import lifecycle

    run = lifecycle.find_engine_run("dagster", f"{run_id}/{step_key}", attempt)
    assert run is not None, f"no run recorded for step {step_key} of {run_id}"
    return run


def graph_edges(record: Any) -> set[tuple[str, str, str]]:
    """The lineage graph of `record` as (from, to, relation) with readable node names.

    Runs read ``run:<name>#<attempt>`` (a Dagster run's name is its job's),
    artifacts ``artifact:<key>``; a run of a tracked script reads
    ``run:<transform key>``.
    """
    import lineage as ln

    graph = ln.lineage_graph(record)
    names = {}
    for node, data in graph.nodes(data=True):
        if data["kind"] == "run":
            run = ln.Run.get(uid=data["uid"])
            label = run.name or run.transform.key
            names[node] = f"run:{label}#{run.attempt}"
        else:
            names[node] = f"artifact:{data['key']}"
    return {(names[a], names[b], data["relation"]) for a, b, data in graph.edges(data=True)}


#: A ``dagster.yaml`` naming lineage's event-log storage (SQLite underneath, in ``{home}``).
STORAGE_YAML = """\
event_log_storage:
  module: lineage_dagster
  class: LineageEventLogStorage
  config:
    storage:
      module: dagster._core.storage.event_log
      class: SqliteEventLogStorage
      config:
        base_dir: {home}/history/runs
telemetry:
  enabled: false
"""


def dagster_home(folder: Any, text: str = STORAGE_YAML) -> Any:
    """A DAGSTER_HOME under `folder` whose ``dagster.yaml`` is `text` (``{home}`` filled in)."""
    home = folder / "dagster_home"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(text.format(home=home))
    return home
