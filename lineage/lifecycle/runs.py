"""Starting, activating and finishing runs."""

from __future__ import annotations

import os
import sys
import threading
import traceback
from collections.abc import Iterable, Iterator, Mapping
from contextvars import Token
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lineage import context
from lineage.db.dialect import utcnow
from lineage.db.record import insert_row
from lineage.lifecycle import children
from lineage.lifecycle.observers import notify
from lineage.lifecycle.records import (ResolvedFeatures, _cache, _instance, ensure_environment,
                                       resolve_projects, run_project_ids, validate_features)

if TYPE_CHECKING:
    from lineage.db.database import Connection
    from lineage.instance import Instance
    from lineage.models.run import Run
    from lineage.models.transform import Transform

#: Environment variable naming the run that started this process (its uid).
PARENT_ENV = children.PARENT_ENV
#: Statuses a finished run can have (``cached`` and ``skipped`` come from engines).
FINAL_STATUSES = ("completed", "errored", "aborted", "cached", "skipped")
#: Statuses of a run that has not finished.
OPEN_STATUSES = ("scheduled", "started")
#: Longest traceback kept in ``run.error`` (characters; the end is kept).
ERROR_LIMIT = 100_000

# Runs started in this process and not finished yet, by id.
_active: dict[int, Run] = {}
# Process-wide runs (track() and flows), newest last: worker threads, which
# start with an empty context, link to the newest.
_fallback: list[Run] = []
_fallback_lock = threading.Lock()
#: Signals that are ending this process (set by the signal handler of `lineage.tracking`).
terminating_signals: list[int] = []


# --- runs -------------------------------------------------------------------------
def start_run(
    transform: Transform | int,
    *,
    params: Mapping[str, Any] | None = None,
    entrypoint: str | None = None,
    parent: Run | int | None = None,
    inherit_parent: bool = True,
    thread_fallback: bool = True,
    external_id: str | None = None,
    external_source: str | None = None,
    projects: Any = (),
    features: Mapping[str, Any] | ResolvedFeatures | None = None,
    inputs: Iterable[Any] = (),
    cli_args: list[str] | None = None,
    git: dict[str, Any] | None = None,
    name: str | None = None,
    environment: bool = True,
    status: str = "started",
    space: Any = None,
) -> Run:
    """Insert a new run (one write transaction) and return it.

    Args:
        transform: The Transform (or its id) being run.
        params: Parameters; made JSON-safe and redacted (`capture_params`).
        entrypoint: Qualified name of the function run, if any.
        parent: The run that initiated this one. None: the current run of
            this context, else the process's tracked run or newest flow, else
            the run named by ``LINEAGE_PARENT_RUN_UID`` (a parent process).
        inherit_parent: False to record no parent unless `parent` is given.
        thread_fallback: False for a top-level run such as a flow: in a
            thread whose context has no run, link only to the run of the
            whole process (`track()`) or of a parent process, never to the
            newest flow of another thread.
        external_id: Identifier in an external engine (a Prefect task-run id).
        external_source: Name of that engine (``"prefect"``).
        projects: Names, records or ids; the run and its transform are linked
            to them, and runs it initiates in this process inherit them.
        features: Feature values, validated before anything is written.
        inputs: Saved artifacts (or ids) to record as inputs of the run.
        cli_args: Command line; defaults to ``sys.argv``, redacted.
        git: Git state (see `lineage.capture.git.capture_git`).
        name: Optional human-readable name.
        environment: Link the process's Environment row.
        status: ``started`` (default) or ``scheduled``.
        space: An `ln.Space`, its name or id; None: the parent run's space,
            else ``ln.settings.space``, else ``all`` (`lineage.lifecycle.spaces`).
            Artifacts and records created in the run go to the same space.

    Raises:
        ValidationError: Unknown feature or wrong feature type (nothing written).
        DoesNotExist: No space of that name is visible to this role.
    """
    from lineage.models.run import Run

    resolved = validate_features(features)
    instance = _instance()
    transform_id = transform if isinstance(transform, int) else transform.id
    parent_run, parent_id = _resolve_parent(parent, inherit_parent, instance,
                                            thread_fallback=thread_fallback)
    project_ids = resolve_projects(projects) if projects else []
    if parent_run is not None:
        for inherited in getattr(parent_run, "_project_ids", None) or ():
            if inherited not in project_ids:
                project_ids.append(inherited)
    input_ids = [a if isinstance(a, int) else a.id for a in inputs]
    from lineage.lifecycle.spaces import run_space_id

    run = Run(
        transform_id=transform_id, entrypoint=entrypoint, name=name, status=status,
        params=_captured(params),
        cli_args=_cli_args() if cli_args is None else cli_args,
        environment_id=ensure_environment() if environment else None,
        git=git, initiated_by_run_id=parent_id, external_id=external_id,
        external_source=external_source, pid=os.getpid(), host=_hostname(),
        created_by_id=instance.user_id(), space_id=run_space_id(space, parent_run, parent_id),
    )
    cache = _cache(instance)
    new_links = [(p, transform_id) for p in project_ids if (p, transform_id) not in cache.transform_projects]

    def work(conn: Connection) -> int:
        _relax_durability(conn)
        run_id = insert_row(conn, run)
        if project_ids:
            from lineage.models.links import PROJECT_RUN, PROJECT_TRANSFORM, link_rows_sql

            run_sql = link_rows_sql(PROJECT_RUN)
            for project_id in project_ids:
                conn.execute(run_sql, [project_id, run_id])
            for project_id, tid in new_links:
                conn.execute(link_rows_sql(PROJECT_TRANSFORM), [project_id, tid])
        if resolved.items:
            from lineage.models.feature import insert_feature_value

            for feature_id, value, label_id in resolved.items:
                insert_feature_value(conn, run_id, feature_id, value, label_id)
        if input_ids:
            _insert_inputs(conn, run_id, input_ids)
        return run_id

    # A run without links is one INSERT (see `Database.write`'s `single`).
    single = not (project_ids or resolved.items or input_ids)
    run.id = instance.db.write(work, durable=False, single=single)  # see `durable_finish`
    cache.transform_projects.update(new_links)
    run._project_ids = project_ids
    run._db = instance.db
    _active[run.id] = run
    if status == "started":
        notify("start", run)
    return run


