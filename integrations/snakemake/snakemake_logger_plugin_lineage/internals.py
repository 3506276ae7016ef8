"""Everything this plugin takes from Snakemake beyond the logger-plugin interface.

The logger interface hands plugins log records only: no job object, no
params, no config. Snakemake runs the handler in its own process, so the
running workflow can be reached, but only through private attributes. They
are kept here, one function each, and ``tests/test_internals.py`` checks
each against the pinned Snakemake (`PINNED_VERSION`): an upgrade that moves
one fails there, and here every function returns None instead of raising,
so the plugin falls back to the public route (the config files, the
metadata records of `snakemake_logger_plugin_lineage.metadata`).

- `current_workflow`: Snakemake's ``Workflow``; ``snakemake.workflow`` puts
  it into its module globals (``workflow``) for the Snakefile's code.
- `job_by_id`: the job of a job id, from ``DAG._jobid`` (job -> id).
- `named_params`: a job's params with their names, only when Snakemake has
  expanded them already (never evaluates a user's function here).
- `workflow_config`: the config after ``--config`` and ``--configfile``.
"""

from __future__ import annotations

import sys
from typing import Any

#: The Snakemake release these functions were written and tested against.
PINNED_VERSION = "9.27.1"


def current_workflow() -> Any:
    """The Workflow object of this process, or None."""
    module = sys.modules.get("snakemake.workflow")
    return getattr(module, "workflow", None) if module is not None else None


def job_by_id(jobid: int, workflow: Any = None) -> Any:
    """The job with Snakemake's job id `jobid`, or None."""
    workflow = workflow or current_workflow()
    dag = getattr(workflow, "_dag", None)
    ids = getattr(dag, "_jobid", None)
    if not isinstance(ids, dict):
        return None
    for job, known in list(ids.items()):
        if known == jobid:
            return job
    return None


def named_params(job: Any) -> dict[str, Any] | None:
    """``{name: value}`` of a job's params (positional ones under their index), or None."""
    params = getattr(job, "_params", None)
    if params is None or not hasattr(params, "_get_names"):
        return None
    values = list(params)
    named: dict[str, Any] = {}
    covered: set[int] = set()
    for name, (start, end) in params._get_names():
        end = start + 1 if end is None else end
        named[name] = values[start] if end - start == 1 else values[start:end]
        covered.update(range(start, end))
    for index, value in enumerate(values):
        if index not in covered:
            named[str(index)] = value
    return named


def workflow_config(workflow: Any = None) -> dict[str, Any] | None:
    """The workflow's config as the Snakefile sees it, or None."""
    workflow = workflow or current_workflow()
    config = getattr(workflow, "config", None)
    return dict(config) if isinstance(config, dict) else None
