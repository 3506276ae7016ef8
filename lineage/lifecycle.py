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

from __future__ import annotations

import os
import threading
import traceback
import weakref
from collections.abc import Iterable, Mapping
from contextvars import Token
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lineage import context
from lineage.db.dialect import utcnow
from lineage.db.record import insert_row
from lineage.db.uids import random_base62, versioned_uid

if TYPE_CHECKING:
    from lineage.db.database import Connection, Database
    from lineage.instance import Instance
    from lineage.models.run import Run
    from lineage.models.transform import Transform

#: Environment variable naming the run that started this process (its uid).
PARENT_ENV = "LINEAGE_PARENT_RUN_UID"
#: Statuses a finished run can have.
FINAL_STATUSES = ("completed", "errored", "aborted")
#: Longest traceback kept in ``run.error`` (characters; the end is kept).
ERROR_LIMIT = 100_000
_OPEN_STATUSES = ("started", "scheduled")
_MAX_TRANSFORM_ATTEMPTS = 10

# Runs started in this process and not finished yet, by id.
_active: dict[int, Run] = {}
# Process-wide runs (track() and flows), newest last: worker threads, which
# start with an empty context, link to the newest.
_fallback: list[Run] = []
_fallback_lock = threading.Lock()
#: Signals that are ending this process (set by the signal handler of `lineage.tracking`).
terminating_signals: list[int] = []


@dataclass
class _InstanceCache:
    """Ids that never change for one open instance."""

    environment_id: int | None = None
    transforms: dict[tuple[str, str], Transform] = field(default_factory=dict)
    projects: dict[str, int] = field(default_factory=dict)
    parents: dict[str, int | None] = field(default_factory=dict)
    transform_projects: set[tuple[int, int]] = field(default_factory=set)


_caches: weakref.WeakKeyDictionary[Instance, _InstanceCache] = weakref.WeakKeyDictionary()


def _instance() -> Instance:
    from lineage.instance import current_instance

    return current_instance()


def _cache(instance: Instance) -> _InstanceCache:
    cache = _caches.get(instance)
    if cache is None:
        cache = _caches[instance] = _InstanceCache()
    return cache


# --- environment ------------------------------------------------------------------
def ensure_environment() -> int:
    """Id of the Environment row of this process, inserted if new.

    The environment is captured once per process; the row is shared by every
    run with the same hash (``INSERT ... ON CONFLICT DO NOTHING`` then
    ``SELECT``, safe under concurrent writers).
    """
    instance = _instance()
    cache = _cache(instance)
    if cache.environment_id is None:
        from lineage.capture.environment import capture_environment

        info = capture_environment()

        def work(conn: Connection) -> int:
            d = conn.dialect
            conn.execute(
                "INSERT INTO environment (uid, hash, python_version, platform, packages, host, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [random_base62(12), info.hash, info.python_version, info.platform,
                 d.encode("json", info.packages), d.encode("json", info.host),
                 d.encode("datetime", utcnow())],
            )
            return conn.scalar("SELECT id FROM environment WHERE hash = ?", [info.hash])

        cache.environment_id = instance.db.write(work)
    return cache.environment_id


# --- transforms -------------------------------------------------------------------
def get_or_create_transform(key: str, source: str | None, kind: str = "script", *,
                            description: str | None = None,
                            reference: str | None = None) -> Transform:
    """The Transform of `key` with this source: reused, or a new version.

    Same key and source hash: the existing Transform (an older version too,
    when the source went back to it). A new hash: version ``max + 1`` with
    the uid stem of the key's family; the previous latest version loses
    ``is_latest`` in the same transaction. Under concurrent writers the
    unique indexes decide and the loser re-reads and retries.

    Args:
        key: Transform key (see `lineage.capture.source.transform_key`).
        source: The source code; None or "" for code without source.
        kind: ``script``, ``notebook``, ``flow``, ``step``, ``function`` or an
            engine name; used only when a new version is created.
        description: Stored on a new version.
        reference: External reference (URL, engine id) stored on a new version.
    """
    from lineage.capture.source import source_hash
    from lineage.models.transform import Transform

    text = source or ""
    digest = source_hash(text)
    instance = _instance()
    cache = _cache(instance)
    cached = cache.transforms.get((key, digest))
    if cached is not None:
        return cached
    user_id = instance.user_id()

    def work(conn: Connection) -> Transform:
        if conn.dialect.name != "sqlite":
            # Serialize creators of one key (SQLite's BEGIN IMMEDIATE already
            # does): under READ COMMITTED two of them could otherwise both
            # compute the same next version.
            conn.execute("SELECT pg_advisory_xact_lock(?)", [_lock_id("transform", key)])
        row = conn.fetchone(f"{Transform.select_sql()} WHERE key = ? AND hash = ?", [key, digest])
        if row is not None:
            return Transform.from_row(row, conn.dialect)
        family = conn.fetchone(
            "SELECT uid, version FROM transform WHERE key = ? ORDER BY version DESC LIMIT 1", [key])
        stem = family[0][:12] if family else None
        version = family[1] + 1 if family else 1
        conn.execute("UPDATE transform SET is_latest = ? WHERE key = ? AND is_latest = ?",
                     [conn.dialect.encode("bool", False), key, conn.dialect.encode("bool", True)])
        transform = Transform(
            uid=versioned_uid(stem, version), key=key, kind=kind, description=description,
            source_code=text or None, hash=digest, version=version, is_latest=True,
            reference=reference, created_by_id=user_id,
        )
        transform.id = insert_row(conn, transform)
        return transform

    for attempt in range(_MAX_TRANSFORM_ATTEMPTS):
        try:
            transform = instance.db.write(work)
            break
        except Exception as exc:  # noqa: BLE001 - only unique violations are retried
            if attempt == _MAX_TRANSFORM_ATTEMPTS - 1 or not _is_unique_violation(exc):
                raise
    cache.transforms[(key, digest)] = transform
    return transform