def _relax_durability(conn: Connection) -> None:
    """On PostgreSQL, do not wait for the WAL flush when committing run bookkeeping.

    Saves about 1.5 ms per transaction here (two per step). Consistency is
    unchanged: WAL is flushed in order, so any later synchronous commit (an
    artifact saved in the run, say) makes this one durable too; only a
    crash of the database server itself within a fraction of a second can
    lose the newest run rows or statuses. SQLite (WAL, synchronous=NORMAL)
    needs nothing. A durable commit at ``ln.settings.durability = "full"``
    waits (`durable_finish`).
    """
    if conn.dialect.name != "sqlite" and conn.durability != "full":
        conn.execute("SET LOCAL synchronous_commit TO OFF")


def durable_finish(run: Run) -> bool:
    """Whether the finish of `run` must be on disk when it returns (at ``full``).

    A run's start never needs to be: if it is lost, so is everything the
    run did after it (the log is replayed in order), and nothing durable
    points at it. Its finish must be, unless the run that initiated it is
    still open in this process (a step inside a flow or a tracked script):
    then it becomes durable with that run's own finish, or earlier with the
    next durable commit (an artifact saved, say). So a flow of N steps at
    ``full`` waits for one flush, at its end, instead of 2N.
    """
    parent = _active.get(run.initiated_by_run_id) if run.initiated_by_run_id else None
    return parent is None or parent.pid != os.getpid()


def _insert_inputs(conn: Connection, run_id: int, artifact_ids: list[int]) -> None:
    from lineage.models.links import RUN_INPUT

    _insert_links(conn, RUN_INPUT, [(run_id, artifact_id) for artifact_id in artifact_ids])


#: Most link rows per multi-row INSERT (three parameters each; a power of two, see `_chunks`).
_LINKS_PER_INSERT = 256


def _chunks(rows: list[Any], most: int) -> Iterator[list[Any]]:
    """`rows` in slices for multi-row statements: of `most` rows, then of powers of two.

    A statement is compiled once per text: with row counts limited to
    powers of two, a few texts serve every batch size and stay in the
    driver's statement cache (compiling a multi-row INSERT into ``run``
    costs about 8 us per row here, more than binding and running it).

    Args:
        rows: What to write.
        most: The largest slice, a power of two.
    """
    start, total = 0, len(rows)
    while start < total:
        size = most
        while size > total - start:
            size //= 2
        yield rows[start:start + size]
        start += size


