"""Runs reported by workflow engines, found again by the engine's own id.

An engine reports one task execution in pieces: a start in one process, a
finish in another (an Airflow worker, a Dagster step process, a Nextflow
weblog event), sometimes twice, sometimes the finish first. Every piece
calls `engine_run` with the same ``(external_source, external_id,
attempt)``; a unique index makes all of them land on one run, whichever
process and machine comes first::

    run = engine_run(transform, external_source="airflow",
                     external_id="etl/manual__2026-12-01/extract", attempt=1,
                     parent=dag_run, params={"day": "2026-12-01"})
    ...
    finish_run(run, "completed")                 # or "errored", "cached", "skipped"
    correct_status(run, "completed", reason="marked success by an operator")

Rules when the run already exists: fields it has stay (the first writer
wins), fields it lacks are filled in (params, entrypoint, parent, git, a
command line that was ``[]``, ...), ``details`` are merged with the newest values winning, an earlier
``started_at`` replaces a later one, and a final status is never moved
back to an open one. A later change of a final status is a correction
(`correct_status`) and keeps the earlier value in `RecordChange`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lineage.db.dialect import utcnow
from lineage.errors import ValidationError
from lineage.lifecycle.observers import notify
from lineage.lifecycle.records import _cache, _instance, ensure_environment, resolve_projects
from lineage.lifecycle.run_records import (RunFields, check_attempt, check_call, check_source,
                                           new_run)
from lineage.lifecycle.runs import (FINAL_STATUSES, _captured, _chunks, _cli_args, _hostname,
                                    _insert_inputs, _insert_links, _relax_durability,
                                    _resolve_parent, durable_finish, encoded_end, error_text,
                                    loaded_deferred, mark_end_saved, update_end)

if TYPE_CHECKING:
    from lineage.db.database import Connection
    from lineage.models.run import Run
    from lineage.models.transform import Transform

#: Fields an existing run gets from a later event only while it has none.
_FILLED_IN = ("entrypoint", "name", "params", "cli_args", "environment_id", "git",
              "initiated_by_run_id")
#: Values of those fields that count as lacking: None, and an empty command line (an
#: engine that does not know it yet passes ``cli_args=[]``, as None means ``sys.argv``).
_LACKING = (None, [])


def engine_run(
    transform: Transform | int,
    *,
    external_source: str,
    external_id: str,
    attempt: int = 1,
    parent: Run | int | None = None,
    inherit_parent: bool = False,
    params: Mapping[str, Any] | None = None,
    entrypoint: str | None = None,
    name: str | None = None,
    details: Mapping[str, Any] | None = None,
    projects: Any = (),
    inputs: Iterable[Any] = (),
    upstream: Iterable[Run | int] = (),
    cli_args: list[str] | None = None,
    git: dict[str, Any] | None = None,
    environment: bool = True,
    status: str = "started",
    started_at: datetime | None = None,
    finished_at: datetime | None = None,
    error: str | BaseException | None = None,
    uid: str | None = None,
    space: Any = None,
    defer: bool = False,
) -> Run:
    """The run of one attempt of an engine task or workflow, created if new.

    Idempotent across threads, processes and machines: the unique index on
    ``(external_source, external_id, attempt)`` decides, so calling it twice,
    or from two processes at once, gives one run. One write transaction.

    Args:
        transform: The Transform (or its id): the workflow file.
        external_source: The engine (``"prefect"``, ``"dagster"``, ...).
        external_id: The engine's id of the task or workflow run.
        attempt: 1 for the first execution, 2 for the first retry, ...
        parent: The run that initiated this one (the engine's workflow run).
        inherit_parent: With no `parent`, link to the current run of this
            context (a tracked script calling an engine flow, say).
        params: Parameters (made JSON-safe and redacted).
        entrypoint: Task or rule name.
        name: Human-readable name.
        details: Engine facts that are not parameters (merged into existing ones).
        projects: Projects to link the run and its transform to.
        inputs: Saved artifacts (or ids) read by the run.
        upstream: Runs (or ids) whose data the run received without an
            artifact, as `record_upstream` records them, in the same
            transaction.
        cli_args: Command line; defaults to ``sys.argv`` (redacted).
        git: Git state of the workflow's source.
        environment: Link this process's Environment row.
        status: ``scheduled``, ``started`` or a final status (an event that
            reports the end first).
        started_at: When the engine started it (default: now).
        finished_at: When it ended, for a final `status` (default: now).
        error: Traceback text or exception of an errored run (redacted).
        uid: The uid of a new run, from `new_run_uid`, when the engine must
            name the run before it is written (a child process started
            first gets it in ``LINEAGE_PARENT_RUN_UID``). Ignored when the
            run exists, or when another run has that uid.
        space: An `ln.Space`, its name or id for a new run; None: the
            parent's space, else ``ln.settings.space``, else ``all``.
        defer: For a ``started`` task run of this process: write it once,
            with its end (`finish_run`), in a batch with the runs that end
            close to it, unless something needs it on disk sooner
            (`lineage.lifecycle.deferred` lists when). Saves the engine's
            task thread both write transactions of the task.

    Returns:
        The run as stored after this call (with `defer`, as it will be stored).

    Raises:
        ValidationError: An empty external id or source, an attempt below 1,
            or an unknown status.
    """
    check_call(external_source, external_id, attempt, status)
    template = RunTemplate(transform, external_source=external_source, entrypoint=entrypoint,
                           cli_args=cli_args, git=git, environment=environment)
    return template.run(
        external_id=external_id, attempt=attempt, parent=parent, inherit_parent=inherit_parent,
        params=params, name=name, details=details, projects=projects, inputs=inputs,
        upstream=upstream, status=status, started_at=started_at, finished_at=finished_at,
        error=error, uid=uid, space=space, defer=defer)


class RunTemplate:
    """What every run of one engine task has in common, worked out once.

    `engine_run` in two halves: the fields that are the same for every run
    of one task in this process (transform, entrypoint, command line,
    environment, git, host, user) are checked here once; `run` adds what
    differs per attempt. An adapter keeps one per task while it is
    `current` and saves that work on each task run::

        template = RunTemplate(source.transform, external_source="prefect",
                               entrypoint="etl.extract", git=source.git)
        run = template.run(external_id=task_run_id, attempt=1, parent=flow_run_id,
                           params=params, defer=True)

    Args:
        transform, external_source, entrypoint, cli_args, git, environment:
            As `engine_run`'s.

    Raises:
        ValidationError: An empty external source, or a field `Run` refuses.
    """

    __slots__ = ("argv", "fields", "instance", "pid")

    def __init__(self, transform: Transform | int, *, external_source: str,
                 entrypoint: str | None = None, cli_args: list[str] | None = None,
                 git: dict[str, Any] | None = None, environment: bool = True) -> None:
        check_source(external_source)
        self.instance = _instance()
        self.pid = _pid()
        self.argv = list(sys.argv) if cli_args is None else None
        self.fields = RunFields.get().checked_base(
            transform_id=transform if isinstance(transform, int) else transform.id,
            entrypoint=entrypoint,
            cli_args=_cli_args() if cli_args is None else _redacted_argv(cli_args),
            environment_id=ensure_environment() if environment else None, git=git,
            external_source=external_source, pid=self.pid, host=_hostname(),
            created_by_id=self.instance.user_id())

    def current(self) -> bool:
        """Whether its fields still hold: same process, instance and (default) command line."""
        from lineage.instance import current_instance

        return (self.pid == _pid() and self.instance is current_instance()
                and (self.argv is None or self.argv == sys.argv))

    def run(self, *, external_id: str, attempt: int = 1, parent: Run | int | None = None,
            inherit_parent: bool = False, params: Mapping[str, Any] | None = None,
            name: str | None = None, details: Mapping[str, Any] | None = None,
            projects: Any = (), inputs: Iterable[Any] = (), upstream: Iterable[Run | int] = (),
            status: str = "started", started_at: datetime | None = None,
            finished_at: datetime | None = None, error: str | BaseException | None = None,
            uid: str | None = None, space: Any = None, defer: bool = False) -> Run:
        """The run of one attempt, created if new (the rest of `engine_run`, same arguments)."""
        check_attempt(external_id, attempt, status)
        instance = self.instance
        parent_run, parent_id = _resolve_parent(parent, inherit_parent, instance)
        from lineage.lifecycle.spaces import default_space_id, run_space_id

        parent_space = None
        known_space = getattr(parent_run, "space_id", None) is not None
        if space is None and not known_space and parent_id is not None:
            # A parent known by id only (another process's run): its space is read
            # inside the insert below, not in a transaction of its own.
            space_id, parent_space = default_space_id(), parent_id
        else:
            space_id = run_space_id(space, parent_run, parent_id)
        now = utcnow()
        final = status in FINAL_STATUSES
        run = new_run(
            self.fields, name=name, status=status, started_at=started_at or now,
            cli_args=list(self.fields["cli_args"]),  # its own: a record may be changed
            finished_at=(finished_at or now) if final else None,
            error=error_text(error) if final else None, params=_captured(params),
            initiated_by_run_id=parent_id, external_id=external_id, attempt=attempt,
            details=_captured(details) if details else None, space_id=space_id)
        if uid is not None:
            _check_uid(uid)
            run._assign(uid=uid)
        project_ids = resolve_projects(projects) if projects else []
        input_ids = [a if isinstance(a, int) else a.id for a in inputs]
        how = _EngineWrite(run, instance, parent_space, project_ids, input_ids, list(upstream),
                           started_at)
        if not (defer and status == "started"):
            return how.store()
        from lineage.lifecycle import deferred

        run.__dict__.update(_db=instance.db, _project_ids=list(project_ids))
        return deferred.defer(run, how)


class _EngineWrite:
    """How `engine_run` writes its run: at once (`store`), or later, as a deferred run
    (`lineage.lifecycle.deferred.RunWrite`: `alone`, `prepare`, `stage`, `settle`, `durable`).

    One object per run, not a closure per step: a deferred task run lives
    until its batch, and each object it holds is one more for the garbage
    collector of the engine's process to look at.
    """

    __slots__ = ("run", "instance", "db", "parent_space", "project_ids", "input_ids", "upstream",
                 "upstream_ids", "explicit_start", "conflicted", "row_stored")

    def __init__(self, run: Run, instance: Any, parent_space: int | None, project_ids: list[int],
                 input_ids: list[int], upstream: list[Run | int],
                 explicit_start: datetime | None) -> None:
        self.run, self.instance, self.db = run, instance, instance.db
        self.parent_space, self.project_ids, self.input_ids = parent_space, project_ids, input_ids
        self.upstream = upstream
        self.upstream_ids: list[int] = []  # read when the run is written: a deferred upstream then
        self.explicit_start = explicit_start
        self.conflicted = False  # the one-statement INSERT found the attempt stored already
        self.row_stored = False  # committed as started (`join`): later writes update the row

    def store(self) -> Run:
        """Write the run now; the run as stored."""
        self.upstream_ids = _run_ids(self.upstream)  # before the transaction: writes pending ones
        alone = not (self.row_stored or self.project_ids or self.input_ids or self.upstream_ids)
        if alone and self.db.write(self._insert_alone, durable=self.durable(), single=True):
            return self._settled((self.run, True, None))  # a new attempt: one INSERT
        self.conflicted = alone
        return self._settled(self.db.write(self._work, durable=self.durable()))

    def durable(self) -> bool:
        """Whether the write must be on disk when it returns (see `durable_finish`)."""
        return self.run.status in FINAL_STATUSES and durable_finish(self.run)

    # --- a deferred run (`deferred.RunWrite`) -----------------------------------------
    def alone(self) -> None:
        """Write it in a transaction of its own, as it stands."""
        self._adopt(self.store())

    def prepare(self, in_batch: Callable[[Any], bool]) -> None:
        """Before its batch: write the pending upstream runs that are not in the batch."""
        _run_ids(r for r in self.upstream if not in_batch(r))

    def stage(self, conn: Connection) -> tuple[Run, bool, str | None]:
        """Its statements inside the batch's transaction (upstream runs of the batch first)."""
        self.upstream_ids = _run_ids(self.upstream)
        return self._work(conn)

    @staticmethod
    def stage_many(conn: Connection, writes: list[_EngineWrite]) -> dict[int, Any]:
        """The new runs of a batch: one multi-row INSERT, and one per link table.

        One statement per table instead of one per row and link: each
        statement also releases and takes back the GIL that the engine's
        threads want. A run whose INSERT conflicts (another process wrote
        the attempt) is left to `stage` (it is looked up and filled in).

        Returns:
            ``id(run)`` -> what `settle` needs, for the runs inserted here.
        """
        from lineage.models.links import RUN_INPUT, RUN_UPSTREAM

        _relax_durability(conn)
        for write in writes:
            write.conflicted = False  # also when the transaction is run again
        inserted = _insert_many(conn, [write for write in writes if not write.row_stored])
        results: dict[int, Any] = {}
        inputs: list[tuple[int, int]] = []
        upstream: list[tuple[int, int]] = []
        for write in inserted:
            run = write.run
            run_id = run.__dict__["id"]
            # Upstream runs of the batch have ids now; one whose INSERT conflicted is
            # staged on asking (`deferred`), before its link is written.
            write.upstream_ids = _run_ids(write.upstream)
            for project_id in write.project_ids:
                _link_project(conn, project_id, run_id, run.transform_id)
            inputs += [(run_id, artifact_id) for artifact_id in write.input_ids]
            upstream += [(run_id, up) for up in write.upstream_ids if up != run_id]
            results[id(run)] = (run, True, None)
        _insert_links(conn, RUN_INPUT, inputs)
        _insert_links(conn, RUN_UPSTREAM, upstream)
        return results

    def join(self, conn: Connection) -> tuple[Run, bool, str | None]:
        """Its statements inside the transaction of an artifact the run saves (`joining`).

        That transaction keeps its own durability: the artifact's commit
        makes the run durable too.
        """
        self.upstream_ids = _run_ids(self.upstream)
        return self._work(conn, relax=False)

    def mark_stored(self) -> None:
        """Its row is committed as started: its links are, and its end updates the row."""
        self.row_stored = True
        self.project_ids, self.input_ids, self.upstream, self.upstream_ids = [], [], [], []

    def settle(self, result: tuple[Run, bool, str | None]) -> None:
        """After the batch committed."""
        self._adopt(self._settled(result))

    def add_inputs(self, artifact_ids: list[int]) -> None:
        """Artifacts the run read after it started, linked in its write."""
        self.input_ids.extend(i for i in artifact_ids if i not in self.input_ids)

    # --- steps ------------------------------------------------------------------------
    def _work(self, conn: Connection, relax: bool = True) -> tuple[Run, bool, str | None]:
        if relax:
            _relax_durability(conn)
        run = self.run
        if self.row_stored and self._update_stored(conn):
            stored = None
        else:
            stored = _insert_or_fetch(conn, run, self.parent_space,
                                      insert=not (self.conflicted or self.row_stored))
        before = "started" if self.row_stored else None  # its status when the work began
        if stored is not None:
            before = stored.status
            run.__dict__["id"] = stored.id  # runs of its batch that link to it read it now
            _fill_in(conn, stored, run, explicit_start=self.explicit_start)
        current = run if stored is None else stored
        for project_id in self.project_ids:
            _link_project(conn, project_id, current.id, current.transform_id)
        if self.input_ids:
            _insert_inputs(conn, current.id, self.input_ids)
        if self.upstream_ids:
            _insert_upstream(conn, current.id, self.upstream_ids)
        return current, before is None, before

    def _update_stored(self, conn: Connection) -> bool:
        """The end of a run stored as started by this process: one UPDATE, if still open there.

        False when the stored row is no longer open (another process ended
        it): it is then looked up and filled in as any stored attempt.
        """
        run = self.run
        if run.status not in FINAL_STATUSES:
            return True
        encoded = encoded_end(conn.dialect, run.status, run.finished_at, run.error)
        if not update_end(conn, run.__dict__["id"], encoded):
            return False
        mark_end_saved(run, encoded)
        return True

    def _insert_alone(self, conn: Connection) -> bool:
        _relax_durability(conn)  # PostgreSQL only: `single` keeps SQLite to the INSERT
        return _try_insert(conn, self.run, self.parent_space)

    def _settled(self, result: tuple[Run, bool, str | None]) -> Run:
        stored, created, before = result
        if self.project_ids:
            _cache(self.instance).transform_projects.update(
                (p, stored.transform_id) for p in self.project_ids)
        stored.__dict__["_db"] = self.db
        # A new run's projects are known; an existing one's load on first use (a run this
        # process stored as started keeps what it knew).
        if not self.row_stored:
            stored.__dict__["_project_ids"] = list(self.project_ids) if created else None
        _notify_transitions(stored, None if created else before)
        return stored

    def _adopt(self, stored: Run) -> None:
        if stored is not self.run:  # another process wrote this attempt first
            self.run.__dict__.update(stored.__dict__)


def write_pending_runs() -> None:
    """Write now every task run of this process that `engine_run(defer=True)` holds back.

    For an adapter handing work to a process that already runs (a pool
    worker) and looks up these runs by the engine's id: a process started
    from here finds them written anyway. A failure is logged once.
    """
    deferred = loaded_deferred()
    if deferred is not None:
        deferred.write_all()


def stored_id(run: Run) -> int | None:
    """The id of `run` if it is written; None for a deferred run not written yet.

    Unlike ``run.id``, asking does not write a deferred run.
    """
    return run.__dict__.get("id")


def new_run_uid() -> str:
    """A fresh uid for `engine_run(uid=...)`: a run named before it is written."""
    from lineage.db.uids import random_base62
    from lineage.models.run import Run

    return random_base62(Run.uid_length)


def find_engine_run(external_source: str, external_id: str, attempt: int | None = None) -> Run | None:
    """The run of an engine task attempt (the latest attempt when `attempt` is None)."""
    from lineage.models.run import Run

    query = Run.filter(external_source=external_source, external_id=external_id)
    if attempt is not None:
        return query.filter(attempt=attempt).first()
    return query.order_by("-attempt").first()


def correct_status(run: Run, status: str, *, error: str | BaseException | None = None,
                   reason: str | None = None, finished_at: datetime | None = None) -> bool:
    """Change the status of a run, also a final one (an operator's correction).

    A run still open is simply finished. A finished run with another status
    gets the new one; the `RecordChange` of the correction keeps the earlier
    status and error (``previous``) and `reason`. The error is replaced by
    `error` (cleared when the new status is not an error); ``finished_at``
    changes too when `finished_at` is given (the engine's own end time,
    reported late).

    Returns:
        True if the status changed.
    """
    from lineage.db.cas import log_change
    from lineage.lifecycle.runs import finish_run

    if status not in FINAL_STATUSES:
        raise ValidationError(f"status must be one of {', '.join(FINAL_STATUSES)}, got {status!r}.")
    db = getattr(run, "_db", None) or _instance().db
    text = error_text(error)

    def work(conn: Connection) -> str | None:
        lock = "" if conn.dialect.name == "sqlite" else " FOR UPDATE"
        row = conn.fetchone(f"SELECT status, error, finished_at FROM run WHERE id = ?{lock}",
                            [run.id])
        if row is None:
            from lineage.errors import DoesNotExist

            raise DoesNotExist(f"run {run.uid} does not exist (deleted?); nothing to correct.")
        old_status, old_error, old_finished = row
        if old_status not in FINAL_STATUSES:
            return "open"
        if old_status == status:
            return None
        new: dict[str, Any] = {"status": status, "error": text}
        previous: dict[str, Any] = {"status": old_status, "error": old_error}
        sets, values = "status = ?, error = ?", [status, text]
        if finished_at is not None:
            new["finished_at"] = finished_at
            previous["finished_at"] = conn.dialect.decode("datetime", old_finished)
            sets += ", finished_at = ?"
            values.append(conn.dialect.encode("datetime", finished_at))
        if reason:
            new["reason"] = reason
        conn.execute(f"UPDATE run SET {sets} WHERE id = ?", [*values, run.id])
        log_change(conn, "Run", run.id, run.uid, new, previous, space_id=run.space_id)
        return old_status

    outcome = db.write(work)
    if outcome == "open":
        return finish_run(run, status, error, finished_at=finished_at)
    if outcome is None:
        return False
    changed: list[tuple[str, Any]] = [("status", status), ("error", text)]
    if finished_at is not None:
        changed.append(("finished_at", finished_at))
    for name, value in changed:
        run._assign(**{name: value})
        run._loaded[name] = value
        run._loaded_raw[name] = db.dialect.encode(run.fields[name].kind, value)
    notify("finish", run)
    return True


def move_runs(run: Run | int, transform: Transform | int, *,
              from_transform: Transform | int) -> int:
    """Move `run` and the runs it initiated from `from_transform` to `transform`.

    For an engine that names its workflow only after reporting tasks (a
    Nextflow receiver that missed the workflow's start event records the
    run under a provisional transform): once the workflow is known, its run
    and task runs move to the workflow's transform. Only runs still on
    `from_transform` move; each move is a `RecordChange` keeping the
    earlier transform. One write transaction.

    Returns:
        The number of runs moved.
    """
    from lineage.db.cas import log_change

    run_id = run if isinstance(run, int) else run.id
    new_id = transform if isinstance(transform, int) else transform.id
    old_id = from_transform if isinstance(from_transform, int) else from_transform.id
    if new_id == old_id:
        return 0
    db = getattr(run, "_db", None) or _instance().db

    def work(conn: Connection) -> int:
        lock = "" if conn.dialect.name == "sqlite" else " FOR UPDATE"
        rows = conn.execute(
            "SELECT id, uid, space_id FROM run WHERE transform_id = ? "
            f"AND (id = ? OR initiated_by_run_id = ?){lock}", [old_id, run_id, run_id]).fetchall()
        for moved_id, uid, space_id in rows:
            conn.execute("UPDATE run SET transform_id = ? WHERE id = ?", [new_id, moved_id])
            log_change(conn, "Run", moved_id, uid, {"transform_id": new_id},
                       {"transform_id": old_id}, space_id=space_id)
        return len(rows)

    moved = db.write(work)
    if moved and not isinstance(run, int) and run.transform_id == old_id:
        run._assign(transform_id=new_id)
        run._loaded["transform_id"] = run._loaded_raw["transform_id"] = new_id
    return moved


def record_upstream(run: Run | int, *upstream: Run | int) -> None:
    """Record that `run` used data produced by each `upstream` run (idempotent).

    For data passed without an artifact (a task's return value handed to
    the next task): ``run.upstream_runs``, drawn as a dashed run -> run edge.
    Links of a run to itself are ignored.
    """
    run_id = run if isinstance(run, int) else run.id
    ids = [i for i in _run_ids(upstream) if i != run_id]
    if not ids:
        return
    db = getattr(run, "_db", None) or _instance().db

    def work(conn: Connection) -> None:
        _relax_durability(conn)
        _insert_upstream(conn, run_id, ids)

    db.write(work)


# --- helpers -----------------------------------------------------------------------
def _notify_transitions(run: Run, before: str | None) -> None:
    """Tell the observers that `run` started and/or finished in this call (`before`:
    its status before, None for a new run)."""
    started = before in (None, "scheduled") and run.status != "scheduled"
    if started:
        notify("start", run)
    if run.status in FINAL_STATUSES and before not in FINAL_STATUSES:
        notify("finish", run)


def _redacted_argv(argv: Iterable[str]) -> list[str]:
    """An engine's command line, redacted as ``sys.argv`` is."""
    from lineage.capture.redact import redact_argv

    return redact_argv([str(arg) for arg in argv])


def _check_uid(uid: Any) -> None:
    from lineage.models.run import Run

    if not isinstance(uid, str) or len(uid) != Run.uid_length or not uid.isalnum():
        raise ValidationError(
            f"uid must be {Run.uid_length} letters and digits (lifecycle.new_run_uid()), got {uid!r}.")


def _run_ids(runs: Iterable[Run | int]) -> list[int]:
    """Ids of `runs` (records or ids), without None and repeats."""
    ids: list[int] = []
    for item in runs:
        run_id = item if isinstance(item, int) else item.id
        if run_id is not None and run_id not in ids:
            ids.append(run_id)
    return ids


def _insert_upstream(conn: Connection, run_id: int, upstream_ids: list[int]) -> None:
    """Link `run_id` to each upstream run (idempotent; a link to itself is skipped)."""
    from lineage.models.links import RUN_UPSTREAM

    _insert_links(conn, RUN_UPSTREAM, [(run_id, up) for up in upstream_ids if up != run_id])


def _insert_or_fetch(conn: Connection, run: Run, parent_space: int | None = None, *,
                     insert: bool = True) -> Run | None:
    """Insert `run` (its id is set), or return the stored run of the same attempt.

    With `parent_space` (a parent run's id), the new run goes to that run's
    space, read in the same statement (``run.space_id`` if there is no such run).
    With `insert` False (an INSERT of it just conflicted), look for the stored
    run first.
    """
    if insert and _try_insert(conn, run, parent_space):
        return None
    lock = "" if conn.dialect.name == "sqlite" else " FOR UPDATE"
    existing = conn.fetchone(
        f"{run.select_sql()} WHERE external_source = ? AND external_id = ? AND attempt = ?{lock}",
        [run.external_source, run.external_id, run.attempt])
    if existing is None:  # the conflict was on something else (a uid clash): try once more
        from lineage.db.uids import random_base62

        run._assign(uid=random_base62(run.uid_length))
        return _insert_or_fetch(conn, run, parent_space)
    from lineage.models.run import Run  # not type(run): a pending run's class is another

    return Run.from_row(existing, conn.dialect)


def _try_insert(conn: Connection, run: Run, parent_space: int | None = None) -> bool:
    """Insert `run` in one statement and set its id; False if a stored row conflicts."""
    plan = _insert_plan(conn.dialect, type(run), parent_space is not None)
    values = plan.encoded(run)
    params = values
    if parent_space is not None:
        at = plan.space_at
        params = [*values[:at], parent_space, values[at], *values[at + 1:]]
    row = conn.execute(plan.sql, params).fetchone()
    if row is None:
        return False
    _inserted(run, plan, values, row[0], row[1] if parent_space is not None else None)
    return True


def _inserted(run: Run, plan: _InsertPlan, values: list[Any], run_id: int,
              space_id: int | None) -> None:
    """`run` as its INSERT stored it: its id, the space the INSERT chose (if it chose one)."""
    run.__dict__["id"] = run_id  # as `Run.id = ...` sets it (a pending run's too)
    if space_id is not None:
        run._assign(space_id=space_id)
        values[plan.space_at] = space_id
    _mark_saved(run, plan, values)


#: Most rows per multi-row INSERT (a power of two, see `_chunks`): 24 parameters each
#: stays far below SQLite's and PostgreSQL's limits on parameters per statement.
_ROWS_PER_INSERT = 128


def _insert_many(conn: Connection, writes: list[_EngineWrite]) -> list[_EngineWrite]:
    """INSERT the runs of `writes` in multi-row statements and set their ids.

    Each run goes to its parent's space when `parent_space` names a stored
    run (as `_try_insert`); a slice of runs whose space is known takes the
    plain statement. Returns the writes whose run was inserted; the others
    conflicted with a stored row (marked ``conflicted``).
    """
    from lineage.models.run import Run

    inserted: list[_EngineWrite] = []
    for chunk in _chunks(writes, _ROWS_PER_INSERT):
        by_parent = any(write.parent_space is not None for write in chunk)
        plan = _insert_plan(conn.dialect, Run, by_parent)
        encoded = [plan.encoded(write.run) for write in chunk]
        params: list[Any] = []
        if by_parent:
            at = plan.space_at
            for write, values in zip(chunk, encoded):
                params += values[:at]
                params += (write.parent_space, values[at])
                params += values[at + 1:]
        else:
            for values in encoded:
                params += values
        rows = conn.execute(plan.many_sql(len(chunk)), params).fetchall()
        stored = {uid: (run_id, space_id) for run_id, uid, space_id in rows}
        for write, values in zip(chunk, encoded):
            run = write.run
            found = stored.get(run.__dict__["uid"])
            if found is None:
                write.conflicted = True
                continue
            _inserted(run, plan, values, *found)
            inserted.append(write)
    return inserted


class _InsertPlan:
    """The INSERT of a new run, worked out once per dialect, model and form.

    Attributes:
        names: Column names, in order.
        encoders: Index and `Dialect.encoder` of the columns whose kind has one (the
            others' values are passed as they are).
        json_names: Columns of kind json (their snapshot is a copy).
        space_at: Index of ``space_id`` among the columns.
        sql: The statement; with `parent_space`, ``space_id`` is the parent's if it
            exists (two parameters at `space_at`).
    """

    def __init__(self, dialect: Any, model: type, parent_space: bool) -> None:
        fields = model.fields
        self.names = list(fields)
        self.encoders = [(at, encode) for at, encode in
                         enumerate(dialect.encoder(spec.kind) for spec in fields.values()) if encode]
        self.json_names = [name for name, spec in fields.items() if spec.kind == "json"]
        self.space_at = self.names.index("space_id")
        marks = ["?"] * len(self.names)
        if parent_space:
            marks[self.space_at] = "COALESCE((SELECT space_id FROM run WHERE id = ?), ?)"
        self.sql = (f"INSERT INTO run ({', '.join(self.names)}) VALUES ({', '.join(marks)}) "
                    "ON CONFLICT DO NOTHING RETURNING id, space_id")
        self._head = f"INSERT INTO run ({', '.join(self.names)}) VALUES "
        self._row = f"({', '.join(marks)})"
        self._many: dict[int, str] = {}

    def encoded(self, run: Any) -> list[Any]:
        """The run's values as parameters, in column order."""
        values = list(map(run.__dict__.__getitem__, self.names))
        for at, encode in self.encoders:
            value = values[at]
            if value is not None:
                values[at] = encode(value)
        return values

    def many_sql(self, rows: int) -> str:
        """The INSERT of `rows` runs, returning ``id, uid, space_id`` of those inserted."""
        sql = self._many.get(rows)
        if sql is None:
            sql = self._many[rows] = (f"{self._head}{', '.join([self._row] * rows)} "
                                      "ON CONFLICT DO NOTHING RETURNING id, uid, space_id")
        return sql


_insert_plans: dict[tuple[type, type, bool], _InsertPlan] = {}


def _insert_plan(dialect: Any, model: type, parent_space: bool) -> _InsertPlan:
    """The `_InsertPlan`, made once per dialect class, model and form."""
    key = (type(dialect), model, parent_space)
    plan = _insert_plans.get(key)
    if plan is None:
        plan = _insert_plans[key] = _InsertPlan(dialect, model, parent_space)
    return plan


def _mark_saved(run: Run, plan: _InsertPlan, encoded: list[Any]) -> None:
    """`Record.mark_saved` with the values just encoded for the insert (not encoded twice)."""
    from lineage.db.record import copy_json

    state = run.__dict__
    run._loaded_raw.update(zip(plan.names, encoded))
    loaded = run._loaded
    loaded.update(zip(plan.names, map(state.__getitem__, plan.names)))
    for name in plan.json_names:  # the snapshot must not share what the record may mutate
        loaded[name] = copy_json(state[name])


def _fill_in(conn: Connection, stored: Run, new: Run, explicit_start: datetime | None) -> None:
    """Apply what `new` knows and `stored` lacks (see the module docstring)."""
    changes: dict[str, Any] = {}
    for name in _FILLED_IN:
        if getattr(stored, name) in _LACKING and getattr(new, name) not in _LACKING:
            changes[name] = getattr(new, name)
    if new.details:
        merged = {**(stored.details or {}), **new.details}
        if merged != stored.details:
            changes["details"] = merged
    if explicit_start is not None and explicit_start < stored.started_at:
        changes["started_at"] = explicit_start
    if stored.status not in FINAL_STATUSES:
        if new.status in FINAL_STATUSES:
            changes.update(status=new.status, finished_at=new.finished_at, error=new.error)
        elif stored.status == "scheduled" and new.status == "started":
            changes["status"] = "started"
    elif new.status == stored.status and stored.error is None and new.error is not None:
        changes["error"] = new.error
    if not changes:
        return
    d = conn.dialect
    sets = ", ".join(f"{name} = ?" for name in changes)
    params = [d.encode(stored.fields[name].kind, value) for name, value in changes.items()]
    conn.execute(f"UPDATE run SET {sets} WHERE id = ?", [*params, stored.id])
    stored._assign(**changes)
    stored.mark_saved(d)


def _link_project(conn: Connection, project_id: int, run_id: int, transform_id: int) -> None:
    from lineage.models.links import PROJECT_RUN, PROJECT_TRANSFORM, link_rows_sql

    conn.execute(link_rows_sql(PROJECT_RUN), [project_id, run_id])
    conn.execute(link_rows_sql(PROJECT_TRANSFORM), [project_id, transform_id])


def _pid() -> int:
    return os.getpid()
