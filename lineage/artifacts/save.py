"""The save protocol: data and metadata stay in sync.

For each new artifact::

    1. transaction: INSERT the row flagged storage_ongoing (hidden from default
       queries), is_latest false, a provisional random uid
    2. write the object to its content-addressed key (all or nothing)
    3. transaction: clear the flag, assign the version (max complete version
       of the key + 1) and the versioned uid, clear is_latest on the previous
       latest version and set it on this one, link projects

Any failure before step 3 commits deletes the row (if this save inserted it
and it is still flagged) and the object (if this save created it and no row
points at it), then re-raises the original exception unchanged. A process
killed in between leaves at most a flagged row, which the next save of the
same content completes and `lineage doctor` repairs or removes. A creating
run that is a deferred engine run not written yet is written in the save's
first transaction (`Context.write`): the rows that point at it commit with it.

Decisions:

- Identical content saved concurrently (default settings): the unique
  ``dedup_hash`` makes the second INSERT find the first writer's row. If it
  is complete, it is adopted (returned, linked to this run as re-created).
  If it is still flagged, this save takes it over at once instead of
  waiting: it writes the object itself (content-addressed, so both writes
  store the same bytes) and finalizes the row; the finalize only applies
  ``WHERE storage_ongoing``, so exactly one writer completes the row and the
  other adopts it. A row left by a killed process is completed the same way.
  If the row disappears meanwhile (its owner failed and removed it), the
  save starts over.
- Versions are assigned in the final transaction, under a per-key lock
  (SQLite's write lock, a PostgreSQL advisory lock), so a save's version is
  the latest with the highest number and numbers have no gaps (a dead
  writer's row completed by `lineage doctor` takes the next number but not
  the latest over a version created after it: ``Item.by_creation_time``). The uid of a new
  artifact is final only once ``save()`` returns (the flagged row carries a
  random one, so it can never collide with a version's uid).
"""

from __future__ import annotations

import os
import secrets
import string
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lineage.artifacts.stores import (
    for_update,
    lock_key,
    object_key_in_space,
    object_referenced,
    store_of,
)
from lineage.db.database import is_unique_violation
from lineage.db.dialect import utcnow
from lineage.db.uids import STEM_LENGTH, random_base62, versioned_uid
from lineage.errors import BulkSaveError, LineageError
from lineage.storage.hashing import FileDigest, FolderDigest
from lineage.storage.seal import SEAL_MIN_SIZE
from lineage.storage.progress import PROGRESS_THRESHOLD, progress_bar

if TYPE_CHECKING:
    from datetime import datetime

    from lineage.artifact import Artifact
    from lineage.db.database import Connection, Database
    from lineage.instance import Instance
    from lineage.models.run import Run
    from lineage.storage.base import ObjectStore

T = TypeVar("T")

#: How often a save starts over when its row vanished under it.
MAX_ATTEMPTS = 5
#: How often the final transaction is retried after a unique violation.
FINALIZE_ATTEMPTS = 4
#: Parallel uploads of a bulk save (local, remote stores).
LOCAL_WORKERS = 8
REMOTE_WORKERS = 8

# Columns written by INSERT, in order.
_INSERT_COLUMNS = (
    "uid", "key", "description", "suffix", "kind", "otype", "size", "hash", "hash_type",
    "dedup_hash", "n_files", "storage_id", "object_key", "run_id", "version", "is_latest",
    "storage_ongoing", "created_at", "updated_at", "created_by_id", "space_id",
)


@dataclass
class Context:
    """What every row of one save shares: run, user, projects, time.

    Attributes:
        run: The creating run (or its id), None for none. A deferred engine
            run not written yet is written inside the save's first
            transaction (`write`), so no artifact row points at a run that
            is not stored, whatever crash comes between.
    """

    instance: Instance
    db: Database
    run: Run | int | None
    user_id: int
    project_ids: list[int]
    now: datetime

    @property
    def run_id(self) -> int | None:
        """The creating run's id (read it inside `write`: a deferred run is written there)."""
        run = self.run
        return run if run is None or isinstance(run, int) else run.id

    def write(self, work: Callable[[Connection], T]) -> T:
        """``db.write(work)``, a deferred creating run written in the same transaction."""
        deferred = sys.modules.get("lineage.lifecycle.deferred")  # loaded once a run was deferred
        if deferred is None or isinstance(self.run, (int, type(None))):
            return self.db.write(work)
        with deferred.joining(self.run):
            return self.db.write(work)

    @classmethod
    def current(cls) -> Context:
        """The context of the calling thread (current instance and run)."""
        from lineage.context import current_run
        from lineage.instance import current_instance

        instance = current_instance()
        run = current_run()
        project_ids: list[int] = []
        if run is not None:
            try:
                from lineage.lifecycle import run_project_ids
            except ImportError:  # pragma: no cover - the lifecycle ships with lineage
                run_project_ids = None  # type: ignore[assignment]
            if run_project_ids is not None:
                project_ids = run_project_ids(run)
        return cls(instance, instance.db, run, instance.user_id(), project_ids, utcnow())


