"""The logging handler Snakemake calls for every log record (``--logger lineage``).

Snakemake hands each record to plugin handlers on a thread of its own (a
``QueueListener``), so the workflow never waits for lineage: the main
thread only puts records in a queue. The handler reads the ``event`` of a
record and passes its fields to the `Recorder`; everything else is
ignored. Each event is `guarded`: a failure is logged once on the logger
``lineage.snakemake`` and the workflow goes on; after the database turned
out unreachable the handler stops recording this workflow run (it would
only fail again, and waiting on a dead server would hold up Snakemake's
final flush of its log queue).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from snakemake_interface_logger_plugins.base import LogHandlerBase

from lineage.lifecycle import guard
from snakemake_logger_plugin_lineage.recorder import Recorder

ADAPTER = "snakemake"
_log = logging.getLogger(f"lineage.{ADAPTER}")


class LogHandler(LogHandlerBase):
    """Records the workflow run and its jobs in lineage (nothing in a dry run)."""

    def __post_init__(self) -> None:
        settings = self.settings
        self.dryrun = bool(getattr(self.common_settings, "dryrun", False))
        self.instance = getattr(settings, "instance", None)
        self.recorder = Recorder(project=getattr(settings, "project", None))
        self.stopped = self.dryrun
        self._connected = False
        if not self.dryrun:
            try:
                self.recorder.prepare()
            except Exception as exc:  # noqa: BLE001 - tracking never breaks the workflow
                guard.report(ADAPTER, exc, "the start of the workflow")

    # --- the interface's properties ----------------------------------------------
    @property
    def writes_to_stream(self) -> bool:
        return False

    @property
    def writes_to_file(self) -> bool:
        return False

    @property
    def has_filter(self) -> bool:
        return True  # all events, whatever ``--quiet`` hides from the terminal

    @property
    def has_formatter(self) -> bool:
        return True

    @property
    def needs_rulegraph(self) -> bool:
        return False

    # --- records ---------------------------------------------------------------
    def emit(self, record: logging.LogRecord) -> None:
        """Record the workflow event in `record`, if any (never raises)."""
        if self.stopped:
            return
        event = getattr(record, "event", None)
        if event is None:
            return
        name = str(event)
        handler = _EVENTS.get(name)
        if handler is None:
            return
        with self.recorder.lock:
            self._guarded(name, handler, record)

    def close(self) -> None:
        """The end of the workflow run: finish its open runs."""
        try:
            if not self.stopped:
                with self.recorder.lock:
                    self._guarded("the end of the workflow", _close, None)
        finally:
            self.stopped = True
            try:
                self.recorder.unprepare()
            except Exception as exc:  # noqa: BLE001
                guard.report(ADAPTER, exc, "the end of the workflow")
            super().close()

    def _guarded(self, what: str, fn: Any, record: logging.LogRecord | None) -> None:
        try:
            if not self._connected:
                self._connect()
            fn(self.recorder, record)
        except Exception as exc:  # noqa: BLE001 - tracking never breaks the workflow
            guard.report(ADAPTER, exc, f"a {what} event" if record is not None else what)
            if guard.failure_kind(exc) == "database unreachable":
                self.stopped = True
                _log.warning("lineage-snakemake stops recording this workflow run: the lineage "
                             "database is unreachable (%s).", type(exc).__name__)

    def _connect(self) -> None:
        if self.instance:
            import lineage

            lineage.connect(self.instance)
        self._connected = True


def _workflow_started(recorder: Recorder, record: logging.LogRecord) -> None:
    recorder.workflow_started(vars(record), record.created)


def _job_started(recorder: Recorder, record: logging.LogRecord) -> None:
    recorder.job_started(list(getattr(record, "jobs", None) or ()), record.created)


def _job_info(recorder: Recorder, record: logging.LogRecord) -> None:
    recorder.job_info(vars(record), record.created)


def _job_finished(recorder: Recorder, record: logging.LogRecord) -> None:
    recorder.job_finished(getattr(record, "job_id"), record.created)


def _job_error(recorder: Recorder, record: logging.LogRecord) -> None:
    recorder.job_error(vars(record), record.created)


def _error(recorder: Recorder, record: logging.LogRecord) -> None:
    recorder.error(record.getMessage())


def _close(recorder: Recorder, record: None) -> None:
    recorder.close(time.time())


_EVENTS = {
    "workflow_started": _workflow_started,
    "job_started": _job_started,
    "job_info": _job_info,
    "job_finished": _job_finished,
    "job_error": _job_error,
    "error": _error,
}
