"""Objects registered in place: artifacts of S3 objects lineage does not own.

``ln.Artifact("s3://bucket/key")`` streams the object once to hash it (the
same SHA-256 and size as a local file with those bytes) and records where
it lives: ``kind="external"``, the bucket as a Storage row (``type
"external"`` unless it is already a lineage location), the key as
``object_key``, and the S3 version id and ETag it was hashed from
(``source_version``, ``source_etag``). Nothing is copied.

Decisions:

- Not owned: `delete()` removes the row only; `lineage doctor` never lists,
  repairs or deletes such objects or their buckets; nothing moves them.
- Identity is (space, URI, content): registering unchanged content again
  gives the same artifact; changed content is a new version of its key
  (default key ``s3/<bucket>/<key>``).
- Reading (`cache()`, `open()`, `load()`) downloads from the URI (the
  recorded version when the bucket is versioned) and checks the hash; a
  changed or missing object is an error that says so and how to fix it.
- Only ``s3://bucket/key`` (optionally ``?versionId=...``): a URI with
  credentials or other query parameters is refused, so no secret is stored.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from lineage.errors import LineageError, ValidationError

if TYPE_CHECKING:
    from lineage.artifact import Artifact
    from lineage.db.database import Connection
    from lineage.instance import Instance

#: ``artifact.kind`` of objects registered in place; ``storage.type`` of their buckets.
EXTERNAL = "external"
SCHEMES = frozenset({"s3"})


class ObjectChangedError(LineageError, OSError):
    """An object registered in place no longer holds the content that was hashed."""


@dataclass(frozen=True)
class Location:
    """Where an object registered in place lives.

    Attributes:
        bucket: The bucket.
        key: The object's key in the bucket.
        version_id: A version asked for in the URI (``?versionId=``), or None.
    """

    bucket: str
    key: str
    version_id: str | None = None

    @property
    def root(self) -> str:
        """The bucket's URL, the Storage row of the artifact."""
        return f"s3://{self.bucket}"

    @property
    def uri(self) -> str:
        """``s3://bucket/key``."""
        return f"s3://{self.bucket}/{self.key}"


def is_remote_uri(data: Any) -> bool:
    """Whether `data` is a URL of an object that can be registered in place."""
    return isinstance(data, str) and data.partition("://")[0].lower() in SCHEMES and "://" in data


def parse_uri(uri: str) -> Location:
    """The bucket, key and version of ``s3://bucket/key[?versionId=...]``.

    Raises:
        ValidationError: No bucket or key, a folder (trailing ``/``),
            credentials in the URI or query parameters other than versionId.
    """
    from lineage.capture.redact import redact_url

    parts = urlsplit(uri)
    shown = redact_url(uri)
    if "@" in parts.netloc:
        raise ValidationError(
            f"{shown} has credentials in it; lineage never stores them. Use "
            "s3://bucket/key and give credentials through AWS_ACCESS_KEY_ID/"
            "AWS_SECRET_ACCESS_KEY or AWS_PROFILE."
        )
    query = parse_qs(parts.query, keep_blank_values=True)
    if set(query) - {"versionId"} or parts.fragment:
        raise ValidationError(
            f"{shown} has parameters other than versionId; register s3://bucket/key "
            "(optionally ?versionId=...)."
        )
    key = parts.path.lstrip("/")
    if not parts.netloc or not key or key.endswith("/"):
        raise ValidationError(
            f"{shown} does not name one object; register s3://bucket/key of a file "
            "(each object of a folder separately)."
        )
    version = query.get("versionId", [None])[0] or None
    return Location(parts.netloc, key, version)


def _store(instance: Instance, location: Location) -> Any:
    return instance.store(location.root)


def _stream(store: Any, location: Location, head: dict[str, Any], sink: Any = None) -> Any:
    """Hash the object of `head` in one pass (also writing it to `sink`)."""
    from lineage.storage.hashing import hash_chunks

    chunks = store.read_object(location.key, head["size"], head["version_id"])
    return hash_chunks(chunks, sink)