@dataclass
class Item:
    """One artifact moving through the protocol."""

    artifact: Artifact
    store: ObjectStore
    storage_id: int | None
    object_key: str
    user_id: int | None
    row_id: int | None = None
    took_over: bool = False
    object_existed: bool = True
    upload_started: bool = False
    uploaded: bool = False
    outcome: str = ""  # "", "adopted" (a complete row with this content), "gone", "done"
    row: tuple | None = None
    #: Completing a dead writer's row (`lineage doctor`): it becomes latest only
    #: if no complete version of its key was created after it.
    by_creation_time: bool = False


# --- entry points ---------------------------------------------------------------------
def save_artifact(artifact: Artifact) -> Artifact:
    """Save one artifact with the protocol above; re-raises the original error."""
    if artifact.id is not None:
        ctx = Context.current()
        if artifact._source is not None:
            _heal(ctx, artifact)
            _adopt_link(ctx, artifact)
        _update_changed(artifact)
        _drop_temporary_source(artifact)
        return artifact
    for _ in range(MAX_ATTEMPTS):
        ctx = Context.current()
        item = prepare(ctx, artifact)
        try:
            insert_flagged(ctx, [item])
            if item.outcome == "adopted":
                return _adopt(ctx, item)
            upload(item)
            finalize(ctx, [item])
        except BaseException as exc:
            cleanup(ctx, [item], exc)
            raise
        if item.outcome == "gone":
            artifact.id = None
            continue
        if item.outcome == "adopted":
            return _adopt(ctx, item)
        _drop_temporary_source(artifact)
        return artifact
    raise LineageError(
        f"could not save {artifact._source}: its metadata row was removed by another process "
        f"{MAX_ATTEMPTS} times in a row (is `lineage doctor --fix --grace 0` running?). Retry."
    )


def save_artifacts(artifacts: Sequence[Artifact]) -> None:
    """Save many artifacts in few transactions (see `lineage.bulk.save`).

    Raises:
        BulkSaveError: Some uploads failed; completed artifacts stay saved.
        KeyboardInterrupt: Re-raised after the same clean-up.
    """
    if not artifacts:
        return
    ctx = Context.current()
    existing = [a for a in artifacts if a.id is not None]
    primaries: list[Artifact] = []
    duplicates: list[tuple[Artifact, Artifact]] = []
    by_hash: dict[str, Artifact] = {}
    for a in artifacts:
        if a.id is not None:
            continue
        first = by_hash.get(a.dedup_hash) if a.dedup_hash else None
        if first is not None:
            duplicates.append((a, first))
            continue
        if a.dedup_hash:
            by_hash[a.dedup_hash] = a
        primaries.append(a)
    try:
        items = [prepare(ctx, a) for a in primaries]
        if items:
            insert_flagged(ctx, items)
    except BaseException as exc:
        if not isinstance(exc, Exception):
            raise
        raise BulkSaveError([], list(artifacts), exc) from exc
    adopted = [i for i in items if i.outcome == "adopted"]
    todo = [i for i in items if i.outcome == ""]
    for item in adopted:
        _become(item.artifact, item.row, ctx)
    recreated = existing + [i.artifact for i in adopted]
    failure: BaseException | None = None
    try:
        _upload_all(ctx, todo, [a for a in existing if a._source is not None])
    except BaseException as exc:  # noqa: BLE001 - handled below, re-raised
        failure = exc
    done = [i for i in todo if i.uploaded]
    failed = [i for i in todo if not i.uploaded]
    try:
        finalize(ctx, done, recreated=recreated)
    except BaseException as exc:
        cleanup(ctx, todo, exc)
        if not isinstance(exc, Exception):
            raise
        cause = failure or exc
        raise BulkSaveError([], list(artifacts), cause) from cause
    for artifact in recreated:
        _apply_run(artifact, ctx)
    if failed:
        cleanup(ctx, failed, failure)
    retry = [i.artifact for i in done if i.outcome == "gone"]
    for item in done:
        if item.outcome == "adopted":
            _become(item.artifact, item.row, ctx)
            _adopt_link(ctx, item.artifact)
    for artifact in retry:
        artifact.id = None
        save_artifact(artifact)
    for dup, first in duplicates:
        if first.id is not None and not first.storage_ongoing:
            _copy_record(dup, first)
    saved = [a for a in artifacts if a.id is not None and not a.storage_ongoing]
    for a in saved:
        _drop_temporary_source(a)
    if failure is not None:
        if not isinstance(failure, Exception):
            raise failure
        not_saved = [a for a in artifacts if a not in saved]
        raise BulkSaveError(saved, not_saved, failure) from failure


