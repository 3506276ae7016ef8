"""Files that engine tasks read and write, as artifacts of their runs.

Engines know paths, not artifacts: `record_file` turns a path into the
artifact with that content (saved on first sight, found by hash after
that) and links it to the run as an input or an output. A file written by
one engine and read by another, or by a tracked script, is therefore one
artifact and one node of the lineage graph. An ``s3://bucket/key`` URI is
registered in place (hashed, not copied; `lineage.artifacts.external`).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lineage import context

if TYPE_CHECKING:
    from lineage.artifact import Artifact
    from lineage.models.run import Run

Role = Literal["input", "output"]


def record_file(run: Run, path: str | os.PathLike[str], *, role: Role, key: str | None = None,
                description: str | None = None) -> Artifact | None:
    """Save (or find by content) the file or folder at `path` and link it to `run`.

    Args:
        run: The engine run that read or wrote it.
        path: A local file or folder, or an ``s3://bucket/key`` URI (the
            object is registered in place: hashed by streaming it once,
            never copied, moved or deleted by lineage).
        role: ``"output"``: `run` becomes the artifact's creating run (an
            earlier creator moves to ``previous_runs``); ``"input"``: the
            artifact is an input of `run` (saved without a creating run when
            its content is new).
        key: Key for a new artifact (new content under a known key is a new
            version of it).
        description: Description of a new artifact.

    Returns:
        The artifact, or None when nothing is at `path` (a temporary output
        removed before it could be read, say, or no such S3 object).

    Raises:
        StorageError: An S3 bucket is missing or cannot be reached.
    """
    from lineage.lifecycle.runs import activate, deactivate, record_input, record_output

    if role not in ("input", "output"):
        from lineage.errors import ValidationError

        raise ValidationError(f"role must be 'input' or 'output', got {role!r}.")
    if isinstance(path, str) and path[:5].lower() == "s3://":
        location: Any = path
    else:
        location = Path(os.fspath(path))
        if not location.exists():
            return None
    if role == "output":
        # The save links to the current run: made `run` unless it is already (an
        # engine's task run, activated for the whole task).
        activation = None if context.current_run() is run else activate(run, set_context=True)
        try:
            artifact = _saved(location, key, description)
        except FileNotFoundError:
            return None
        finally:
            if activation is not None:
                deactivate(activation)
        if artifact.run_id != run.id:
            record_output(run, artifact)
        return artifact
    try:
        with context.detached():
            artifact = _saved(location, key, description)
    except FileNotFoundError:
        return None
    if artifact.run_id != run.id:
        record_input(run, artifact)
    return artifact


def _saved(path: Any, key: str | None, description: str | None) -> Artifact:
    """The saved artifact with the content at `path` (saved now if new)."""
    from lineage.artifact import Artifact

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "returning the existing artifact" is expected here
        try:
            artifact = Artifact(path, key=key, description=description)
        except FileExistsError:  # upon_artifact_create_if_hash_exists = "error"
            return _existing(Path(path))
        return artifact.save()


def _existing(path: Path) -> Any:
    from lineage.artifact import Artifact
    from lineage.storage.hashing import hash_file, hash_folder

    digest = hash_folder(path) if path.is_dir() else hash_file(path)
    return Artifact.filter(hash=digest.sha256, size=digest.size).first()
