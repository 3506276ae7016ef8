"""Object storage: content hashing, key rules, local and fsspec/S3 stores.

Objects are content-addressed (``objects/ab/<sha256><suffix>``) and written
once, all or nothing. Importing this package imports neither fsspec nor s3fs;
`FsspecStore` is loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lineage.storage.base import ObjectStore, ProgressCallback, Temporary, open_store
from lineage.storage.hashing import (
    HASH_TYPE,
    FileDigest,
    FolderDigest,
    FolderEntry,
    hash_bytes,
    hash_file,
    hash_folder,
)
from lineage.storage.keys import object_key_for, validate_key
from lineage.storage.local import LocalStore
from lineage.storage.progress import progress_bar

if TYPE_CHECKING:
    from lineage.storage.fsspec_store import FsspecStore

__all__ = [
    "HASH_TYPE",
    "FileDigest",
    "FolderDigest",
    "FolderEntry",
    "FsspecStore",
    "LocalStore",
    "ObjectStore",
    "ProgressCallback",
    "Temporary",
    "hash_bytes",
    "hash_file",
    "hash_folder",
    "object_key_for",
    "open_store",
    "progress_bar",
    "validate_key",
]


def __getattr__(name: str) -> Any:
    if name == "FsspecStore":
        from lineage.storage.fsspec_store import FsspecStore

        return FsspecStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