def _insert_links(conn: Connection, link: Any, rows: list[tuple[int, int]]) -> None:
    """Link rows ``(left id, right id)`` of one link table, stamped now, idempotent."""
    from lineage.models.links import link_rows_sql

    if not rows:
        return
    now = conn.dialect.encode("datetime", utcnow())
    for chunk in _chunks(rows, _LINKS_PER_INSERT):
        params: list[Any] = []
        for left, right in chunk:
            params += (left, right, now)
        conn.execute(link_rows_sql(link, len(chunk)), params)


def finish_run(run: Run, status: str = "completed", error: str | BaseException | None = None,
               finished_at: datetime | None = None) -> bool:
    """Set the final status and ``finished_at`` of a run (one write transaction).

    Only a run still ``started`` (or ``scheduled``) changes, so finishing
    twice, or after a signal handler aborted the run, keeps the first result
    (an operator's later correction is `lineage.lifecycle.correct_status`).

    Args:
        run: The run.
        status: ``completed``, ``errored``, ``aborted``, ``cached`` or ``skipped``.
        error: A traceback text or an exception (formatted with its
            traceback); stored redacted.
        finished_at: When it ended (default: now), for events reported later.

    Returns:
        True if this call finished the run, False if it was finished already.
    """
    if status not in FINAL_STATUSES:
        from lineage.errors import ValidationError

        raise ValidationError(f"status must be one of {', '.join(FINAL_STATUSES)}, got {status!r}.")
    error = error_text(error)
    now = finished_at or utcnow()
    deferred = loaded_deferred()
    if deferred is not None and getattr(run, "deferred", False) and deferred.is_pending(run):
        ended = deferred.finish(run, status, error, now)
        if ended is not None:
            return ended  # written once, start and end together (or ended already)
    elif deferred is not None:  # the task runs a flow's tasks ended are stored before its end
        deferred.flush_quietly()
    db = getattr(run, "_db", None) or _instance().db
    encoded = encoded_end(db.dialect, status, now, error)

    def work(conn: Connection) -> bool:
        _relax_durability(conn)
        return update_end(conn, run.id, encoded)

    try:
        changed = db.write(work, durable=durable_finish(run), single=True)
    finally:
        _active.pop(run.id, None)
    if changed:
        run._assign(status=status, finished_at=now, error=error)
        mark_end_saved(run, encoded)
        notify("finish", run)
    else:
        row = db.query("SELECT status FROM run WHERE id = ?", [run.id])
        if row:
            run._assign(status=row[0][0])
            run._loaded["status"] = run._loaded_raw["status"] = row[0][0]
    return changed


#: The fields a run's end sets, in the order of `encoded_end`.
_END_FIELDS = ("status", "finished_at", "error")


def encoded_end(dialect: Any, status: str, finished_at: datetime, error: str | None) -> list[Any]:
    """A run's end as the parameters of `update_end` (`_END_FIELDS`, encoded)."""
    return [dialect.encode("str", status), dialect.encode("datetime", finished_at), error]


def update_end(conn: Connection, run_id: int, encoded: list[Any]) -> bool:
    """Write a run's end (`encoded_end`) if the row is still open; whether it was."""
    return conn.execute(
        "UPDATE run SET status = ?, finished_at = ?, error = ? WHERE id = ? AND status IN (?, ?)",
        [*encoded, run_id, *OPEN_STATUSES]).rowcount == 1


def mark_end_saved(run: Run, encoded: list[Any]) -> None:
    """Take the run's end, as `update_end` wrote it, into its loaded snapshot."""
    for name, raw in zip(_END_FIELDS, encoded):
        run._loaded[name] = getattr(run, name)
        run._loaded_raw[name] = raw


def loaded_deferred() -> Any:
    """`lineage.lifecycle.deferred` once a run of this process was deferred, else None.

    Looked up, not imported: a process that never deferred a run has nothing waiting.
    """
    return sys.modules.get("lineage.lifecycle.deferred")


