"""Rows every run points to: environment, transform versions, projects, features.

Each is resolved once per process and instance and cached, so the hot path
of a step call never looks them up again.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from lineage.db.database import is_unique_violation
from lineage.db.dialect import utcnow
from lineage.db.record import insert_row
from lineage.db.uids import random_base62, versioned_uid

if TYPE_CHECKING:
    from lineage.db.database import Connection
    from lineage.instance import Instance
    from lineage.models.run import Run
    from lineage.models.transform import Transform

_MAX_TRANSFORM_ATTEMPTS = 10


class _InstanceCache:
    """Ids that never change for one open instance."""

    __slots__ = ("environment_id", "transforms", "projects", "parents", "transform_projects",
                 "sources", "__weakref__")

    def __init__(self) -> None:
        self.environment_id: int | None = None
        self.transforms: dict[tuple[str, str], Transform] = {}
        self.projects: dict[str, int] = {}
        self.parents: dict[str, int | None] = {}
        self.transform_projects: set[tuple[int, int]] = set()
        self.sources: dict[tuple[Any, ...], tuple[Any, Any]] = {}


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
        rows = instance.db.query("SELECT id FROM environment WHERE hash = ?", [info.hash])
        if rows:
            cache.environment_id = rows[0][0]
            return cache.environment_id

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
    from lineage.db.dialect import check_text

    check_text(key, "Transform.key")  # before it is sent in a query: a clear error, not the driver's
    row = instance.db.query(f"{Transform.select_sql()} WHERE key = ? AND hash = ?", [key, digest])
    if row:  # the common case needs no write lock
        transform = Transform.from_row(row[0], instance.db.dialect)
        cache.transforms[(key, digest)] = transform
        return transform
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
            if not is_unique_violation(exc):
                raise
            if attempt >= 1 and not instance.db.is_sqlite:
                # Creators of a key are serialized (advisory lock): a visible winner
                # would have been found by now, so the row in the way is hidden.
                raise _hidden_transform(key) from None
            if attempt == _MAX_TRANSFORM_ATTEMPTS - 1:
                raise
    cache.transforms[(key, digest)] = transform
    return transform


def _hidden_transform(key: str) -> Exception:
    """The error for a transform key whose versions are in a space this role cannot read."""
    from lineage.errors import PermissionDenied

    return PermissionDenied(
        f"permission denied: the transform key {key!r} (this source, or the key's latest "
        "version) belongs to a record in a space this role cannot read, and transform keys and "
        "versions are shared by the whole instance. Ask a member of that space to move the "
        "transform to 'all' (lineage.lifecycle.move_to_space(transform, 'all')), or track this "
        "code under another key (ln.track(key=...)).")


def _lock_id(namespace: str, name: str) -> int:
    """A signed 64-bit advisory-lock id for `name` (stable across processes)."""
    import hashlib

    digest = hashlib.sha256(f"lineage:{namespace}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


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
    rows = instance.db.query("SELECT id FROM project WHERE name = ?",
                             [instance.db.dialect.encode("str", name)])  # refuses NUL clearly
    if rows:
        return rows[0][0]
    from lineage.models.project import Project

    project = Project(name=name)
    if project.id is None:
        project._assign(created_by_id=instance.user_id())
        project.save()  # adopts the project another writer created meanwhile
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
class ResolvedFeatures:
    """Feature values validated by `validate_features` and ready to store.

    Attributes:
        items: (feature id, JSON value, label id or None) per feature.
    """

    __slots__ = ("items",)

    def __init__(self, items: tuple[tuple[int, Any, int | None], ...]) -> None:
        self.items = items


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


def clear_caches() -> None:
    """Forget every cached id, as a new process would (for tests)."""
    _caches.clear()