# --- steps ------------------------------------------------------------------------------
def prepare(ctx: Context, artifact: Artifact) -> Item:
    """Open the default store (StorageError here leaves no trace) and build the item."""
    instance = ctx.instance
    store = instance.store()
    storage_id = instance.storage_id()
    digest = artifact._digest
    suffix = "" if isinstance(digest, FolderDigest) else (artifact.suffix or "")
    object_key = object_key_in_space(instance, artifact.space_id, artifact.hash, suffix)
    return Item(artifact, store, storage_id, object_key, ctx.user_id)


def insert_flagged(ctx: Context, items: list[Item]) -> None:
    """Step 1: one transaction inserting a flagged row per item.

    An item whose content already has a row (``dedup_hash``) gets
    ``outcome = "adopted"`` (complete row) or ``took_over`` (flagged row).
    """
    columns = ", ".join(_INSERT_COLUMNS)
    marks = ", ".join("?" for _ in _INSERT_COLUMNS)
    sql = (f"INSERT INTO artifact ({columns}) VALUES ({marks}) "
           "ON CONFLICT (dedup_hash) DO NOTHING RETURNING id")
    from lineage.artifact import Artifact

    select = Artifact.select_sql()
    uids = {id(item): provisional_uid(item.artifact.uid) for item in items}

    # One order for all writers (by content hash), so two bulk saves of
    # overlapping content wait for each other instead of deadlocking.
    ordered = sorted(items, key=lambda i: i.artifact.dedup_hash or "")

    def work(conn: Connection) -> dict[int, tuple[int | None, tuple | None]]:
        d = conn.dialect
        now = d.encode("datetime", ctx.now)
        results: dict[int, tuple[int | None, tuple | None]] = {}
        for item in ordered:
            a = item.artifact
            values = [
                uids[id(item)], a.key, a.description, a.suffix or "", a.kind, a.otype, a.size,
                a.hash, a.hash_type, a.dedup_hash, a.n_files, item.storage_id, item.object_key,
                ctx.run_id, a.version or 1, d.encode("bool", False), d.encode("bool", True),
                now, now, item.user_id, a.space_id,
            ]
            unseen = 0
            for _ in range(MAX_ATTEMPTS):
                row = conn.fetchone(sql, values)
                if row is not None:
                    results[id(item)] = (row[0], None)
                    break
                other = conn.fetchone(f"{select} WHERE dedup_hash = ?{for_update(conn)}",
                                      [a.dedup_hash])
                if other is not None and other[_column_index("space_id")] != a.space_id:
                    other = None
                    unseen = 1  # another space's record: this space gets its own
                if other is None:
                    unseen += 1
                    if unseen > 1:  # the holder stays unseen: a space this role cannot read
                        values[_INSERT_COLUMNS.index("dedup_hash")] = None
                        a._assign(dedup_hash=None)  # its own record of the shared object
                    continue  # or deleted in between: insert again
                if d.decode("bool", other[_column_index("storage_ongoing")]):
                    conn.execute("UPDATE artifact SET updated_at = ? WHERE id = ?", [now, other[0]])
                results[id(item)] = (None, other)
                break
            else:
                raise LineageError(f"could not insert the row of {a._source}; retry the save.")
        return results

    results = ctx.write(work)
    for item in items:
        row_id, other = results[id(item)]
        if row_id is not None:
            item.row_id = row_id
            item.artifact.id = row_id
            item.artifact._assign(uid=uids[id(item)])
            continue
        assert other is not None
        if ctx.db.dialect.decode("bool", other[_column_index("storage_ongoing")]):
            item.row_id = other[0]
            item.took_over = True
            item.artifact.id = other[0]
            item.artifact._assign(uid=other[_column_index("uid")])
        else:
            item.outcome = "adopted"
            item.row = other


