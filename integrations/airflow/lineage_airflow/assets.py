"""Files behind Airflow assets: inlets, outlets and hook-lineage assets.

An asset whose URI is ``file://`` names a local file or folder: it becomes
an artifact (hashed; saved on first sight, found by content after that)
through `lineage.lifecycle.record_file`, so the file is one node of the
lineage graph whoever wrote or read it. Other URIs (``s3://``, ``gs://``,
``postgres://``, ...) are not downloaded to be hashed: they are listed
in ``run.details["inlets"]`` / ``["outlets"]`` (and ``"read"`` /
``"written"`` for hook lineage), so a run shows what it touched.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from lineage import lifecycle


def asset_uris(objects: Iterable[Any] | None) -> list[str]:
    """URIs of the assets among `objects` (inlets or outlets; aliases have none)."""
    uris = []
    for obj in objects or ():
        uri = getattr(obj, "uri", None)
        if isinstance(uri, str) and uri and uri not in uris:
            uris.append(uri)
    return uris


def local_path(uri: str) -> str | None:
    """The local path of a ``file://`` URI (or of a plain absolute path), else None."""
    if uri.startswith("/"):
        return uri
    parts = urlsplit(uri)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None
    return unquote(parts.path) or None


def record_uris(run: Any, uris: Iterable[str], role: str) -> int:
    """Record the local files among `uris` as inputs or outputs of `run`; how many."""
    recorded = 0
    for uri in uris:
        path = local_path(uri)
        if path is not None and lifecycle.record_file(run, path, role=role) is not None:
            recorded += 1
    return recorded


class HookLineage:
    """Assets Airflow's hook-lineage collector gathered during one task try.

    The collector is one per process and only grows (under ``dag.test()``
    every task runs in one process), so the try remembers how many inputs
    and outputs it held at the start and takes only those added since.
    """

    def __init__(self) -> None:
        collected = _collected()
        self._inputs = len(collected.inputs) if collected else 0
        self._outputs = len(collected.outputs) if collected else 0

    def new_uris(self) -> tuple[list[str], list[str]]:
        """(read, written): URIs added since the start of the try."""
        collected = _collected()
        if collected is None:
            return [], []
        read = asset_uris(info.asset for info in collected.inputs[self._inputs:])
        written = asset_uris(info.asset for info in collected.outputs[self._outputs:])
        return read, written


def _collected() -> Any:
    from lineage_airflow.plugin import LineageHookReader

    return LineageHookReader().retrieve_hook_lineage()
