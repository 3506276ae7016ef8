"""Building an artifact from a file, a folder or a data frame.

Construction reads and hashes the whole content (SHA-256 plus size: the
artifact's identity; see `lineage.artifacts.content` for how that one read
may also stage the copy `save()` stores), then asks the database once
whether that content is already stored and which version the key is at.
No row is written: the row and the object are made final by
`lineage.artifacts.save`.
"""

from __future__ import annotations

import errno
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lineage.db.uids import STEM_LENGTH, versioned_uid
from lineage.errors import ValidationError
from lineage.artifacts.content import attach, read_content
from lineage.storage.hashing import HASH_TYPE, FileDigest, FolderDigest
from lineage.storage.keys import validate_key, validate_suffix

if TYPE_CHECKING:
    from lineage.artifact import Artifact

#: Extensions that wrap another one: ``table.csv.gz`` keeps ``.csv.gz``.
COMPRESSIONS = frozenset({".gz", ".bz2", ".xz", ".zst", ".zip", ".lz4", ".br"})


def suffix_of(name: str) -> str:
    """The stored suffix of a file name: ``.csv``, ``.csv.gz``, or ``""``.

    Only plain extensions are kept (letters, digits, ``_+~-``), so the
    content-addressed object key stays a safe path on every store.
    """
    path = Path(name)
    suffixes = path.suffixes
    if not suffixes:
        return ""
    last = suffixes[-1]
    candidate = last
    if last.lower() in COMPRESSIONS and len(suffixes) > 1:
        candidate = suffixes[-2] + last
    for option in (candidate, last):
        try:
            return validate_suffix(option)
        except ValidationError:
            continue
    return ""


def check_fields(artifact: Artifact) -> None:
    """Check the user-editable fields before a save (they may have been changed).

    Raises:
        InvalidKeyError, ValidationError: As at construction.
    """
    if artifact.key is not None:
        artifact.key = validate_key(artifact.key)
    check_description(artifact.description)


def check_key(key: Any) -> str | None:
    """None, or the normalized key.

    Raises:
        InvalidKeyError: A ``ValueError``: absolute, escaping, empty, ...
    """
    return None if key is None else validate_key(key)


def check_description(description: Any) -> str | None:
    """None, or the description if it is a string.

    Raises:
        ValidationError: Not a string.
    """
    if description is not None and not isinstance(description, str):
        raise ValidationError(
            f"description must be a string, got {type(description).__name__}: {description!r}."
        )
    if description is not None and "\x00" in description:
        raise ValidationError(
            "description contains a NUL character (\\x00), which PostgreSQL cannot store; "
            "remove it."
        )
    return description


def build(
    artifact: Artifact,
    data: Any,
    key: Any,
    description: Any,
    *,
    otype: str | None = None,
    suffix: str | None = None,
    temporary_source: bool = False,
    stacklevel: int = 3,
) -> None:
    """Fill `artifact` from `data` (a path), or make it the existing record.

    See `Artifact.__init__` for the rules. `stacklevel` points warnings at
    the user's line.
    """
    from lineage.instance import current_instance

    if not isinstance(data, (str, os.PathLike)):
        raise TypeError(
            f"ln.Artifact() takes the path of a file or folder, got {type(data).__name__}. "
            "For a pandas DataFrame use ln.Artifact.from_dataframe(df, key=...)."
        )
    key = check_key(key)
    description = check_description(description)
    path = Path(os.fspath(data)).expanduser().absolute()
    instance = current_instance()
    content = read_content(path, instance)
    digest, kind = content.digest, content.kind
    label = "the DataFrame" if temporary_source else str(path)
    if suffix is None:
        suffix = "" if kind == "folder" else suffix_of(path.name)
        if not suffix and key is not None and kind == "file":
            suffix = suffix_of(key)
    mode = instance.settings.upon_artifact_create_if_hash_exists
    existing, family = _lookup(instance.db, digest, key, artifact.space_id,
                               family_if_found=mode == "warn_create_new")
    if existing is not None:
        where = _describe(existing)
        if mode == "error":
            raise FileExistsError(
                errno.EEXIST,
                f"{label} has the same content as the saved artifact {where}. Use that "
                "artifact, or set ln.settings.upon_artifact_create_if_hash_exists to "
                "'warn_return_existing' or 'warn_create_new'",
                str(path),
            )
        if mode == "warn_return_existing":
            ignored = []
            if key is not None and key != existing.key:
                ignored.append(f"key {key!r}")
            if description is not None and description != existing.description:
                ignored.append("description")
            note = f"; {' and '.join(ignored)} not applied" if ignored else ""
            warnings.warn(
                f"returning the existing artifact {where}: it has the same content as "
                f"{label}{note}.",
                UserWarning, stacklevel=stacklevel,
            )
            artifact.__dict__.update(existing.__dict__)
            artifact._source = path
            attach(artifact, content)
            artifact._temporary_source = temporary_source
            return
        warnings.warn(
            f"creating a new artifact although {where} has the same content as {label} "
            "(upon_artifact_create_if_hash_exists='warn_create_new').",
            UserWarning, stacklevel=stacklevel,
        )
    version = 1 if family is None else family[1] + 1
    stem = (artifact.uid if family is None else family[0])[:STEM_LENGTH]
    artifact._assign(
        uid=versioned_uid(stem, version),  # final unless another version lands first
        key=key, description=description, suffix=suffix, kind=kind, otype=otype,
        size=digest.size, hash=digest.sha256, hash_type=HASH_TYPE,
        dedup_hash=None if existing is not None else digest.sha256,
        n_files=digest.n_files if isinstance(digest, FolderDigest) else None,
        version=version, is_latest=False, storage_ongoing=True,
    )
    artifact._source = path
    attach(artifact, content)
    artifact._temporary_source = temporary_source