def error_text(error: str | BaseException | None) -> str | None:
    """What ``run.error`` stores: the traceback of `error`, redacted, the end kept."""
    if error is None:
        return None
    if isinstance(error, BaseException):
        error = "".join(traceback.format_exception(error))
    from lineage.capture.redact import redact_text

    error = redact_text(error)
    if len(error) > ERROR_LIMIT:
        error = "...\n" + error[-ERROR_LIMIT:]
    return error


def status_for(exc: BaseException | None) -> str:
    """The final status of a run ended by `exc` (None: completed).

    ``KeyboardInterrupt``, cancellation and a ``SystemExit`` raised because
    of SIGTERM are ``aborted``; another ``SystemExit`` with code 0 or None is
    ``completed``; every other exception ``errored``.
    """
    if exc is None:
        return "completed"
    if isinstance(exc, SystemExit) and terminating_signals:
        return "aborted"
    if isinstance(exc, SystemExit):
        return "completed" if exc.code in (0, None) else "errored"
    if isinstance(exc, (KeyboardInterrupt, GeneratorExit)):
        return "aborted"
    if type(exc).__name__ == "CancelledError":
        return "aborted"
    return "errored"


def record_input(run: Run, artifact: Any) -> None:
    """Record a saved artifact (or its id) as an input of `run` (idempotent).

    A deferred run not written yet takes the link into its own write (one
    transaction fewer; the run is not in the store before it anyway).
    """
    artifact_id = artifact if isinstance(artifact, int) else artifact.id
    deferred = loaded_deferred()
    if deferred is not None and deferred.add_inputs(run, [artifact_id]):
        return
    db = getattr(run, "_db", None) or _instance().db
    db.write(lambda conn: _insert_inputs(conn, run.id, [artifact_id]))


def record_output(run: Run, artifact: Any) -> None:
    """Make `run` the creating run of a saved artifact.

    A different earlier creating run moves to ``artifact.previous_runs``;
    the artifact is linked to the run's projects.
    """
    from lineage.models.links import ARTIFACT_PREVIOUS_RUN, PROJECT_ARTIFACT, link_rows_sql

    project_ids = run_project_ids(run)
    db = getattr(run, "_db", None) or _instance().db

    def work(conn: Connection) -> None:
        old = conn.scalar("SELECT run_id FROM artifact WHERE id = ?", [artifact.id])
        if old is not None and old != run.id:
            conn.execute(link_rows_sql(ARTIFACT_PREVIOUS_RUN),
                         [artifact.id, old, conn.dialect.encode("datetime", utcnow())])
        conn.execute("UPDATE artifact SET run_id = ? WHERE id = ?", [run.id, artifact.id])
        for project_id in project_ids:
            conn.execute(link_rows_sql(PROJECT_ARTIFACT), [project_id, artifact.id])

    db.write(work)
    artifact._assign(run_id=run.id)
    if hasattr(artifact, "_loaded"):
        artifact._loaded["run_id"] = artifact._loaded_raw["run_id"] = run.id


# --- activation -----------------------------------------------------------------
class Activation:
    """What `activate` changed, for `deactivate` to undo."""

    __slots__ = ("run", "token", "process_wide", "env_set", "previous_env")

    def __init__(self, run: Run, token: Token | None, process_wide: bool, env_set: bool,
                 previous_env: str | None) -> None:
        self.run = run
        self.token = token
        self.process_wide = process_wide
        self.env_set = env_set
        self.previous_env = previous_env


def activate(run: Run, *, process_wide: bool = False, set_context: bool = True,
             env_now: bool = False) -> Activation:
    """Make `run` current: artifacts saved and runs started here link to it.

    Args:
        run: The run.
        process_wide: Also make it the fallback of steps in threads that
            start with an empty context (flows and `track()` runs). Without
            `set_context` (as `track()` does) it is the run of the whole
            process: flows started in any thread link to it too.
        set_context: Set the ContextVar of this thread or task.
        env_now: In the main thread, set ``LINEAGE_PARENT_RUN_UID`` at once
            (as for a `process_wide` run), for an engine that copies
            ``os.environ`` for the processes it starts (Airflow's operators).

    In the main thread (and for the run of the whole process), a child
    process started while the run is current links to it through
    ``LINEAGE_PARENT_RUN_UID``: set at once for a `process_wide` run (and
    with `env_now`), else when a process is started
    (`lineage.lifecycle.children`); restored by `deactivate`. Worker
    threads leave it alone: the environment is shared by all threads of a
    process.
    """
    token = context.enter_run(run) if set_context else None
    whole_process = process_wide and not set_context
    if process_wide:
        with _fallback_lock:
            _fallback.append(run)
            context.set_process_run(_fallback[-1])
            if whole_process:
                context.set_whole_process_run(run)
    activation = Activation(run, token, process_wide, False, None)
    main = threading.current_thread() is threading.main_thread()
    if whole_process or (main and (process_wide or env_now)):
        children.set_now(activation)
    elif main:
        children.set_on_spawn(activation)
    return activation


