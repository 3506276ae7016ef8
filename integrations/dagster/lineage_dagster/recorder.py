"""Dagster's events as lineage runs: the one translation from Dagster to the lifecycle.

Two sources feed `Recorder.handle` with the events of a run: the event-log
storage of ``dagster.yaml`` (`lineage_dagster.storage`), which sees every
event in every process, and, without it, a listener that the instrumented
IO managers subscribe to the run's instance (`lineage_dagster.io_managers`).
Either way the handler runs in the process and thread that emitted the
event, so a step's own events are handled where its code runs:

=========================  ==============================================
Dagster event              lineage
=========================  ==============================================
RUN_START                  the Run of the Dagster run (``external_id`` = run id)
STEP_START / RESTARTED     a Run per attempt (``external_id`` = ``<run id>/<step key>``),
                           made current while the step runs
STEP_SUCCESS               ``completed``
STEP_UP_FOR_RETRY          ``errored`` with the error; the retry is the next attempt
STEP_FAILURE               ``errored`` with the error
STEP_SKIPPED               ``skipped``
ASSET_MATERIALIZATION      an output artifact, when no instrumented IO manager
                           recorded it and the metadata names a local ``path``
LOADED_INPUT               a run -> run edge to the producing step, when no
                           instrumented IO manager recorded the load
RUN_SUCCESS / FAILURE /    ``completed`` / ``errored`` / ``aborted``; steps still
CANCELED                   open then are ``aborted``
=========================  ==============================================

Processes of one Dagster run (the multiprocess executor's step processes)
find the runs the others made through the lifecycle's lookup by
``(external_source, external_id, attempt)``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

import dagster as dg
from lineage import lifecycle

from lineage_dagster import internals, sources

#: ``external_source`` of every run the adapter records.
SOURCE = "dagster"
#: Output metadata naming the artifact an instrumented IO manager recorded.
ARTIFACT_METADATA = "lineage/artifact"
#: What adapter failures are reported as: one warning per kind of failure, not one per event.
GUARDED = "Dagster runs and assets"
_OPEN = ("scheduled", "started")
_RUN_ENDS = frozenset({dg.DagsterEventType.RUN_SUCCESS.value, dg.DagsterEventType.RUN_FAILURE.value,
                       dg.DagsterEventType.RUN_CANCELED.value})
_log = logging.getLogger("lineage.dagster")
_T = dg.DagsterEventType


def step_external_id(run_id: str, step_key: str) -> str:
    """The ``external_id`` of a step's runs."""
    return f"{run_id}/{step_key}"


def artifact_key(asset_path: Sequence[str], partition: str | None = None) -> str:
    """The artifact key of an asset (and partition): ``dagster/<key path>[/<partition>]``."""
    parts = [*asset_path, *([partition] if partition is not None else [])]
    return "dagster/" + "/".join(quote(str(p), safe="-_.:=+@,|~ ") or "_" for p in parts)


class _Step:
    __slots__ = ("run", "activation")

    def __init__(self, run: Any, activation: Any) -> None:
        self.run = run
        self.activation = activation


class _DagsterRun:
    __slots__ = ("run", "started_at", "origin", "fetched", "_source")

    def __init__(self, run: Any, started_at: datetime | None, origin: sources.Origin,
                 fetched: bool) -> None:
        self.run = run
        self.started_at = started_at
        self.origin = origin
        self.fetched = fetched  # read from the Dagster instance (with its start time)
        self._source: tuple[sources.Origin, Any] | None = None

    def source(self) -> Any:
        """The run's `lifecycle.Source`, resolved once per origin (not once per step)."""
        known = self._source
        if known is None or known[0] is not self.origin:
            known = self._source = (self.origin, sources.run_source(self.run, self.origin))
        return known[1]