def upload(item: Item, progress: Any = None) -> None:
    """Step 2: write the object (a no-op copy when the object already exists)."""
    a = item.artifact
    store = item.store
    item.object_existed = store.exists(item.object_key)
    item.upload_started = True
    if progress is None and a.size is not None and a.size >= PROGRESS_THRESHOLD:
        with progress_bar(a._source.name, a.size) as advance:
            _put(store, a, item.object_key, advance)
    else:
        _put(store, a, item.object_key, progress)
    item.uploaded = True


def _put(store: ObjectStore, artifact: Artifact, object_key: str, progress: Any) -> None:
    """Store the content: rename the staged copy into place, else copy (or upload) once more.

    Either way the bytes stored are the bytes hashed: a copy made now is
    hashed as it is written and must match the construction digest.
    """
    staged = artifact._staged
    if staged is not None and not staged.done and staged.store_root == store.root:
        try:
            store.commit_staged(staged, object_key)
            if progress is not None:
                progress(staged.digest.size)
            return
        except FileNotFoundError:  # swept by `lineage doctor` meanwhile: copy again
            staged.done = True
    digest = artifact._digest
    if isinstance(digest, FolderDigest):
        store.put_folder(artifact._source, object_key, digest=digest, progress=progress)
    else:
        store.put_file(artifact._source, object_key, digest=digest, progress=progress)


def finalize(ctx: Context, items: list[Item], *, recreated: Sequence[Artifact] = ()) -> None:
    """Step 3: one transaction completing every item (and linking re-created ones)."""
    if not items and not recreated:
        return
    for attempt in range(FINALIZE_ATTEMPTS):
        fresh_stem = attempt > 0
        try:
            outcomes = ctx.write(
                lambda conn, fresh=fresh_stem: _finalize_work(conn, ctx, items, recreated, fresh))
            break
        except Exception as exc:
            if attempt + 1 == FINALIZE_ATTEMPTS or not is_unique_violation(exc):
                raise
    for item, (outcome, payload) in zip(items, outcomes, strict=True):
        item.outcome = outcome
        if outcome == "done":
            _apply_final(item, payload, ctx)
        elif outcome == "adopted":
            item.row = payload


