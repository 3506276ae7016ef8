"""The run lifecycle: the one interface between callers and the store.

`track()`, `@flow`/`@step` and every integration (Prefect, Dagster,
Airflow, Snakemake, Nextflow) start, activate and finish runs only through
this module; none of them touches tables or connections directly::

    transform = get_or_create_transform("train.py", source, kind="script")
    run = start_run(transform, params={"lr": 0.1}, projects=["My project"])
    token = activate(run)             # current run for artifacts saved here
    try:
        ...
    finally:
        deactivate(token)
    finish_run(run, "completed")      # or "errored" with error=traceback, "aborted"

Engines report runs in pieces, from many processes: `engine_run` finds or
creates the run of one task attempt by the engine's own id (idempotent,
safe under concurrent writers; `RunTemplate` works out once what every
run of one task shares), `correct_status` records an operator's
change of a final status, `record_upstream` a run -> run data dependency,
`record_file` a file read or written, `record_reference` a dataset known
only by name (another system's table), `move_runs` a run (and the runs it
initiated) recorded under a provisional transform, and `guarded` keeps adapter failures
from ever breaking the pipeline (see `lineage.lifecycle.engines`)::

    source = function_transform(task_fn, "prefect")
    run = engine_run(source.transform, external_source="prefect", external_id=task_run_id,
                     attempt=2, parent=flow_run, params=params, git=source.git)
    record_file(run, "out/table.csv", role="output")
    finish_run(run, "cached")

Costs: one write transaction to start a run and one to finish it (for
engine task runs started with ``defer=True``, one shared by all that end
close together, written by a background thread: see
`lineage.lifecycle.deferred`); on SQLite a write without links is a single
statement with no ``BEGIN``/``COMMIT`` (`Database.write`'s ``single``). The
environment row is computed and written once per process, the transform
once per (key, source hash), project ids once per name; all are cached per
instance. Everything that can fail validation (features, parameters that
cannot bind) fails before anything is written.
"""

from lineage.lifecycle.engines import (RunTemplate, correct_status, engine_run, find_engine_run,
                                       move_runs, new_run_uid, record_upstream, stored_id,
                                       write_pending_runs)
from lineage.lifecycle.files import record_file
from lineage.lifecycle.guard import guarded
from lineage.lifecycle.references import record_reference
from lineage.lifecycle.records import (ResolvedFeatures, clear_caches, ensure_environment,
                                       get_or_create_transform, link_projects, resolve_projects,
                                       run_project_ids, validate_features)
from lineage.lifecycle.runs import (FINAL_STATUSES, OPEN_STATUSES, PARENT_ENV, Activation,
                                    abort_active_runs, activate, active_runs, deactivate,
                                    finish_run, is_active, record_input, record_output,
                                    start_run, status_for, terminating_signals)
from lineage.lifecycle.sources import Source, file_transform, function_transform, source_git
from lineage.lifecycle.spaces import (add_member, create_space, default_space_id, members,
                                      move_to_space, remove_member, resolve_space)

__all__ = [
    "FINAL_STATUSES", "OPEN_STATUSES", "PARENT_ENV", "Activation", "ResolvedFeatures",
    "RunTemplate", "Source",
    "abort_active_runs", "activate", "active_runs", "add_member", "clear_caches",
    "correct_status", "create_space", "deactivate", "default_space_id", "engine_run",
    "ensure_environment", "file_transform", "find_engine_run", "finish_run", "function_transform",
    "get_or_create_transform", "guarded", "is_active", "link_projects", "members", "move_runs",
    "move_to_space", "new_run_uid", "record_file", "record_input", "record_output",
    "record_reference", "record_upstream", "remove_member", "resolve_projects", "resolve_space",
    "run_project_ids", "source_git", "start_run", "stored_id", "status_for", "terminating_signals",
    "validate_features", "write_pending_runs",
]