def _lock_id(namespace: str, name: str) -> int:
    """A signed 64-bit advisory-lock id for `name` (stable across processes)."""
    import hashlib

    digest = hashlib.sha256(f"lineage:{namespace}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _is_unique_violation(exc: BaseException) -> bool:
    import sqlite3

    if isinstance(exc, sqlite3.IntegrityError):
        return "UNIQUE" in str(exc)
    return getattr(exc, "sqlstate", None) == "23505"


# --- projects ---------------------------------------------------------------------
def resolve_projects(projects: Any) -> list[int]:
    """Ids of projects given by name, record or id; names not found are created.

    Args:
        projects: None, one project (name, `Project`, id) or an iterable of them.
    """
    if projects is None:
        return []
    if isinstance(projects, (str, int)) or hasattr(projects, "__tablename__"):
        projects = [projects]
    instance = _instance()
    cache = _cache(instance)
    ids: list[int] = []
    for project in projects:
        if isinstance(project, bool) or not isinstance(project, (str, int)) and \
                getattr(project, "__tablename__", None) != "project":
            from lineage.errors import ValidationError

            raise ValidationError(
                f"project must be a name, an ln.Project or a project id, got {project!r}.")
        if isinstance(project, int):
            project_id = project
        elif isinstance(project, str):
            project_id = cache.projects.get(project)
            if project_id is None:
                project_id = _project_id_by_name(instance, project)
                cache.projects[project] = project_id
        else:
            if project.id is None:
                project.save()
            project_id = project.id
        if project_id not in ids:
            ids.append(project_id)
    return ids


def _project_id_by_name(instance: Instance, name: str) -> int:
    rows = instance.db.query("SELECT id FROM project WHERE name = ?", [name])
    if rows:
        return rows[0][0]
    from lineage.models.project import Project

    project = Project(name=name)
    if project.id is None:
        project.created_by_id = instance.user_id()
        project.save()
    return project.id


def link_projects(project_ids: Iterable[int], *, run: Run | None = None,
                  transform: Transform | int | None = None) -> None:
    """Link projects to a run and/or a transform (idempotent)."""
    ids = list(project_ids)
    if not ids:
        return
    transform_id = transform if isinstance(transform, int) or transform is None else transform.id
    instance = _instance()
    instance.db.write(lambda conn: _link(conn, ids, run.id if run else None, transform_id))
    if run is not None:
        known = getattr(run, "_project_ids", None)
        if known is not None:
            run._project_ids = known + [i for i in ids if i not in known]


def _link(conn: Connection, project_ids: list[int], run_id: int | None,
          transform_id: int | None) -> None:
    from lineage.models.links import PROJECT_RUN, PROJECT_TRANSFORM, link_rows_sql

    for project_id in project_ids:
        if run_id is not None:
            conn.execute(link_rows_sql(PROJECT_RUN), [project_id, run_id])
        if transform_id is not None:
            conn.execute(link_rows_sql(PROJECT_TRANSFORM), [project_id, transform_id])


def run_project_ids(run: Run) -> list[int]:
    """Ids of the projects of `run` (what artifacts saved in the run link to).

    Cached on the run object for runs started in this process.
    """
    ids = getattr(run, "_project_ids", None)
    if ids is None:
        if run.id is None:
            return []
        rows = _instance().db.query(
            "SELECT project_id FROM project_run WHERE run_id = ? ORDER BY project_id", [run.id])
        ids = [r[0] for r in rows]
        run._project_ids = ids
    return list(ids)


# --- features ---------------------------------------------------------------------
@dataclass(frozen=True)
class ResolvedFeatures:
    """Feature values validated by `validate_features` and ready to store."""

    items: tuple[tuple[int, Any, int | None], ...]


def validate_features(values: Mapping[str, Any] | ResolvedFeatures | None) -> ResolvedFeatures:
    """Validate feature values against the Feature registry (writes nothing).

    Raises:
        ValidationError: An unknown feature or a value of the wrong type; the
            message names it.
    """
    if isinstance(values, ResolvedFeatures):
        return values
    if not values:
        return ResolvedFeatures(())
    from lineage.models.feature import validate_features as _validate

    resolved = _validate(dict(values))
    return ResolvedFeatures(tuple((f.id, v, label_id) for f, (v, label_id) in resolved))


# --- runs -------------------------------------------------------------------------
def start_run(
    transform: Transform | int,
    *,
    params: Mapping[str, Any] | None = None,
    entrypoint: str | None = None,
    parent: Run | int | None = None,
    inherit_parent: bool = True,
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

    Raises:
        ValidationError: Unknown feature or wrong feature type (nothing written).
    """
    from lineage.models.run import Run

    resolved = validate_features(features)
    instance = _instance()
    transform_id = transform if isinstance(transform, int) else transform.id
    parent_run, parent_id = _resolve_parent(parent, inherit_parent, instance)
    project_ids = resolve_projects(projects) if projects else []
    if parent_run is not None:
        for inherited in getattr(parent_run, "_project_ids", None) or ():
            if inherited not in project_ids:
                project_ids.append(inherited)
    input_ids = [a if isinstance(a, int) else a.id for a in inputs]
    run = Run(
        transform_id=transform_id, entrypoint=entrypoint, name=name, status=status,
        params=_capture_params(params) if params is not None else None,
        cli_args=_cli_args() if cli_args is None else cli_args,
        environment_id=ensure_environment() if environment else None,
        git=git, initiated_by_run_id=parent_id, external_id=external_id,
        external_source=external_source, pid=os.getpid(), host=_hostname(),
        created_by_id=instance.user_id(),
    )
    cache = _cache(instance)
    new_links = [(p, transform_id) for p in project_ids if (p, transform_id) not in cache.transform_projects]

    def work(conn: Connection) -> int:
        run_id = insert_row(conn, run)
        if project_ids:
            from lineage.models.links import PROJECT_RUN, PROJECT_TRANSFORM, link_rows_sql

            run_sql = link_rows_sql(PROJECT_RUN)
            for project_id in project_ids:
                conn.execute(run_sql, [project_id, run_id])
            for project_id, tid in new_links:
                conn.execute(link_rows_sql(PROJECT_TRANSFORM), [project_id, tid])
        if resolved.items:
            for feature_id, value, label_id in resolved.items:
                conn.execute(
                    "INSERT INTO run_feature_value (run_id, feature_id, value, label_id) "
                    "VALUES (?, ?, ?, ?)",
                    [run_id, feature_id, conn.dialect.encode("json", value), label_id])
        if input_ids:
            _insert_inputs(conn, run_id, input_ids)
        return run_id

    run.id = instance.db.write(work)
    cache.transform_projects.update(new_links)
    run._project_ids = project_ids
    run._db = instance.db
    _active[run.id] = run
    return run


def _insert_inputs(conn: Connection, run_id: int, artifact_ids: list[int]) -> None:
    from lineage.models.links import RUN_INPUT, link_rows_sql

    sql = link_rows_sql(RUN_INPUT)
    now = conn.dialect.encode("datetime", utcnow())
    for artifact_id in artifact_ids:
        conn.execute(sql, [run_id, artifact_id, now])


def finish_run(run: Run, status: str = "completed", error: str | BaseException | None = None) -> bool:
    """Set the final status and ``finished_at`` of a run (one write transaction).

    Only a run still ``started`` (or ``scheduled``) changes, so finishing
    twice, or after a signal handler aborted the run, keeps the first result.

    Args:
        run: The run.
        status: ``completed``, ``errored`` or ``aborted``.
        error: A traceback text or an exception (formatted with its
            traceback); stored redacted.

    Returns:
        True if this call finished the run, False if it was finished already.
    """
    from lineage.capture.redact import redact_text
    from lineage.errors import ValidationError

    if status not in FINAL_STATUSES:
        raise ValidationError(f"status must be one of {', '.join(FINAL_STATUSES)}, got {status!r}.")
    if isinstance(error, BaseException):
        error = "".join(traceback.format_exception(error))
    if error is not None:
        error = redact_text(error)
        if len(error) > ERROR_LIMIT:
            error = "...\n" + error[-ERROR_LIMIT:]
    now = utcnow()
    db = getattr(run, "_db", None) or _instance().db
    d = db.dialect
    values = {"status": status, "finished_at": now, "error": error}
    encoded = [d.encode("str", status), d.encode("datetime", now), error]

    def work(conn: Connection) -> int:
        return conn.execute(
            "UPDATE run SET status = ?, finished_at = ?, error = ? WHERE id = ? AND status IN (?, ?)",
            [*encoded, run.id, *_OPEN_STATUSES]).rowcount

    try:
        changed = db.write(work) == 1
    finally:
        _active.pop(run.id, None)
    if changed:
        for (name, value), raw in zip(values.items(), encoded):
            setattr(run, name, value)
            run._loaded[name] = value
            run._loaded_raw[name] = raw
    else:
        row = db.query("SELECT status FROM run WHERE id = ?", [run.id])
        if row:
            run.status = run._loaded["status"] = run._loaded_raw["status"] = row[0][0]
    return changed


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
    """Record a saved artifact (or its id) as an input of `run` (idempotent)."""
    artifact_id = artifact if isinstance(artifact, int) else artifact.id
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
    artifact.run_id = run.id
    if hasattr(artifact, "_loaded"):
        artifact._loaded["run_id"] = artifact._loaded_raw["run_id"] = run.id


# --- activation -----------------------------------------------------------------
@dataclass
class Activation:
    """What `activate` changed, for `deactivate` to undo."""

    run: Run
    token: Token | None
    process_wide: bool
    env_set: bool
    previous_env: str | None


def activate(run: Run, *, process_wide: bool = False, set_context: bool = True) -> Activation:
    """Make `run` current: artifacts saved and runs started here link to it.

    Args:
        run: The run.
        process_wide: Also make it the fallback for threads that start with
            an empty context (flows and `track()` runs).
        set_context: Set the ContextVar of this thread or task.

    In the main thread, ``LINEAGE_PARENT_RUN_UID`` is set to the run's uid,
    so a child process started now links to it; it is restored by
    `deactivate`.
    """
    token = context.enter_run(run) if set_context else None
    if process_wide:
        with _fallback_lock:
            _fallback.append(run)
            context.set_process_run(_fallback[-1])
    env_set = False
    previous = None
    if process_wide or threading.current_thread() is threading.main_thread():
        previous = os.environ.get(PARENT_ENV)
        os.environ[PARENT_ENV] = run.uid
        env_set = True
    return Activation(run, token, process_wide, env_set, previous)


def deactivate(activation: Activation) -> None:
    """Undo `activate` (in reverse order of activation)."""
    if activation.env_set and os.environ.get(PARENT_ENV) == activation.run.uid:
        if activation.previous_env is None:
            os.environ.pop(PARENT_ENV, None)
        else:
            os.environ[PARENT_ENV] = activation.previous_env
    if activation.process_wide:
        with _fallback_lock:
            for i in range(len(_fallback) - 1, -1, -1):
                if _fallback[i] is activation.run:
                    del _fallback[i]
                    break
            context.set_process_run(_fallback[-1] if _fallback else None)
    if activation.token is not None:
        try:
            context.exit_run(activation.token)
        except ValueError:  # token from another context (a generator resumed elsewhere)
            context.enter_run(None)  # type: ignore[arg-type]


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


def _resolve_parent(parent: Run | int | None, inherit: bool,
                    instance: Instance) -> tuple[Run | None, int | None]:
    if parent is not None:
        if isinstance(parent, int):
            return _active.get(parent), parent
        return parent, parent.id
    if not inherit:
        return None, None
    run = context.current_run()
    if run is not None and run.id is not None:
        return run, run.id
    uid = os.environ.get(PARENT_ENV)
    if not uid:
        return None, None
    for active in _active.values():
        if active.uid == uid:
            return active, active.id
    cache = _cache(instance)
    if uid not in cache.parents:
        rows = instance.db.query("SELECT id FROM run WHERE uid = ?", [uid])
        cache.parents[uid] = rows[0][0] if rows else None
    return None, cache.parents[uid]


def _capture_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-safe, redacted params; lossy values warn at the user's call site."""
    from lineage.capture.params import to_json_safe
    from lineage.capture.redact import redact_mapping

    safe, messages = to_json_safe(dict(params))
    for message in messages:
        _warn_at_caller(message)
    return redact_mapping(safe)


def _warn_at_caller(message: str) -> None:
    import sys
    import warnings

    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] == "lineage":
        frame = frame.f_back
    if frame is None:
        warnings.warn(message, UserWarning, stacklevel=2)
        return
    warnings.warn_explicit(message, UserWarning, frame.f_code.co_filename, frame.f_lineno,
                           module=frame.f_globals.get("__name__"),
                           registry=frame.f_globals.setdefault("__warningregistry__", {}))


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


def format_error(exc: BaseException) -> str:
    """The traceback of `exc` as stored in ``run.error``."""
    return "".join(traceback.format_exception(exc))
