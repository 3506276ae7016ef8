"""Files behind Airflow assets: inlets, outlets and hook-lineage assets.

An asset whose URI is ``file://`` names a local file or folder: it becomes
an artifact (hashed; saved on first sight, found by content after that)
through `lineage.lifecycle.record_file`, so the file is one node of the
lineage graph whoever wrote or read it. An ``s3://bucket/key`` asset that
exists is registered in place the same way (streamed once to be hashed,
never copied; docs/artifacts.md); one that does not exist (yet) is a
reference artifact (`lineage.lifecycle.record_reference`: known by name).
An S3 error while recording is logged once (`lineage.lifecycle.guarded`)
and the asset is kept as a reference: the task never fails for it. Every
URI (``gs://``, ``postgres://``, ...) is also listed in
``run.details["inlets"]`` / ``["outlets"]`` (and ``"read"`` / ``"written"``
for hook lineage), so a run shows what it touched.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from lineage import lifecycle

ADAPTER = "airflow"


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


def s3_object(uri: str) -> tuple[str, str] | None:
    """(``s3://bucket``, key) of an ``s3://bucket/key`` URI without credentials or query, else None."""
    parts = urlsplit(uri)
    key = parts.path.lstrip("/")
    if (parts.scheme.lower() != "s3" or not parts.netloc or "@" in parts.netloc or not key
            or key.endswith("/") or parts.query or parts.fragment):
        return None
    return f"s3://{parts.netloc}", key


def record_uris(run: Any, uris: Iterable[str], role: str) -> int:
    """Record the local files and S3 objects among `uris` as inputs or outputs of `run`; how many.

    Counts artifacts with content (files, S3 objects registered in place),
    not references.
    """
    recorded = 0
    for uri in uris:
        path = local_path(uri)
        if path is not None:
            if lifecycle.record_file(run, path, role=role) is not None:
                recorded += 1
            continue
        s3 = s3_object(uri)
        if s3 is not None:
            recorded += _record_s3(run, uri, s3, role)
    return recorded


def _record_s3(run: Any, uri: str, location: tuple[str, str], role: str) -> int:
    """Register the object in place (1), or record it as a reference when missing (0).

    An S3 error (no bucket, no access, endpoint away) is logged once per kind
    and the object is kept as a reference, so the task's lineage still names it.
    """
    artifact = None
    with lifecycle.guarded(ADAPTER, "an S3 inlet or outlet"):
        artifact = lifecycle.record_file(run, uri, role=role)
    if artifact is not None:
        return 1
    lifecycle.record_reference(run, location[0], location[1], role=role)  # type: ignore[arg-type]
    return 0


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