def build_external(artifact: Artifact, uri: str, key: Any, description: Any) -> None:
    """Fill `artifact` from the object at `uri` (hashed here), or make it the existing record.

    Raises:
        FileNotFoundError: No object at `uri`.
        StorageError: The bucket is missing or cannot be reached.
        ObjectChangedError: The object changed while it was hashed.
    """
    import errno

    from lineage.artifacts.create import check_description, check_key, suffix_of
    from lineage.db.uids import STEM_LENGTH, versioned_uid
    from lineage.instance import current_instance
    from lineage.storage.hashing import HASH_TYPE

    location = parse_uri(uri)
    key = check_key(key) if key is not None else check_key(f"s3/{location.bucket}/{location.key}")
    description = check_description(description)
    instance = current_instance()
    store = _store(instance, location)
    try:
        head = store.head_object(location.key, location.version_id)
    except FileNotFoundError:
        what = f"version {location.version_id} of " if location.version_id else ""
        raise FileNotFoundError(
            errno.ENOENT, f"there is no {what}object {location.uri}; check the bucket and key "
            "(and the credentials' access to them)", location.uri) from None
    digest = _stream(store, location, head)
    if head["version_id"] is None:
        after = store.head_object(location.key)
        if after["etag"] != head["etag"]:
            raise ObjectChangedError(
                f"{location.uri} was overwritten while lineage hashed it; register it again "
                "once it is complete.")
    if digest.size != head["size"]:
        raise ObjectChangedError(
            f"{location.uri} read as {digest.size} bytes, S3 reported {head['size']}; "
            "register it again once it is complete.")
    dedup = identity(artifact.space_id, location.uri, digest.sha256)
    existing, family = _lookup(instance, dedup, key, artifact.space_id)
    artifact._external = location  # type: ignore[attr-defined]
    if existing is not None:
        artifact.__dict__.update(existing.__dict__)
        artifact._external = location  # type: ignore[attr-defined]
        return
    version = 1 if family is None else family[1] + 1
    stem = (artifact.uid if family is None else family[0])[:STEM_LENGTH]
    artifact._assign(
        uid=versioned_uid(stem, version), key=key, description=description,
        suffix=suffix_of(location.key), kind=EXTERNAL, size=digest.size, hash=digest.sha256,
        hash_type=HASH_TYPE, dedup_hash=dedup, object_key=location.key, version=version,
        is_latest=False, storage_ongoing=True, source_version=head["version_id"],
        source_etag=head["etag"],
    )


def identity(space_id: Any, uri: str, sha256: str) -> str:
    """``dedup_hash`` of an object registered in place: one row per (space, URI, content)."""
    return hashlib.sha256("\0".join((EXTERNAL, str(space_id), uri, sha256)).encode()).hexdigest()


def _lookup(instance: Instance, dedup: str, key: str, space_id: Any) -> tuple[Any, Any]:
    from lineage.artifact import Artifact

    select = Artifact.select_sql()
    false = instance.db.dialect.encode("bool", False)

    def work(conn: Connection) -> tuple[Any, Any]:
        row = conn.fetchone(f"{select} WHERE dedup_hash = ?", [dedup])
        family = conn.fetchone(
            "SELECT uid, version FROM artifact WHERE key = ? AND storage_ongoing = ? "
            "AND space_id = ? ORDER BY version DESC LIMIT 1", [key, false, space_id])
        return (None if row is None else Artifact.from_row(row, conn.dialect)), family

    return instance.db.read(work)


