"""The Transform a piece of code belongs to, and its git state.

`@ln.flow`/`@ln.step` and engine adapters need the same answer: a function
belongs to the Transform of its source file (key relative to the dev dir,
the whole file as source, ``run.entrypoint`` = the function's qualified
name); a workflow file (a Snakefile, a DAG file, ``main.nf``) is a
Transform of its own. Both are resolved once per process and instance.
"""

from __future__ import annotations

import functools
import inspect
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

from lineage.lifecycle.records import _cache, _instance, get_or_create_transform

if TYPE_CHECKING:
    from lineage.instance import Instance
    from lineage.models.transform import Transform


class Source(NamedTuple):
    """A Transform with the git state of the file it came from.

    Attributes:
        transform: The Transform (a new version when the source changed).
        git: `lineage.capture.git.capture_git` of its file, or None.
        path: The source file, or None (code without a file).
    """

    transform: Transform
    git: dict[str, Any] | None
    path: Path | None


def function_transform(fn: Callable[..., Any], kind: str = "flow", *,
                       key: str | None = None) -> Source:
    """The Transform of the file that defines `fn` (cached per instance).

    Args:
        fn: A function, possibly decorated (it is unwrapped).
        kind: Transform kind of a new version (``flow``, ``step``, an engine).
        key: Transform key instead of the one derived from the file.
    """
    instance = _instance()
    func = inspect.unwrap(fn)
    cache_key = ("function", id(func), kind, key)
    known = _sources(instance).get(cache_key)
    if known is not None and known[0] is func:
        return known[1]
    key, source, path = _function_source(func, instance, key)
    result = Source(get_or_create_transform(key, source, kind), source_git(path, instance), path)
    _sources(instance)[cache_key] = (func, result)
    return result


def file_transform(path: str | os.PathLike[str], kind: str, *, key: str | None = None,
                   source: str | None = None) -> Source:
    """The Transform of a workflow file (a Snakefile, a DAG file, ``main.nf``).

    Args:
        path: The file; its key is relative to the dev dir, else its name.
        kind: Transform kind of a new version (``snakemake``, ``airflow``, ...).
        key: Transform key instead of the one derived from the path.
        source: The source text, when the file is not readable here (an
            importer of another machine's records); read from `path` otherwise.
    """
    from lineage.capture.source import transform_key

    instance = _instance()
    location = Path(os.path.abspath(os.fspath(path)))
    if source is None:
        source = _file_source(str(location)) if location.is_file() else None
    if key is None:
        dev_dir = instance.settings.dev_dir
        key = transform_key(location, Path(dev_dir) if dev_dir else None)
    cache_key = ("file", str(location), kind, key, source)
    known = _sources(instance).get(cache_key)
    if known is not None:
        return known[1]
    git_path = location if location.exists() else None
    result = Source(get_or_create_transform(key, source, kind), source_git(git_path, instance),
                    git_path)
    _sources(instance)[cache_key] = (None, result)
    return result


def source_git(path: Path | None, instance: Instance | None = None) -> dict[str, Any] | None:
    """Git state of `path` (cached per process; no network)."""
    if path is None:
        return None
    instance = instance or _instance()
    return _git(str(path), instance.settings.sync_git_repo)


# --- helpers -------------------------------------------------------------------------
def _sources(instance: Instance) -> dict[tuple[Any, ...], tuple[Any, Source]]:
    return _cache(instance).sources


@functools.lru_cache(maxsize=256)
def _git(path: str, sync_git_repo: str | None) -> dict[str, Any] | None:
    from lineage.capture.git import capture_git

    return capture_git(Path(path), sync_git_repo)


@functools.lru_cache(maxsize=256)
def _file_source(path: str) -> str | None:
    from lineage.capture.source import read_source

    try:
        return read_source(Path(path))
    except OSError:
        return None


def _function_source(func: Callable[..., Any], instance: Instance,
                     key: str | None) -> tuple[str, str | None, Path | None]:
    """(key, source, file) of the Transform a function belongs to."""
    from lineage.capture.notebook import notebook_transform_source
    from lineage.errors import ValidationError
    from lineage.capture.source import function_source, notebook_path, transform_key_for_function

    dev_dir = instance.settings.dev_dir
    key = key or transform_key_for_function(func, Path(dev_dir) if dev_dir else None)
    try:
        file = inspect.getsourcefile(func)
    except TypeError:
        file = None
    if file and ("ipykernel_" in file or file.startswith("<ipython-input")):
        notebook = notebook_path()
        if notebook is not None and notebook.is_file():
            try:
                return key, notebook_transform_source(notebook), notebook
            except (OSError, ValidationError):
                pass
        return key, function_source(func), None
    if file and Path(file).is_file():
        source = _file_source(str(Path(file).resolve()))
        if source is not None:
            return key, source, Path(file)
    return key, function_source(func), None