class Recorder:
    """What this process knows of the Dagster runs it takes part in."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._dagster_runs: dict[str, _DagsterRun] = {}
        self._job_runs: dict[str, Any] = {}
        self._steps: dict[tuple[str, str], _Step] = {}
        #: Artifacts of outputs handled here, by (run id, step key, output name).
        self.outputs: dict[tuple[str, str, str], Any] = {}
        #: Inputs an instrumented IO manager recorded, by (run id, step key, input name).
        self.loads: set[tuple[str, str, str]] = set()
        self._broken: set[str] = set()
        self._pending_starts: dict[str, datetime | None] = {}
        self._watched: set[tuple[int, str]] = set()  # (id(instance), run id) until the run ends
        self._handlers = {
            _T.RUN_START.value: self._run_started,
            _T.STEP_START.value: self._step_started,
            _T.STEP_RESTARTED.value: self._step_started,
            _T.STEP_SUCCESS.value: self._step_succeeded,
            _T.STEP_FAILURE.value: self._step_failed,
            _T.STEP_UP_FOR_RETRY.value: self._step_failed,
            _T.STEP_SKIPPED.value: self._step_skipped,
            _T.ASSET_MATERIALIZATION.value: self._materialized,
            _T.LOADED_INPUT.value: self._input_loaded,
            _T.RUN_SUCCESS.value: self._run_ended,
            _T.RUN_FAILURE.value: self._run_ended,
            _T.RUN_CANCELED.value: self._run_ended,
        }
        # What still runs for a broken run: making the step no longer current, forgetting the run.
        self._releasing = {self._step_succeeded, self._step_failed, self._step_skipped,
                           self._run_ended}

    # --- entry point --------------------------------------------------------------
    def handle(self, entry: Any, instance: Any) -> None:
        """Record one Dagster event (an ``EventLogEntry``); never raises."""
        event = entry.dagster_event
        if event is None:
            return
        handler = self._handlers.get(event.event_type_value)
        if handler is None:
            return
        if entry.run_id in self._broken and handler not in self._releasing:
            return
        with self.guarded(entry.run_id):
            handler(entry, event, instance)

    @contextmanager
    def guarded(self, run_id: str) -> Iterator[None]:
        """Adapter code for one Dagster run: a failure is logged, never raised.

        After the first failure in a run, this process records nothing more of
        that run (`broken`): the database is likely gone, and every further
        attempt would cost the pipeline time and add a half-true record.
        """
        with lifecycle.guarded(SOURCE, GUARDED):
            try:
                yield
            except Exception:
                self._broken.add(run_id)
                raise

    def broken(self, run_id: str) -> bool:
        """Whether recording failed in this run (this process then records no more of it)."""
        return run_id in self._broken

    @staticmethod
    def ends_run(entry: Any) -> bool:
        """Whether an ``EventLogEntry`` is the end of its run (success, failure, cancel)."""
        event = entry.dagster_event
        return event is not None and event.event_type_value in _RUN_ENDS

    # --- the Dagster run ------------------------------------------------------------
    def watch(self, instance: Any, dagster_run: Any, origin: sources.Origin) -> bool:
        """Note that this process records `dagster_run` of `instance`: True the first time.

        Forgotten at the run's end, with everything else of the run.
        """
        key = (id(instance), dagster_run.run_id)
        with self._lock:
            if key in self._watched:
                return False
            self._watched.add(key)
        self.remember_dagster_run(dagster_run, origin)
        return True

    def remember_dagster_run(self, dagster_run: Any, origin: sources.Origin) -> None:
        """Note a DagsterRun this process was handed, and its definitions' origin."""
        with self._lock:
            known = self._dagster_runs.get(dagster_run.run_id)
            if known is not None and known.fetched:
                known.origin = origin
            else:
                self._dagster_runs[dagster_run.run_id] = _DagsterRun(dagster_run, None, origin,
                                                                     False)

    def dagster_run(self, run_id: str, instance: Any) -> Any:
        """The DagsterRun of `run_id` (looked up once per process)."""
        return self._dagster_run_info(run_id, instance).run

    def _dagster_run_info(self, run_id: str, instance: Any) -> _DagsterRun:
        info = self._dagster_runs.get(run_id)
        if info is not None and (info.fetched or instance is None):
            return info
        record = instance.get_run_record_by_id(run_id) if instance is not None else None
        if record is None:
            raise LookupError(f"Dagster run {run_id} is not in the Dagster instance")
        start = getattr(record, "start_time", None)
        info = _DagsterRun(record.dagster_run, _utc(start) if start else None,
                           info.origin if info is not None else sources.NO_ORIGIN, True)
        with self._lock:
            self._dagster_runs[run_id] = info
        return info

    def job_run(self, run_id: str, instance: Any, started_at: datetime | None = None) -> Any:
        """The lineage Run of a Dagster run, found or created."""
        run = self._job_runs.get(run_id)
        if run is not None:
            return run
        started_at = started_at or self._pending_starts.pop(run_id, None)
        if started_at is None:  # another process (the orchestrator) may have made it
            run = lifecycle.find_engine_run(SOURCE, run_id, attempt=1)
        if run is None:
            info = self._dagster_run_info(run_id, instance)
            dagster_run = info.run
            source = info.source()
            run = lifecycle.engine_run(
                source.transform, external_source=SOURCE, external_id=run_id,
                entrypoint=dagster_run.job_name, name=dagster_run.job_name,
                params=dict(dagster_run.run_config or {}), details=_run_details(dagster_run),
                git=source.git, started_at=started_at or info.started_at, inherit_parent=True)
            self._link_parent_run(run, dagster_run)
        with self._lock:
            self._job_runs[run_id] = run
        return run

    def _link_parent_run(self, run: Any, dagster_run: Any) -> None:
        """A re-execution used the data of the run it re-executes: a run -> run edge."""
        parent_id = getattr(dagster_run, "parent_run_id", None)
        if not parent_id:
            return
        parent = lifecycle.find_engine_run(SOURCE, parent_id, attempt=1)
        if parent is not None:
            lifecycle.record_upstream(run, parent)

    def _run_started(self, entry: Any, event: Any, instance: Any) -> None:
        run_id, started_at = entry.run_id, _utc(entry.timestamp)
        info = self._dagster_run_info(run_id, instance)
        if internals.code_origin_file(info.run) is None and not info.origin.file:
            # An in-process run: its IO managers, initialised next, tell where its code is.
            self._pending_starts[run_id] = started_at
            return
        self.job_run(run_id, instance, started_at=started_at)

    def _run_ended(self, entry: Any, event: Any, instance: Any) -> None:
        """The run's end; steps still open then are aborted.

        Also for a broken run (one attempt): a bug that stopped the recording
        must not leave the run "started" when the database is still there.
        """
        run_id = entry.run_id
        broken = run_id in self._broken
        try:
            self._finish_run(entry, event, instance, broken=broken)
        except Exception:
            if not broken:
                raise
            # A broken run's failure was reported once already.
            _log.debug("lineage-dagster could not record the end of run %s", run_id, exc_info=True)
        finally:
            self._forget(run_id)

    def _finish_run(self, entry: Any, event: Any, instance: Any, *, broken: bool) -> None:
        run = self.job_run(entry.run_id, instance)
        status = {_T.RUN_SUCCESS.value: "completed",
                  _T.RUN_FAILURE.value: "errored"}.get(event.event_type_value, "aborted")
        lifecycle.finish_run(run, status, error=None if status == "completed"
                             else _error_text(event), finished_at=_utc(entry.timestamp))
        if status != "completed" or broken:
            reason = ("lineage-dagster stopped recording this run after a failure of its own "
                      "(see the log of lineage.dagster); the step's end is unknown." if broken
                      else f"The Dagster run {entry.run_id} ended before this step did.")
            self._abort_open_steps(run, reason)

    def _abort_open_steps(self, run: Any, reason: str) -> None:
        import lineage as ln

        # Step runs of this process not written yet (a step run waits for its first output
        # or its end) are found by the query once written.
        lifecycle.write_pending_runs()
        for step in ln.Run.filter(initiated_by_run_id=run.id, status__in=list(_OPEN)).all():
            lifecycle.finish_run(step, "aborted", error=reason)

    def _forget(self, run_id: str) -> None:
        with self._lock:
            self._job_runs.pop(run_id, None)
            self._dagster_runs.pop(run_id, None)
            keys = [k for k in self._steps if k[0] == run_id]
            steps = [self._steps.pop(k) for k in keys]
            for key in [k for k in self.outputs if k[0] == run_id]:
                del self.outputs[key]
            self.loads = {k for k in self.loads if k[0] != run_id}
            self._broken.discard(run_id)
            self._pending_starts.pop(run_id, None)
            self._watched = {key for key in self._watched if key[1] != run_id}
        for step in steps:
            lifecycle.deactivate(step.activation)

    # --- steps ------------------------------------------------------------------------
    def step_run(self, run_id: str, step_key: str, instance: Any, *, attempt: int | None,
                 handle_path: Sequence[str]) -> Any:
        """The run of the current attempt of a step (created if none is known).

        Args:
            attempt: The attempt, or None when unknown (the latest recorded one).
        """
        state = self._steps.get((run_id, step_key))
        if state is not None:
            return state.run
        run = lifecycle.find_engine_run(SOURCE, step_external_id(run_id, step_key), attempt)
        if run is None:
            run = self._new_step_run(run_id, step_key, instance, attempt or 1, handle_path, None)
        return run

    def step_known(self, run_id: str, step_key: str) -> Any:
        """The run of a step attempt this process started, or None."""
        state = self._steps.get((run_id, step_key))
        return None if state is None else state.run

    def _new_step_run(self, run_id: str, step_key: str, instance: Any, attempt: int,
                      handle_path: Sequence[str], started_at: datetime | None,
                      status: str = "started", defer: bool = False) -> Any:
        job_run = self.job_run(run_id, instance)
        info = self._dagster_run_info(run_id, instance)
        dagster_run = info.run
        op_name = handle_path[-1] if handle_path else step_key
        source, entrypoint = sources.op_source(op_name, info.origin, info.source)
        details: dict[str, Any] = {"step_key": step_key, "op": ".".join(handle_path) or step_key,
                                   "job": dagster_run.job_name, "dagster_run_id": run_id}
        partition = (dagster_run.tags or {}).get("dagster/partition")
        if partition is not None:
            details["partition"] = partition
        return lifecycle.engine_run(
            source.transform, external_source=SOURCE,
            external_id=step_external_id(run_id, step_key), attempt=attempt, parent=job_run,
            params=_op_config(dagster_run.run_config, handle_path), entrypoint=entrypoint,
            name=step_key, details=details, git=source.git, started_at=started_at,
            status=status, defer=defer)

    def _step_started(self, entry: Any, event: Any, instance: Any) -> None:
        run_id, step_key = entry.run_id, event.step_key
        attempt = 1
        if event.event_type_value == _T.STEP_RESTARTED.value:
            attempt = internals.restart_attempt(event.message) or self._next_attempt(run_id, step_key)
        path = list(event.node_handle.path) if event.node_handle is not None else [step_key]
        # Written once, at the step's end, unless an output or input needs it sooner
        # (`lifecycle.engine_run(defer=True)`): an op step without assets costs one write.
        run = self._new_step_run(run_id, step_key, instance, attempt, path, _utc(entry.timestamp),
                                 defer=True)
        previous = self._steps.get((run_id, step_key))
        if previous is not None:
            lifecycle.deactivate(previous.activation)
        self._steps[(run_id, step_key)] = _Step(run, lifecycle.activate(run))

    def _next_attempt(self, run_id: str, step_key: str) -> int:
        latest = lifecycle.find_engine_run(SOURCE, step_external_id(run_id, step_key))
        return 1 if latest is None else latest.attempt + 1

    def _step_ended(self, entry: Any, event: Any, instance: Any, status: str,
                    error: str | None) -> None:
        run_id, step_key = entry.run_id, event.step_key
        with self._lock:
            state = self._steps.pop((run_id, step_key), None)
        if state is not None:
            lifecycle.deactivate(state.activation)
        if run_id in self._broken:
            return
        if state is not None:
            run = state.run
        else:
            run = lifecycle.find_engine_run(SOURCE, step_external_id(run_id, step_key))
        when = _utc(entry.timestamp)
        if run is None:  # no start seen anywhere (a step that never ran)
            path = list(event.node_handle.path) if event.node_handle is not None else [step_key]
            self._new_step_run(run_id, step_key, instance, 1, path, when, status=status)
            return
        lifecycle.finish_run(run, status, error=error, finished_at=when)

    def _step_succeeded(self, entry: Any, event: Any, instance: Any) -> None:
        self._step_ended(entry, event, instance, "completed", None)

    def _step_failed(self, entry: Any, event: Any, instance: Any) -> None:
        self._step_ended(entry, event, instance, "errored", _error_text(event))

    def _step_skipped(self, entry: Any, event: Any, instance: Any) -> None:
        self._step_ended(entry, event, instance, "skipped", None)

    # --- data seen only as events ---------------------------------------------------
    def _materialized(self, entry: Any, event: Any, instance: Any) -> None:
        materialization = entry.asset_materialization
        if materialization is None or ARTIFACT_METADATA in (materialization.metadata or {}):
            return
        path = local_path((materialization.metadata or {}).get("path"))
        if path is None:
            return
        run = self._step_for_event(entry, event, instance)
        key = artifact_key(materialization.asset_key.path, materialization.partition)
        lifecycle.record_file(run, path, role="output", key=key)

    def _input_loaded(self, entry: Any, event: Any, instance: Any) -> None:
        data = event.event_specific_data
        name = getattr(data, "input_name", None)
        if (entry.run_id, event.step_key, name) in self.loads:
            return
        upstream_step = getattr(data, "upstream_step_key", None)
        if not upstream_step:
            return
        producer = self.producer(entry.run_id, upstream_step, instance)
        if producer is not None:
            lifecycle.record_upstream(self._step_for_event(entry, event, instance), producer)

    def _step_for_event(self, entry: Any, event: Any, instance: Any) -> Any:
        path = list(event.node_handle.path) if event.node_handle is not None else [event.step_key]
        known = self.step_known(entry.run_id, event.step_key)
        if known is not None:
            return known
        latest = lifecycle.find_engine_run(SOURCE, step_external_id(entry.run_id, event.step_key))
        if latest is not None:
            return latest
        return self.step_run(entry.run_id, event.step_key, instance, attempt=1, handle_path=path)

    def producer(self, run_id: str, step_key: str, instance: Any) -> Any:
        """The run of the step that produced an output: in `run_id` or the runs it re-executes."""
        seen = set()
        current: str | None = run_id
        while current and current not in seen:
            seen.add(current)
            run = self.step_known(current, step_key) or lifecycle.find_engine_run(
                SOURCE, step_external_id(current, step_key))
            if run is not None:
                return run
            try:
                current = getattr(self.dagster_run(current, instance), "parent_run_id", None)
            except LookupError:
                return None
        return None