def _storage_id(instance: Instance, root: str) -> int:
    """The Storage row of the bucket: type ``external`` unless lineage already uses it."""
    from lineage.db.dialect import utcnow
    from lineage.db.uids import random_base62

    def work(conn: Connection) -> int:
        conn.execute(
            "INSERT INTO storage (uid, root, type, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [random_base62(12), root, EXTERNAL, conn.dialect.encode("datetime", utcnow())])
        return conn.scalar("SELECT id FROM storage WHERE root = ?", [root])

    return instance.db.write(work)


def save_external(artifact: Artifact) -> Artifact:
    """Insert the complete row (no object to write) as the latest version of its key.

    One write transaction. Content already registered at this URI (by a
    concurrent save) is adopted; the current run becomes the creator.
    """
    from lineage.artifact import Artifact as ArtifactClass
    from lineage.artifacts.save import _INSERT_COLUMNS, Context, _adopt_link, _update_changed
    from lineage.artifacts.stores import lock_key
    from lineage.db.uids import STEM_LENGTH, versioned_uid
    from lineage.models.links import PROJECT_ARTIFACT, link_rows_sql

    ctx = Context.current()
    if artifact.id is not None:
        _adopt_link(ctx, artifact)
        _update_changed(artifact)  # the user's fields (description, key) changed meanwhile
        return artifact
    location: Location = artifact._external  # type: ignore[attr-defined]
    storage_id = _storage_id(ctx.instance, location.root)
    columns = (*_INSERT_COLUMNS, "source_version", "source_etag")
    select = ArtifactClass.select_sql()
    a = artifact

    def work(conn: Connection) -> tuple[bool, Any]:
        d = conn.dialect
        true, false = d.encode("bool", True), d.encode("bool", False)
        now = d.encode("datetime", ctx.now)
        lock_key(conn, a.key)
        newest = conn.fetchone(
            "SELECT uid, version FROM artifact WHERE key = ? AND storage_ongoing = ? "
            "AND space_id = ? ORDER BY version DESC LIMIT 1", [a.key, false, a.space_id])
        version = 1 if newest is None else int(newest[1]) + 1
        stem = (a.uid if newest is None else newest[0])[:STEM_LENGTH]
        uid = versioned_uid(stem, version)
        values = [uid, a.key, a.description, a.suffix or "", EXTERNAL, a.otype, a.size, a.hash,
                  a.hash_type, a.dedup_hash, None, storage_id, a.object_key, ctx.run_id, version,
                  false, false, now, now, ctx.user_id, a.space_id, a.source_version,
                  a.source_etag]
        row = conn.fetchone(
            f"INSERT INTO artifact ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)}) "
            "ON CONFLICT (dedup_hash) DO NOTHING RETURNING id", values)
        if row is None:
            return False, conn.fetchone(f"{select} WHERE dedup_hash = ?", [a.dedup_hash])
        conn.execute("UPDATE artifact SET is_latest = ? WHERE key = ? AND is_latest = ? "
                     "AND space_id = ?", [false, a.key, true, a.space_id])
        conn.execute("UPDATE artifact SET is_latest = ? WHERE id = ?", [true, row[0]])
        for project_id in ctx.project_ids:
            conn.execute(link_rows_sql(PROJECT_ARTIFACT), [project_id, row[0]])
        return True, conn.fetchone(f"{select} WHERE id = ?", [row[0]])

    inserted, row = ctx.write(work)
    fresh = ArtifactClass.from_row(row, ctx.db.dialect)
    artifact.__dict__.update(fresh.__dict__)
    artifact._external = location  # type: ignore[attr-defined]
    if not inserted:
        _adopt_link(ctx, artifact)
    return artifact


def location_of(artifact: Artifact) -> Location:
    """Where the object of an external artifact lives (its bucket and key)."""
    from lineage.artifacts.stores import storage_root
    from lineage.instance import current_instance

    root = storage_root(current_instance(), artifact.storage_id)
    return Location(root.partition("://")[2].strip("/"), artifact.object_key,
                    artifact.source_version)


def local_copy(artifact: Artifact) -> Path:
    """A verified local copy of an external artifact's object, downloaded once.

    Cached by content hash; a download is hashed as it is written and kept
    only if it matches the recorded hash.

    Raises:
        FileNotFoundError: The object (or its recorded version) is gone.
        ObjectChangedError: The object now holds other content.
    """
    import errno

    from lineage.instance import current_instance

    instance = current_instance()
    sha = artifact.hash
    dest = instance.cache_dir / EXTERNAL / sha[:2] / f"{sha}{artifact.suffix or ''}"
    try:
        if dest.is_file() and dest.stat().st_size == artifact.size:
            return dest
    except OSError:
        pass
    location = location_of(artifact)
    store = _store(instance, location)
    fix = ("lineage keeps no copy of objects registered in place: restore the object at "
           "that URI, or register what is there now as a new version with "
           f"ln.Artifact({location.uri!r}).save()")
    pinned = f" (version {location.version_id})" if location.version_id else ""
    try:
        head = store.head_object(location.key, location.version_id)
    except FileNotFoundError:
        raise FileNotFoundError(
            errno.ENOENT, f"the object {location.uri}{pinned} of artifact {artifact.uid} no "
            f"longer exists; {fix}", location.uri) from None
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.part")
    try:
        with open(tmp, "wb") as f:
            digest = _stream(store, location, head, f.write)
        if (digest.sha256, digest.size) != (artifact.hash, artifact.size):
            versioning = "" if location.version_id else (
                "; with versioning enabled on the bucket lineage records the version id and "
                "reads exactly the version it hashed")
            raise ObjectChangedError(
                f"the object {location.uri}{pinned} of artifact {artifact.uid} changed since "
                f"it was registered: it now has SHA-256 {digest.sha256[:16]}... and "
                f"{digest.size} bytes, recorded {artifact.hash[:16]}... and {artifact.size} "
                f"bytes. {fix[0].upper()}{fix[1:]}{versioning}.")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest
