"""Reading artifacts: `cache()`, `open()` and `load()`, each a run input.

Each records the artifact as an input of the current run (``run_input``,
idempotent), unless the current run created it. Without a current run
nothing is recorded and nothing fails.

Objects in a local store are read in place (the stored file is read-only);
remote objects are downloaded once into the instance's cache folder, at a
path named by the content hash, so a cached copy is never stale.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from lineage.artifacts.stores import store_of
from lineage.errors import ValidationError
from lineage.storage.progress import progress_bar

if TYPE_CHECKING:
    from lineage.artifact import Artifact


def record_input(artifact: Artifact) -> None:
    """Link `artifact` as an input of the current run (if any and not its creator)."""
    from lineage.context import current_run_id

    run_id = current_run_id()
    if run_id is None or artifact.id is None or run_id == artifact.run_id:
        return
    from lineage.db.dialect import utcnow
    from lineage.db.record import current_db
    from lineage.models.links import RUN_INPUT, link_rows_sql

    sql = link_rows_sql(RUN_INPUT)
    current_db().write(lambda conn: conn.execute(
        sql, [run_id, artifact.id, conn.dialect.encode("datetime", utcnow())]))


def _check_saved(artifact: Artifact, action: str) -> None:
    if artifact.kind == "reference":
        raise ValidationError(
            f"artifact {artifact.uid} is a reference to {artifact.object_key!r} in another system "
            "(recorded from an OpenLineage event): lineage holds no content for it to "
            f".{action}(); read it from where it lives."
        )
    if artifact.id is None or artifact.storage_ongoing or not artifact.object_key:
        raise ValidationError(
            f"artifact {artifact.uid} is not saved yet; call .save() before .{action}()."
        )


def local_copy(artifact: Artifact) -> Path:
    """A local path of the artifact's content (downloaded once if remote); no run link."""
    from lineage.instance import current_instance

    _check_saved(artifact, "cache")
    if artifact.kind == "external":
        from lineage.artifacts.external import local_copy as external_copy

        return external_copy(artifact)
    instance = current_instance()
    store = store_of(instance, artifact.storage_id)
    path = store.local_path(artifact.object_key)
    if path is not None:
        if not path.exists():
            raise FileNotFoundError(
                2, f"the object of artifact {artifact.uid} is missing from {store.root}; "
                "save its file again to restore it, and run `lineage doctor`", str(path))
        return path
    dest = instance.cache_dir / _cache_folder(store.root) / artifact.object_key
    if _complete(dest, artifact):
        return dest
    with progress_bar(Path(artifact.key or artifact.object_key).name, artifact.size or 0) as advance:
        store.fetch(artifact.object_key, dest, progress=advance)
    if not _complete(dest, artifact):
        raise OSError(
            f"the download of artifact {artifact.uid} to {dest} has {_size(dest)} bytes, "
            f"expected {artifact.size}; try again."
        )
    return dest


def _cache_folder(root: str) -> str:
    scheme, _, rest = root.partition("://")
    return f"{scheme}/{rest}" if rest else "local"


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _complete(path: Path, artifact: Artifact) -> bool:
    """Whether a cached copy exists with the artifact's size (and file count)."""
    try:
        if artifact.kind == "folder":
            if not path.is_dir():
                return False
            files = [p for p in path.rglob("*") if p.is_file()]
            return len(files) == (artifact.n_files or len(files)) and sum(
                p.stat().st_size for p in files) == artifact.size
        return path.is_file() and path.stat().st_size == artifact.size
    except OSError:
        return False


def cache(artifact: Artifact) -> Path:
    """See `Artifact.cache`."""
    path = local_copy(artifact)
    record_input(artifact)
    return path


def open_artifact(artifact: Artifact, mode: str = "r", **kwargs: Any) -> IO[Any]:
    """See `Artifact.open`."""
    if mode not in ("r", "rb"):
        raise ValueError(f"mode {mode!r} is not allowed: artifacts open read-only ('r' or 'rb').")
    _check_saved(artifact, "open")
    if artifact.kind == "folder":
        raise IsADirectoryError(
            21, f"artifact {artifact.uid} is a folder; use .cache() to get a local folder", artifact.key)
    from lineage.instance import current_instance

    if artifact.kind == "external":  # read the verified copy, never unchecked bytes
        handle = open(local_copy(artifact), mode, **kwargs)  # noqa: SIM115 - returned
        record_input(artifact)
        return handle
    store = store_of(current_instance(), artifact.storage_id)
    handle = store.open(artifact.object_key, mode, **kwargs)
    record_input(artifact)
    return handle


def _read_csv(path: Path) -> Any:
    import pandas as pd

    return pd.read_csv(path)


def _read_parquet(path: Path) -> Any:
    import pandas as pd

    return pd.read_parquet(path)


def _read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _read_npy(path: Path) -> Any:
    import numpy as np

    return np.load(path, allow_pickle=False)


#: Readers of `load()` by suffix.
LOADERS: dict[str, Callable[[Path], Any]] = {
    ".csv": _read_csv,
    ".parquet": _read_parquet,
    ".json": _read_json,
    ".txt": _read_text,
    ".md": _read_text,
    ".npy": _read_npy,
}


def load(artifact: Artifact) -> Any:
    """See `Artifact.load`."""
    _check_saved(artifact, "load")
    suffix = (artifact.suffix or "").lower()
    reader = LOADERS.get(suffix)
    if reader is None or artifact.kind == "folder":
        what = "a folder" if artifact.kind == "folder" else f"suffix {artifact.suffix or '(none)'!r}"
        raise NotImplementedError(
            f"load() cannot read {what} (artifact {artifact.uid}); it reads "
            f"{', '.join(LOADERS)}. Use artifact.cache() for a local path and read it yourself."
        )
    path = local_copy(artifact)
    value = reader(path)
    record_input(artifact)
    return value