# --- helpers -------------------------------------------------------------------------
def local_path(value: Any) -> str | None:
    """The local file system path in a ``path`` metadata value, if it names one that exists."""
    import os

    raw = getattr(value, "value", value)
    if not isinstance(raw, (str, os.PathLike)):
        return None
    text = os.fspath(raw)
    if text.startswith("file://"):
        text = text[len("file://"):]
    if "://" in text or not os.path.exists(text):
        return None
    return text


def _utc(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, timezone.utc)


def _error_text(event: Any) -> str:
    """The error of a failure or retry event: Dagster's traceback, else its message."""
    data = event.event_specific_data
    error = getattr(data, "error", None)
    if error is not None and hasattr(error, "to_string"):
        return error.to_string()
    return event.message or f"{event.event_type_value} (no error reported)"


def _run_details(dagster_run: Any) -> dict[str, Any]:
    details: dict[str, Any] = {"job": dagster_run.job_name, "dagster_run_id": dagster_run.run_id}
    for name in ("parent_run_id", "root_run_id"):
        value = getattr(dagster_run, name, None)
        if value:
            details[name] = value
    tags = dict(dagster_run.tags or {})
    if "dagster/partition" in tags:
        details["partition"] = tags["dagster/partition"]
    if tags:
        details["tags"] = tags
    return details


def _op_config(run_config: Mapping[str, Any] | None, handle_path: Sequence[str]) -> dict[str, Any] | None:
    """The config an op got in the run config (``ops: {graph: {ops: {op: {config}}}}``)."""
    node: Any = (run_config or {}).get("ops")
    for depth, name in enumerate(handle_path):
        if not isinstance(node, Mapping) or not isinstance(node.get(name), Mapping):
            return None
        entry = node[name]
        if depth == len(handle_path) - 1:
            config = entry.get("config")
            if config is None:
                return None
            return dict(config) if isinstance(config, Mapping) else {"config": config}
        node = entry.get("ops")
    return None


#: The recorder of this process.
recorder = Recorder()