def _finalize_work(conn: Connection, ctx: Context, items: list[Item],
                   recreated: Sequence[Artifact], fresh_stem: bool) -> list[tuple[str, Any]]:
    from lineage.artifact import Artifact
    from lineage.models.links import ARTIFACT_PREVIOUS_RUN, PROJECT_ARTIFACT, link_rows_sql

    d = conn.dialect
    true, false = d.encode("bool", True), d.encode("bool", False)
    now = d.encode("datetime", ctx.now)
    select = Artifact.select_sql()
    outcomes: list[tuple[str, Any]] = []
    for key in sorted({i.artifact.key for i in items if i.artifact.key is not None}):
        lock_key(conn, key)  # in one order for all writers: no deadlock between batches
    for item in items:
        a = item.artifact
        row = conn.fetchone(f"{select} WHERE id = ?{for_update(conn)}", [item.row_id])
        if row is None:
            outcomes.append(("gone", None))
            continue
        if not d.decode("bool", row[_column_index("storage_ongoing")]):
            outcomes.append(("adopted", row))
            continue
        if a.key is not None:
            newest = conn.fetchone(
                "SELECT uid, version FROM artifact WHERE key = ? AND storage_ongoing = ? "
                "AND space_id = ? ORDER BY version DESC LIMIT 1", [a.key, false, a.space_id])
            version = 1 if newest is None else int(newest[1]) + 1
            if fresh_stem:  # retry after a uid collision (a key renamed into this family)
                stem = None
            elif newest is not None:
                stem = newest[0][:STEM_LENGTH]
            else:
                stem = row[_column_index("uid")][:STEM_LENGTH]
            uid = versioned_uid(stem, version)
            latest = not (item.by_creation_time and conn.fetchone(
                "SELECT 1 FROM artifact WHERE key = ? AND storage_ongoing = ? AND created_at > ? "
                "AND space_id = ? LIMIT 1",
                [a.key, false, row[_column_index("created_at")], a.space_id]))
            if latest:
                conn.execute("UPDATE artifact SET is_latest = ? WHERE key = ? AND is_latest = ? "
                             "AND space_id = ?", [false, a.key, true, a.space_id])
        else:
            version, uid = 1, versioned_uid(row[_column_index("uid")][:STEM_LENGTH], 1)
            latest = True
        run_id = ctx.run_id
        previous = row[_column_index("run_id")] if item.took_over else None
        if previous is not None and previous != run_id:
            conn.execute(link_rows_sql(ARTIFACT_PREVIOUS_RUN), [item.row_id, previous, now])
        conn.execute(
            "UPDATE artifact SET storage_ongoing = ?, is_latest = ?, version = ?, uid = ?, key = ?, "
            "description = ?, otype = ?, run_id = ?, created_by_id = ?, storage_id = ?, "
            "object_key = ?, updated_at = ? WHERE id = ?",
            [false, d.encode("bool", latest), version, uid, a.key, a.description, a.otype,
             run_id, item.user_id, item.storage_id, item.object_key, now, item.row_id],
        )
        for project_id in ctx.project_ids:
            conn.execute(link_rows_sql(PROJECT_ARTIFACT), [project_id, item.row_id])
        outcomes.append(("done", {"version": version, "uid": uid, "run_id": run_id,
                                  "is_latest": latest,
                                  "created_at": row[_column_index("created_at")]}))
    for artifact in recreated:
        link_recreated(conn, artifact, ctx)
    return outcomes


def link_recreated(conn: Connection, artifact: Artifact, ctx: Context) -> None:
    """Make the current run the creator of an existing artifact saved again.

    The earlier creating run moves to ``artifact.previous_runs``. Without a
    current run nothing changes.
    """
    from lineage.models.links import ARTIFACT_PREVIOUS_RUN, PROJECT_ARTIFACT, link_rows_sql

    run_id = ctx.run_id
    if run_id is None:
        return
    old = conn.fetchone(f"SELECT run_id FROM artifact WHERE id = ?{for_update(conn)}", [artifact.id])
    if old is None:
        from lineage.errors import DoesNotExist

        raise DoesNotExist(
            f"artifact {artifact.uid} was deleted by another process; construct it again "
            "from its file and save."
        )
    if old[0] != run_id:
        now = conn.dialect.encode("datetime", ctx.now)
        if old[0] is not None:
            conn.execute(link_rows_sql(ARTIFACT_PREVIOUS_RUN), [artifact.id, old[0], now])
        conn.execute("DELETE FROM artifact_previous_run WHERE artifact_id = ? AND run_id = ?",
                     [artifact.id, run_id])
        conn.execute("UPDATE artifact SET run_id = ?, updated_at = ? WHERE id = ?",
                     [run_id, now, artifact.id])
    for project_id in ctx.project_ids:
        conn.execute(link_rows_sql(PROJECT_ARTIFACT), [project_id, artifact.id])


def cleanup(ctx: Context, items: list[Item], error: BaseException | None) -> None:
    """Remove what failed saves created; never raises (notes go on `error`).

    A row is deleted only if this save inserted it and it is still flagged;
    an object only if this save started writing it, it did not exist before,
    and no row points at it. The object is deleted inside the transaction,
    so (SQLite: the write lock; PostgreSQL: the unique dedup_hash) a writer
    that needs it waits and then writes it again.
    """
    from lineage.artifact import Artifact
    from lineage.db.record import delete_rows

    todo = [i for i in items if i.outcome != "done" and (
        (i.row_id is not None and not i.took_over) or (i.upload_started and not i.object_existed))]
    if not todo:
        _reset(items)
        return

    def work(conn: Connection) -> None:
        for item in todo:
            if item.row_id is not None and not item.took_over:
                flagged = conn.fetchone(
                    f"SELECT storage_ongoing FROM artifact WHERE id = ?{for_update(conn)}", [item.row_id])
                if flagged is not None and conn.dialect.decode("bool", flagged[0]):
                    delete_rows(conn, Artifact, item.row_id)
            if item.upload_started and not item.object_existed and not object_referenced(
                    conn, item.storage_id, item.object_key):
                item.store.delete(item.object_key)

    try:
        ctx.db.write(work)
    except BaseException as exc:  # noqa: BLE001 - the original error matters more
        if error is not None and hasattr(error, "add_note"):
            error.add_note(
                f"lineage could not clean up after the failed save ({type(exc).__name__}: {exc}); "
                "run `lineage doctor --fix` to remove what is left."
            )
    _reset(items)


