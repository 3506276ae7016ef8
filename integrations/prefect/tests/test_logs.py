"""What Prefect logs about lineage's hooks."""

from __future__ import annotations

import logging

import lineage as ln
import pipelines


class Collected(logging.Handler):
    """The messages of every record that reaches a logger's handlers."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_prefects_lines_about_lineages_hooks_are_dropped_and_others_kept(instance):
    loggers = [logging.getLogger(name) for name in ("prefect.task_runs", "prefect.flow_runs")]
    collected = Collected()
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.INFO)
        logger.addHandler(collected)
    try:
        assert pipelines.logged(1) == 2
    finally:
        for logger, level in zip(loggers, levels):
            logger.removeHandler(collected)
            logger.setLevel(level)

    hook_lines = [m for m in collected.messages if "hook" in m.lower()]
    # The user's hook keeps Prefect's two lines; lineage's own hooks (five calls) have none.
    assert hook_lines == ["Running hook 'users_hook' in response to entering state 'Completed'",
                          "Hook 'users_hook' finished running successfully"]
    assert any("Finished in state Completed" in m for m in collected.messages)  # others stay
    (task_run,) = ln.Run.filter(entrypoint="hooked")
    assert task_run.status == "completed"