#: Complete artifacts of a content in a space, the one with ``dedup_hash`` first. ``+ 0``:
#: without ANALYZE statistics SQLite walked the space_id (or size) index instead of the
#: hash index: every artifact of the space per lookup (15 ms at 50,000 artifacts).
#: kind: an object registered in place is not lineage's to store a file into.
CONTENT_MATCH = (
    "WHERE hash = ? AND size + 0 = ? AND hash_type = ? AND storage_ongoing = ? "
    "AND space_id + 0 = ? AND kind <> 'external' "
    "ORDER BY CASE WHEN dedup_hash IS NULL THEN 1 ELSE 0 END, id LIMIT 1")


def _lookup(db: Any, digest: FileDigest | FolderDigest, key: str | None,
            space_id: int, *, family_if_found: bool) -> tuple[Any, Any]:
    """(complete artifact with this content or None, (uid, version) of the key's newest or None).

    Both within `space_id`: each space has its own records of shared content
    and its own versions of a key (docs/spaces.md). The key's newest is
    looked up only for new content, or with `family_if_found` (a new record
    of known content).
    """
    from lineage.artifact import Artifact

    select = Artifact.select_sql()
    false = db.dialect.encode("bool", False)

    def work(conn: Any) -> tuple[Any, Any]:
        row = conn.fetchone(f"{select} {CONTENT_MATCH}",
                            [digest.sha256, digest.size, HASH_TYPE, false, space_id])
        family = None
        if key is not None and (row is None or family_if_found):
            family = conn.fetchone(
                "SELECT uid, version FROM artifact WHERE key = ? AND storage_ongoing = ? "
                "AND space_id = ? ORDER BY version DESC LIMIT 1",
                [key, false, space_id],
            )
        return (None if row is None else Artifact.from_row(row, conn.dialect)), family

    return db.read(work, own_writes=False)  # deferred runs write no artifact rows


def _describe(artifact: Any) -> str:
    key = f"key {artifact.key!r}, " if artifact.key else ""
    latest = "" if artifact.is_latest or artifact.key is None else ", not the latest"
    return f"{artifact.uid} ({key}version {artifact.version}{latest})"


def dataframe_to_parquet(df: Any) -> Path:
    """Write `df` to a new parquet file in the instance's cache folder.

    Raises:
        TypeError: `df` is not a pandas DataFrame.
    """
    import secrets

    from lineage.instance import current_instance

    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas is a dependency of from_dataframe
        raise ImportError("Artifact.from_dataframe needs pandas and pyarrow installed.") from exc
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"from_dataframe() takes a pandas DataFrame, got {type(df).__name__}."
        )
    folder = current_instance().cache_dir / "dataframes"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_hex(10)}.parquet"
    try:
        df.to_parquet(path, engine="pyarrow")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path
