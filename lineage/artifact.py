"""Artifact: a content-addressed, versioned file, folder or data frame."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from lineage.db.dialect import utcnow
from lineage.db.fields import Field, ForeignKey, Index, ManyToMany, Reverse
from lineage.db.record import Record
from lineage.db.space_column import space_field
from lineage.has_features import HasFeatures

if TYPE_CHECKING:
    from lineage.storage.hashing import FileDigest, FolderDigest
    from lineage.storage.staging import StagedCopy

#: Hash algorithm of new artifacts.
HASH_TYPE = "sha256"


def _normal_key(key: str) -> str:
    from lineage.storage.keys import validate_key

    return validate_key(key)


def _normal_prefix(prefix: str) -> str:
    from lineage.storage.keys import validate_key_prefix

    return validate_key_prefix(prefix)


class Artifact(HasFeatures, Record):
    """A file, folder or data frame saved to storage and linked to runs.

    Identity is the SHA-256 of the full content plus the size. The same key
    with new content is a new version; exactly one version per key is latest.

    Attributes:
        key: Path-like name in storage (``raw/sample.fasta``), or None.
        hash: Hex SHA-256 of the content (of the manifest for folders).
        size: Bytes (total for folders).
        version: 1, 2, ... per key.
        is_latest: True for the newest version of its key.
        storage_ongoing: True while the object is being written; such rows are
            hidden from default queries.
        object_key: Where the object lives inside its storage location.
        kind: ``"file"``, ``"folder"``, ``"reference"`` (a dataset known by
            name, no content) or ``"external"`` (an object registered in
            place, e.g. on S3: hashed, not copied, never moved or deleted
            by lineage; see `is_owned`).
        source_version: S3 version id an external object was hashed from.
        source_etag: S3 ETag an external object was hashed from.
    """

    __tablename__ = "artifact"
    uid_length = 16
    hidden_flag = "storage_ongoing"
    fields = {
        "uid": Field("str", nullable=False, unique=True, length=16),
        "key": Field("text", normalize=_normal_key, normalize_prefix=_normal_prefix),
        "description": Field("text"),
        "suffix": Field("str", nullable=False, default="", length=64),
        "kind": Field("str", nullable=False, default="file", length=32),
        "otype": Field("str", length=64),
        "size": Field("bigint", index=True),
        "hash": Field("str", length=64, index=True),
        "hash_type": Field("str", nullable=False, default=HASH_TYPE, length=16),
        "dedup_hash": Field("str", unique=True, length=64),
        "n_files": Field("int"),
        "storage_id": Field("bigint", references="storage"),
        "object_key": Field("text"),
        "run_id": Field("bigint", references="run", index=True),
        "version": Field("int", nullable=False, default=1),
        "is_latest": Field("bool", nullable=False, default=False),
        "storage_ongoing": Field("bool", nullable=False, default=True),
        "created_at": Field("datetime", nullable=False, default=utcnow),
        "updated_at": Field("datetime", nullable=False, default=utcnow),
        "created_by_id": Field("bigint", references="user_account"),
        "space_id": space_field(),
        "source_version": Field("str", length=1024),
        "source_etag": Field("str", length=128),
    }
    #: Identity, versions, the stored object and the creating run: lineage sets
    #: these; ``key`` and ``description`` are the user's.
    system_fields = frozenset({
        "uid", "suffix", "kind", "size", "hash", "hash_type", "dedup_hash", "n_files",
        "storage_id", "object_key", "run_id", "version", "is_latest", "storage_ongoing",
        "created_at", "updated_at", "created_by_id", "space_id", "source_version", "source_etag",
    })
    relations = {
        "run": ForeignKey("run_id", "Run"),
        "storage": ForeignKey("storage_id", "Storage"),
        "input_of_runs": ManyToMany("run_input", "artifact_id", "run_id", "Run"),
        "previous_runs": ManyToMany("artifact_previous_run", "artifact_id", "run_id", "Run"),
        "projects": ManyToMany("project_artifact", "artifact_id", "project_id", "Project", editable=True),
        "labels": ManyToMany("artifact_label", "artifact_id", "label_id", "Label", editable=True),
        "feature_values": Reverse("ArtifactFeatureValue", "artifact_id"),
    }
    feature_table = ("artifact_feature_value", "artifact_id")
    indexes = (Index(
        # Each space versions its own keys (migration 0007).
        "uq_artifact_latest_key", ("space_id", "key"), unique=True, where="is_latest",
        hint="A key has one latest version: to add a version to that key, save the file with "
             "ln.Artifact(path, key=...).save(); to rename, choose a key no artifact uses.",
    ), Index(
        # Lookups by key, and a key's versions in a space read in order (migration 0011).
        "ix_artifact_key_space_version", ("key", "space_id", "version"),
    ))

    # Set on artifacts built from a file, folder or data frame (not columns):
    # the path, its digest, the staged copy `save()` renames into place, and a
    # stored object found to hold the content (see `lineage.artifacts.content`).
    _source: Path | None = None
    _digest: FileDigest | FolderDigest | None = None
    _staged: StagedCopy | None = None
    _verified: tuple[int | None, str] | None = None
    _temporary_source: bool = False
    # Set on artifacts of objects registered in place (`lineage.artifacts.external`).
    _external: Any = None

    def __init__(self, data: str | os.PathLike[str] | None = None, key: str | None = None,
                 description: str | None = None, **fields: Any) -> None:
        """An artifact from a file or folder; reads and hashes all of its content.

        Construction hashes the whole content (SHA-256 plus size) and asks the
        database whether it is already stored; nothing is written until
        `save()`. If a saved artifact has the same content,
        ``ln.settings.upon_artifact_create_if_hash_exists`` decides:
        ``"warn_return_existing"`` (default) makes this object that artifact
        (its ``id`` is set; a warning says so), ``"error"`` raises
        `FileExistsError`, ``"warn_create_new"`` builds a new record. A key
        that has saved versions gets a new version when saved.

        Args:
            data: Path of a file or folder, or the URI of an S3 object to
                register in place (``s3://bucket/key``): hashed by streaming
                it once, never copied (see `lineage.artifacts.external`).
            key: Path-like name in storage, such as ``raw/sample.fasta``.
            description: Free text.

        Raises:
            FileNotFoundError: Nothing is at `data`.
            PermissionError: The content cannot be read.
            ValidationError: An empty folder, a FIFO or device, or a bad
                description.
            InvalidKeyError: A key that is absolute or escapes the storage
                location (``/x``, ``../x``); a `ValueError`.
            FileExistsError: The content exists and the setting is ``"error"``.
        """
        if data is None:
            if not fields:
                raise TypeError(
                    "ln.Artifact() needs the path of a file or folder: "
                    "ln.Artifact('data.csv', key='raw/data.csv'); for a DataFrame use "
                    "ln.Artifact.from_dataframe(df, key=...)."
                )
            # Internal: a record from raw column values (see `_from_fields`).
            super().__init__(key=key, description=description, **fields)
            return
        if fields:
            raise TypeError(
                f"Artifact() got unexpected argument(s) {', '.join(sorted(fields))}; "
                "it takes a path, key= and description=."
            )
        from lineage.artifacts.create import build

        super().__init__()
        if isinstance(data, str) and "://" in data:  # a URL: imported only then (exit-time saves)
            from lineage.artifacts.external import build_external, is_remote_uri

            if is_remote_uri(data):
                build_external(self, data, key, description)
                return
        if hasattr(data, "to_parquet") and not isinstance(data, (str, os.PathLike)):
            self._init_dataframe(data, key, description)
            return
        build(self, data, key, description, stacklevel=3)

    @classmethod
    def _from_fields(cls, **fields: Any) -> Artifact:
        """A record from raw column values, without any file (internal and tests)."""
        artifact = cls.__new__(cls)
        Record.__init__(artifact, **fields)
        return artifact

    @classmethod
    def from_dataframe(cls, df: Any, key: str | None = None,
                       description: str | None = None) -> Artifact:
        """An artifact from a pandas DataFrame, stored as parquet (``otype="DataFrame"``).

        The frame is written to a parquet file in the instance's cache folder
        (removed once saved) and hashed, as for a file.

        Raises:
            TypeError: `df` is not a DataFrame.
        """
        artifact = cls.__new__(cls)
        Record.__init__(artifact)
        artifact._init_dataframe(df, key, description)
        return artifact

    def _init_dataframe(self, df: Any, key: str | None, description: str | None) -> None:
        from lineage.artifacts.create import (
            build,
            check_description,
            check_key,
            dataframe_to_parquet,
        )

        key = check_key(key)
        check_description(description)
        path = dataframe_to_parquet(df)
        try:
            build(self, path, key, description, otype="DataFrame", suffix=".parquet",
                  temporary_source=True, stacklevel=4)
        except BaseException:
            path.unlink(missing_ok=True)
            raise

    # --- writing ----------------------------------------------------------------------
    def save(self) -> Artifact:
        """Store the content and the metadata, always in sync.

        Inserts the row flagged ``storage_ongoing`` (hidden), writes the
        object, then completes the row and makes it the latest version of its
        key in one final transaction. On any failure, what this save created
        is removed and the original exception is re-raised. Saving content
        that exists links it to the current run (the earlier run moves to
        ``previous_runs``) and restores its object if it went missing.

        Returns:
            The artifact itself, with its final ``uid`` and ``version``.

        Raises:
            ReadOnlyFieldError: A system field (hash, object_key, ...) was changed.
        """
        from lineage.artifacts.create import check_fields

        if self.id is not None:
            self.check_changes(self.changed_fields())
        check_fields(self)
        if self._external is not None:
            from lineage.artifacts.external import save_external

            return save_external(self)
        if self._source is None:
            return super().save()
        from lineage.artifacts.save import save_artifact

        return save_artifact(self)

    @property
    def is_owned(self) -> bool:
        """Whether lineage owns the object (False for one registered in place, or a reference).

        Lineage never deletes, moves or repairs an object it does not own.
        """
        return self.kind not in ("external", "reference")

    def delete(self) -> None:
        """Delete the record, its links, and its object if no other artifact uses it.

        An object registered in place (``kind="external"``) is never deleted.
        """
        from lineage.artifacts.delete import delete_artifact

        delete_artifact(self)

    # --- reading ----------------------------------------------------------------------
    def cache(self) -> Path:
        """A local path of the content, recorded as an input of the current run.

        For a local storage location this is the stored file itself
        (read-only). A remote object is downloaded once into the instance's
        cache folder and its size checked.
        """
        from lineage.artifacts.load import cache

        return cache(self)

    def open(self, mode: str = "r", **kwargs: Any) -> IO[Any]:
        """Open the stored file for reading (``"r"`` or ``"rb"``); a context manager.

        Remote objects are streamed. Recorded as an input of the current run.
        """
        from lineage.artifacts.load import open_artifact

        return open_artifact(self, mode, **kwargs)

    def load(self) -> Any:
        """The content as a Python object, recorded as an input of the current run.

        ``.csv`` and ``.parquet``: a pandas DataFrame; ``.json``: the decoded
        value; ``.txt``, ``.md``: a string; ``.npy``: a numpy array.

        Raises:
            NotImplementedError: Another suffix or a folder; use `cache()`.
        """
        from lineage.artifacts.load import load

        return load(self)

    def _move_to_space(self, space_id: int) -> None:
        """Move this artifact and its object into space `space_id`; see `lineage.artifacts.move`."""
        from lineage.artifacts.move import move_artifact

        move_artifact(self, space_id)

    @property
    def versions(self) -> Any:
        """All versions of this artifact's key (itself if it has no key), oldest first."""
        if self.key is None:
            return Artifact.filter(id=self.id)
        return Artifact.filter(key=self.key, space_id=self.space_id).order_by("version")

    def view_lineage(self, filename: Any = None, format: str | None = None,  # noqa: A002
                     **kwargs: Any) -> Any:
        """Draw this artifact's lineage with Graphviz; see `lineage.graph.render.view_lineage`."""
        from lineage.graph.render import view_lineage

        return view_lineage(self, filename, format, **kwargs)
