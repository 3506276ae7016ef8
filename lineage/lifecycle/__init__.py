"""The run lifecycle: the one interface between callers and the store.

`track()`, `@flow`/`@step` and every integration (Prefect, Dagster,
Airflow, Snakemake, Nextflow) start, activate and finish runs only through
this module; none of them touches tables or connections directly::

    transform = get_or_create_transform("train.py", source, kind="script")
    run = start_run(transform, params={"lr": 0.1}, external_id="task-123",
                    external_source="prefect", projects=["My project"])
    token = activate(run)             # current run for artifacts saved here
    try:
        ...
    finally:
        deactivate(token)
    finish_run(run, "completed")      # or "errored" with error=traceback, "aborted"

Costs: one write transaction to start a run and one to finish it. The
environment row is computed and written once per process, the transform
once per (key, source hash), project ids once per name; all are cached per
instance. Everything that can fail validation (features, parameters that
cannot bind) fails before anything is written.
"""

from lineage.lifecycle.records import (ResolvedFeatures, clear_caches, ensure_environment,
                                       get_or_create_transform, link_projects, resolve_projects,
                                       run_project_ids, validate_features)
from lineage.lifecycle.runs import (FINAL_STATUSES, PARENT_ENV, Activation, abort_active_runs,
                                    activate, active_runs, deactivate, finish_run, is_active,
                                    record_input, record_output, start_run, status_for,
                                    terminating_signals)

__all__ = [
    "FINAL_STATUSES", "PARENT_ENV", "Activation", "ResolvedFeatures", "abort_active_runs",
    "activate", "active_runs", "clear_caches", "deactivate", "ensure_environment", "finish_run",
    "get_or_create_transform", "is_active", "link_projects", "record_input", "record_output",
    "resolve_projects", "run_project_ids", "start_run", "status_for", "terminating_signals",
    "validate_features",
]