def deactivate(activation: Activation) -> None:
    """Undo `activate` (in reverse order of activation)."""
    children.release(activation)
    if activation.process_wide:
        with _fallback_lock:
            for i in range(len(_fallback) - 1, -1, -1):
                if _fallback[i] is activation.run:
                    del _fallback[i]
                    break
            context.set_process_run(_fallback[-1] if _fallback else None)
            if context.whole_process_run() is activation.run:
                context.set_whole_process_run(None)
    if activation.token is not None:
        try:
            context.exit_run(activation.token)
        except ValueError:  # token from another context (a generator resumed elsewhere)
            context.enter_run(None)  # type: ignore[arg-type]


def is_active(run: Run | int) -> bool:
    """Whether `run` was started in this process and is not finished yet."""
    run_id = run if isinstance(run, int) else run.id
    return run_id in _active


def active_runs() -> list[Run]:
    """Runs started in this process and not finished yet, oldest first."""
    pid = os.getpid()
    return [run for run in _active.values() if run.pid == pid]


def abort_active_runs(reason: str, status: str = "aborted") -> list[Run]:
    """Finish every active run of this process with `status` (default aborted).

    Used when the process ends (signal, exit); errors are swallowed so that
    exit handling always completes.

    Returns:
        The runs this call finished.
    """
    finished = []
    pid = os.getpid()
    for run in sorted(_active.values(), key=lambda r: -(r.id or 0)):
        if run.pid != pid:  # inherited through fork: the parent process owns it
            continue
        try:
            if finish_run(run, status, reason):
                finished.append(run)
        except Exception:  # noqa: BLE001 - best effort while the process ends
            _active.pop(run.id, None)
    return finished


def _resolve_parent(parent: Run | int | None, inherit: bool, instance: Instance, *,
                    thread_fallback: bool = True) -> tuple[Run | None, int | None]:
    if parent is not None:
        if isinstance(parent, int):
            return _active.get(parent), parent
        return parent, parent.id
    if not inherit:
        return None, None
    run = context.current_run() if thread_fallback else context.context_run()
    if run is not None and run.id is not None:
        return run, run.id
    uid = os.environ.get(PARENT_ENV)
    if not uid:
        return None, None
    for active in _active.values():
        if active.uid == uid:
            if active.pid == os.getpid() and not thread_fallback:
                return None, None  # a run of another thread of this process
            return active, active.id
    cache = _cache(instance)
    if uid not in cache.parents:
        rows = instance.db.query("SELECT id FROM run WHERE uid = ?", [uid])
        cache.parents[uid] = rows[0][0] if rows else None
    return None, cache.parents[uid]


def _captured(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """JSON-safe, redacted params (the capture layer loads on first use)."""
    if params is None:
        return None
    from lineage.capture.params import capture_params

    return capture_params(params)


_argv_cache: tuple[tuple[str, ...], list[str]] | None = None


def _cli_args() -> list[str]:
    global _argv_cache
    import sys

    argv = tuple(sys.argv)
    if _argv_cache is None or _argv_cache[0] != argv:
        from lineage.capture.cli import capture_cli_args

        _argv_cache = (argv, capture_cli_args(list(argv)))
    return list(_argv_cache[1])


_HOST: list[str] = []


def _hostname() -> str:
    if not _HOST:
        try:
            _HOST.append(os.uname().nodename)
        except AttributeError:  # Windows
            import platform

            _HOST.append(platform.node())
    return _HOST[0]
