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
- `add_job_environment`: extra environment variables for the processes a
  job starts (its ``shell:`` command, its ``script:``). Snakemake starts
  them with ``subprocess.Popen`` inside ``snakemake.shell.shell.__new__``,
  called from a function with the job's id as its local ``jobid``
  (``run_wrapper``, ``script``, ``shell`` itself); the environment is a copy of
  ``os.environ`` made there, so a per-job value cannot go through
  ``os.environ`` when jobs run side by side.
- `watch_records`: a look at each record on the thread that logs it (the
  main thread, before the job it announces starts), through a filter on
  Snakemake's logger ``snakemake.logging``; plugin handlers themselves only
  see records later, on the logging thread.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
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


_patch_lock = threading.Lock()


class _Subprocess:
    """``subprocess`` as ``snakemake.shell`` sees it, with a `Popen` that adds a job's variables."""

    def __init__(self, original: Any, env_for_job: Callable[[int], dict[str, str] | None]) -> None:
        self._original = original
        self._env_for_job = env_for_job

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)

    def Popen(self, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 - subprocess's name
        jobid = _calling_job()
        env = kwargs.get("env")
        if jobid is not None and isinstance(env, dict):
            try:
                extra = self._env_for_job(int(jobid))
            except Exception:  # noqa: BLE001 - never stop a job from starting
                extra = None
            if extra:
                kwargs["env"] = {**env, **extra}
        return self._original.Popen(*args, **kwargs)


#: How many callers up from ``Popen`` the job's id is looked for.
_JOB_FRAMES = 12


def _calling_job() -> int | None:
    """The ``jobid`` local of the nearest caller that has one (an int), else None."""
    frame = sys._getframe(2)
    for _ in range(_JOB_FRAMES):
        if frame is None:
            return None
        jobid = frame.f_locals.get("jobid")
        if isinstance(jobid, int) and not isinstance(jobid, bool):
            return jobid
        frame = frame.f_back
    return None


def add_job_environment(env_for_job: Callable[[int], dict[str, str] | None]) -> Callable[[], None] | None:
    """Give processes started by a job ``env_for_job(jobid)`` too; returns the undo, or None."""
    import importlib

    try:
        module = importlib.import_module("snakemake.shell")
    except ImportError:
        return None
    with _patch_lock:
        original = getattr(module, "sp", None)
        if original is None or not hasattr(original, "Popen") or isinstance(original, _Subprocess):
            return None
        module.sp = _Subprocess(original, env_for_job)

    def undo() -> None:
        with _patch_lock:
            if isinstance(module.sp, _Subprocess):
                module.sp = original

    return undo


#: The logger Snakemake logs its events on.
SNAKEMAKE_LOGGER = "snakemake.logging"


class _Watch:
    """A logging filter that shows every record to `callback` and lets it pass."""

    def __init__(self, callback: Callable[[Any], None]) -> None:
        self.callback = callback

    def filter(self, record: Any) -> bool:
        try:
            self.callback(record)
        except Exception:  # noqa: BLE001 - never stop Snakemake's logging
            pass
        return True


def watch_records(callback: Callable[[Any], None]) -> Callable[[], None]:
    """Call ``callback(record)`` for each record of Snakemake's logger, where it is logged.

    Returns:
        The undo.
    """
    import logging

    logger = logging.getLogger(SNAKEMAKE_LOGGER)
    watch = _Watch(callback)
    logger.addFilter(watch)
    return lambda: logger.removeFilter(watch)