def _reset(items: list[Item]) -> None:
    """Make failed artifacts unsaved again, so ``save()`` can be retried."""
    for item in items:
        if item.outcome not in ("done", "adopted"):
            item.artifact.id = None
            item.artifact._assign(storage_ongoing=True)


# --- helpers --------------------------------------------------------------------------
def provisional_uid(uid: str | None) -> str:
    """The uid of a flagged row: the stem of `uid` and a suffix no version uses.

    Version suffixes are base62 numbers starting with ``0`` (below version
    238,329); a provisional suffix starts with a lowercase letter, so it can
    never take the uid a completed version will need.
    """
    stem = (uid or random_base62(STEM_LENGTH))[:STEM_LENGTH]
    return stem + secrets.choice(string.ascii_lowercase) + random_base62(3)


def _upload_all(ctx: Context, items: list[Item], heal: list[Artifact]) -> None:
    """Upload items (in parallel when there are several); the first error is raised.

    Items whose upload completed have ``uploaded`` set, even when another
    failed: they are finalized by the caller.
    """
    for artifact in heal:
        _heal(ctx, artifact)
    if not items:
        return
    total = sum(i.artifact.size or 0 for i in items)
    label = items[0].artifact._source.name if len(items) == 1 else f"{len(items)} artifacts"
    with progress_bar(f"saving {label}", total) as advance:
        if len(items) == 1:
            upload(items[0], advance)
            return
        remote = items[0].store.local_path(items[0].object_key) is None
        workers = min(REMOTE_WORKERS if remote else LOCAL_WORKERS, len(items))
        stop = threading.Event()
        durable_stores = _defer_local_sync(items)

        def one(item: Item) -> None:
            if not stop.is_set():
                upload(item, advance)

        pool = ThreadPoolExecutor(workers, thread_name_prefix="lineage-upload")
        futures: list[Any] = []
        try:
            futures = [pool.submit(one, item) for item in items]
            wait(futures, return_when=FIRST_EXCEPTION)
            errors = [f.exception() for f in futures if f.done() and f.exception() is not None]
            if errors:
                stop.set()
                for f in futures:
                    f.cancel()
                wait(futures)
                raise errors[0]
        except BaseException:
            stop.set()
            for f in futures:
                f.cancel()
            raise
        finally:
            # Completed uploads are finalized even when another failed: make
            # them durable (and restore the stores) whatever happened.
            _sync_deferred(items, durable_stores, pool)
            pool.shutdown(wait=True)


def _defer_local_sync(items: list[Item]) -> dict[int, ObjectStore]:
    """Point items of durable local stores at a non-durable twin; returns the originals.

    A bulk save then fsyncs each new object and folder once, in parallel
    (`_sync_deferred`), instead of file, folder, file, folder, ... in turn.
    """
    from lineage.storage.local import LocalStore

    originals: dict[int, ObjectStore] = {}
    twins: dict[str, ObjectStore] = {}
    for item in items:
        store = item.store
        if isinstance(store, LocalStore) and store.durable:
            originals[id(item)] = store
            item.store = twins.setdefault(store.root, LocalStore(store.root, durable=False))
    return originals


