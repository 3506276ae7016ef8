"""Prefect state hooks that record flow and task runs.

``hooks()`` gives the keyword arguments to spread into Prefect's own
decorators, the same for flows and tasks::

    from prefect import flow, task
    import lineage_prefect

    @task(**lineage_prefect.hooks())
    def extract() -> list[int]: ...

    @flow(**lineage_prefect.hooks())
    def etl() -> None: ...

Prefect calls each hook with ``(flow_or_task, run, state)``. A flow's
crash and cancellation hooks (arguments tasks do not accept) are added to
the flow object the first time it runs, with Prefect's public
``flow.on_crashed`` / ``flow.on_cancellation``. Every hook runs inside
`lineage.lifecycle.guarded`: an adapter failure is logged once on the
logger ``lineage.prefect`` and Prefect goes on unaffected.

Prefect logs two INFO lines around every hook call ("Running hook ...",
"Hook ... finished running successfully"), which its API log handler
ships to the server: four records per task run, which cost Prefect more
CPU than lineage's recording itself (measured in
``benchmarks/engines/prefect_bench.py``). `hooks` drops those two lines
for lineage's own hooks (`QuietHookLogs`); Prefect's lines for other
hooks, and its error line when a hook raises, stay.
"""

from __future__ import annotations

import logging
from typing import Any

from lineage import lifecycle
from lineage_prefect import _prefect, recorder

#: One kind of failure is logged once, whichever hook meets it first.
_WHAT = "Prefect runs"


def hooks() -> dict[str, list[Any]]:
    """Keyword arguments for ``@prefect.flow(...)`` and ``@prefect.task(...)``.

    Returns:
        ``on_running``, ``on_completion`` and ``on_failure`` lists, each with
        lineage's hook. Combine with hooks of your own by concatenating the
        lists (``on_failure=[notify, *lineage_prefect.hooks()["on_failure"]]``).
    """
    QuietHookLogs.install()
    return {
        "on_running": [lineage_on_running],
        "on_completion": [lineage_on_completion],
        "on_failure": [lineage_on_failure],
    }


def merged(options: dict[str, Any], *, flow: bool, running: bool = True) -> dict[str, Any]:
    """`options` of a Prefect decorator with lineage's hooks added after the user's.

    Args:
        options: The decorator's keyword arguments.
        flow: For ``@flow`` (also the crash and cancellation hooks).
        running: Add the ``on_running`` hook (the drop-in task records the
            start in its function's wrapper instead).
    """
    added = dict(hooks())
    if not running:
        del added["on_running"]
    if flow:
        added.update(on_crashed=[lineage_on_crashed], on_cancellation=[lineage_on_cancellation])
    merged_options = dict(options)
    for name, ours in added.items():
        theirs = list(merged_options.get(name) or ())
        merged_options[name] = theirs + [hook for hook in ours if hook not in theirs]
    return merged_options


def lineage_on_running(obj: Any, run: Any, state: Any) -> None:
    """A flow or task run entered Running (also a retry)."""
    with lifecycle.guarded("prefect", _WHAT):
        if _is_flow_run(run):
            _add_flow_end_hooks(obj)
            recorder.flow_started(obj, run)
        else:
            recorder.task_started(obj, run)


def lineage_on_completion(obj: Any, run: Any, state: Any) -> None:
    """A flow or task run completed (a task maybe from its cache)."""
    with lifecycle.guarded("prefect", _WHAT):
        status = "cached" if _prefect.is_cached(state) else "completed"
        _ended(obj, run, status)


def lineage_on_failure(obj: Any, run: Any, state: Any) -> None:
    """A flow or task run failed for good (no retry left)."""
    with lifecycle.guarded("prefect", _WHAT):
        _ended(obj, run, "errored", _prefect.state_error(state))


def lineage_on_crashed(obj: Any, run: Any, state: Any) -> None:
    """A flow run crashed (an interrupt, a killed process): aborted, with the reason."""
    with lifecycle.guarded("prefect", _WHAT):
        recorder.flow_ended(run, "aborted", f"crashed: {_prefect.state_error(state)}")


def lineage_on_cancellation(obj: Any, run: Any, state: Any) -> None:
    """A flow run is being cancelled: aborted, with the reason."""
    with lifecycle.guarded("prefect", _WHAT):
        recorder.flow_ended(run, "aborted", f"cancelled: {_prefect.state_error(state)}")


class QuietHookLogs(logging.Filter):
    """Drops Prefect's routine INFO lines about calls of lineage's hooks."""

    #: Loggers Prefect's task and flow engines log hook calls on.
    LOGGERS = ("prefect.task_runs", "prefect.flow_runs")
    #: How those lines start when the hook is one of lineage's (``lineage_on_*``).
    PREFIXES = ("Running hook 'lineage_on_", "Hook 'lineage_on_")

    def filter(self, record: logging.LogRecord) -> bool:
        """False for "running hook" / "finished running" lines of lineage's hooks."""
        msg = record.msg
        return not (record.levelno == logging.INFO and isinstance(msg, str)
                    and msg.startswith(self.PREFIXES))

    @classmethod
    def install(cls) -> None:
        """Add the filter to Prefect's run loggers, once per process."""
        for name in cls.LOGGERS:
            logger = logging.getLogger(name)
            if not any(isinstance(f, cls) for f in logger.filters):
                logger.addFilter(cls())


def _ended(obj: Any, run: Any, status: str, error: Any = None) -> None:
    if _is_flow_run(run):
        recorder.flow_ended(run, status, error)
    else:
        recorder.task_ended(obj, run, status, error)


def _is_flow_run(run: Any) -> bool:
    return not hasattr(run, "task_key")


def _add_flow_end_hooks(flow: Any) -> None:
    """Add the crash and cancellation hooks to a flow decorated with ``hooks()`` only.

    Also gives a flow with a process-pool task runner one that passes the
    task runs whose results a task receives on to its worker process
    (`_prefect.linking_task_runner`): Prefect copies the flow's runner for
    each run after this hook, so the run starting now has it already.
    """
    flow.task_runner = _prefect.linking_task_runner(flow.task_runner)
    if lineage_on_crashed not in flow.on_crashed_hooks:
        flow.on_crashed(lineage_on_crashed)
    if lineage_on_cancellation not in flow.on_cancellation_hooks:
        flow.on_cancellation(lineage_on_cancellation)