def _sync_deferred(items: list[Item], originals: dict[int, ObjectStore], pool: ThreadPoolExecutor) -> None:
    """fsync what the twins wrote (files, then their folders) and restore the stores."""
    paths: set[str] = set()
    folders: set[str] = set()
    for item in items:
        original = originals.get(id(item))
        if original is None:
            continue
        item.store = original
        if not item.uploaded or item.object_existed:
            continue
        local = original.local_path(item.object_key)
        if local is None:
            continue
        files = [local] if local.is_file() else [p for p in local.rglob("*") if p.is_file()]
        paths.update(str(f) for f in files)
        root = Path(original.root)
        for f in files:
            for parent in f.parents:  # up to the store root: new shard folders too
                folders.add(str(parent))
                if parent == root:
                    break
    if paths:
        list(pool.map(_fsync_path, sorted(paths)))
        list(pool.map(_fsync_path, sorted(folders)))
    for item in items:  # durable now: large files are sealed as a durable store seals its writes
        digest = item.artifact._digest
        if (id(item) in originals and item.uploaded and not item.object_existed
                and isinstance(digest, FileDigest) and digest.size >= SEAL_MIN_SIZE):
            item.store.seal(item.object_key, digest)


def _fsync_path(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _heal(ctx: Context, artifact: Artifact) -> None:
    """Write the object of an existing artifact again unless it holds exactly its content.

    Content, not size: a same-size corrupt object is replaced from the file
    (verified against the hash as it is copied). An object already found
    intact at construction (`lineage.artifacts.content`) is not read again.
    """
    if not artifact.object_key:
        return
    if artifact._verified == (artifact.storage_id, artifact.object_key):
        return
    store = store_of(ctx.instance, artifact.storage_id)
    digest = artifact._digest
    if digest is None or (digest.sha256, digest.size) != (artifact.hash, artifact.size):
        return  # not built from this content's file: nothing to repair from
    if not store.holds(artifact.object_key, digest):
        _put(store, artifact, artifact.object_key, None)


def _apply_final(item: Item, final: dict[str, Any], ctx: Context) -> None:
    a = item.artifact
    a.id = item.row_id
    a._assign(
        uid=final["uid"], version=final["version"], run_id=final["run_id"],
        is_latest=final["is_latest"],
        storage_ongoing=False, storage_id=item.storage_id, object_key=item.object_key,
        created_at=ctx.db.dialect.decode("datetime", final["created_at"]), updated_at=ctx.now,
        created_by_id=item.user_id,
    )
    a.mark_saved(ctx.db.dialect)


def _adopt(ctx: Context, item: Item) -> Artifact:
    """The content was saved by someone else: become that record, link as re-created."""
    _become(item.artifact, item.row, ctx)
    _adopt_link(ctx, item.artifact)
    _drop_temporary_source(item.artifact)
    return item.artifact


def _adopt_link(ctx: Context, artifact: Artifact) -> None:
    """`link_recreated` in a transaction of its own; none without a current run (nothing to link)."""
    if ctx.run is None:
        return
    ctx.write(lambda conn: link_recreated(conn, artifact, ctx))
    _apply_run(artifact, ctx)


def _become(artifact: Artifact, row: tuple | None, ctx: Context) -> None:
    from lineage.artifact import Artifact as ArtifactClass

    fresh = ArtifactClass.from_row(row, ctx.db.dialect)  # type: ignore[arg-type]
    artifact.__dict__.update(fresh.__dict__)


def _copy_record(target: Artifact, source: Artifact) -> None:
    import copy

    target.id = source.id
    target._assign(**{name: getattr(source, name) for name in source.fields})
    target._loaded = copy.copy(source._loaded)
    target._loaded_raw = copy.copy(source._loaded_raw)


def _apply_run(artifact: Artifact, ctx: Context) -> None:
    if ctx.run_id is not None and artifact.run_id != ctx.run_id:
        artifact._assign(run_id=ctx.run_id)
        artifact._loaded["run_id"] = ctx.run_id
        artifact._loaded_raw["run_id"] = ctx.run_id


def _update_changed(artifact: Artifact) -> None:
    if artifact.changed_fields():
        from lineage.db.cas import update_changed
        from lineage.db.record import current_db

        update_changed(current_db(), artifact)


def _drop_temporary_source(artifact: Artifact) -> None:
    """Drop an unused staged copy, and delete the parquet file `from_dataframe` wrote."""
    if artifact._staged is not None:
        artifact._staged.discard()
        artifact._staged = None
    if artifact._temporary_source and artifact._source is not None:
        try:
            artifact._source.unlink(missing_ok=True)
        except OSError:
            pass
        artifact._temporary_source = False


_INDEX: dict[str, int] = {}


def _column_index(name: str) -> int:
    if not _INDEX:
        from lineage.artifact import Artifact

        _INDEX.update({c: i for i, c in enumerate(Artifact.columns())})
    return _INDEX[name]
