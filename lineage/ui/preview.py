"""Artifact previews (text, CSV, Parquet head, images, folder listings) and downloads.

Objects are read through the object store (local folder or S3), never through
``artifact.open()``: looking at an artifact in the UI is not a run input.
Only the first bytes (text, CSV) or the first row group batch (Parquet) are
read, so a preview costs the same for a 10 GB file as for a small one.
Downloads carry ``Content-Security-Policy: sandbox`` and ``nosniff``: an
HTML or SVG artifact is shown as data, never run as part of the UI.
"""

from __future__ import annotations

import csv
import io
import mimetypes
from typing import IO, Any

#: Bytes of text read for a preview.
TEXT_BYTES = 64 * 1024
#: Rows of a table preview.
TABLE_ROWS = 50
#: Most files listed for a folder.
FOLDER_FILES = 200
TEXT_SUFFIXES = {".txt", ".md", ".json", ".jsonl", ".py", ".r", ".sql", ".log", ".yaml", ".yml",
                 ".toml", ".cfg", ".ini", ".xml", ".html", ".fasta", ".fa", ".fastq", ".sh",
                 ".nf", ".smk", ".ipynb", ".tex", ".rst", ""}
TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".bmp"}


def _store(artifact: Any) -> Any:
    from lineage.artifacts.stores import store_of
    from lineage.instance import current_instance

    return store_of(current_instance(), artifact.storage_id)


def _open(artifact: Any) -> IO[bytes]:
    if artifact.storage_ongoing or not artifact.object_key:
        from lineage.errors import ValidationError

        raise ValidationError(f"artifact {artifact.uid} has no stored content yet (its save is "
                              "still going on or was interrupted; see `lineage doctor`).")
    return _store(artifact).open(artifact.object_key, "rb")


def preview(artifact: Any) -> dict[str, Any]:
    """What the artifact page shows of the content (see the API description)."""
    suffix = (artifact.suffix or "").lower()
    if artifact.kind == "reference":
        return {"kind": "none", "reason": "a reference to a dataset of another system "
                "(recorded from an OpenLineage event): lineage holds no content."}
    try:
        if artifact.kind == "folder":
            return _folder(artifact)
        if suffix in IMAGE_SUFFIXES:
            return {"kind": "image", "url": f"/api/artifacts/{artifact.uid}/download?inline=1"}
        if suffix in TABLE_SUFFIXES:
            return _csv(artifact, TABLE_SUFFIXES[suffix])
        if suffix == ".parquet":
            return _parquet(artifact)
        if suffix in TEXT_SUFFIXES:
            return _text(artifact)
    except (OSError, ValueError) as exc:
        return {"kind": "none", "reason": f"the content cannot be read: {exc}"}
    return {"kind": "none", "reason": f"no preview for {suffix or 'files without suffix'}; "
            "download it instead."}


def _text(artifact: Any) -> dict[str, Any]:
    with _open(artifact) as handle:
        data = handle.read(TEXT_BYTES + 1)
    if b"\x00" in data:
        return {"kind": "none", "reason": "binary content; download it instead."}
    return {"kind": "text", "text": data[:TEXT_BYTES].decode("utf-8", errors="replace"),
            "truncated": len(data) > TEXT_BYTES}


def _csv(artifact: Any, delimiter: str) -> dict[str, Any]:
    with _open(artifact) as handle:
        data = handle.read(TEXT_BYTES * 4 + 1)
    complete = len(data) <= TEXT_BYTES * 4
    text = data[:TEXT_BYTES * 4].decode("utf-8", errors="replace")
    if not complete:  # drop the cut last line
        text = text[:text.rfind("\n") + 1] or text
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    return {"kind": "table", "columns": header, "rows": body[:TABLE_ROWS],
            "truncated": len(body) > TABLE_ROWS or not complete, "total_rows": None}


def _parquet(artifact: Any) -> dict[str, Any]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        return {"kind": "none", "reason": "previewing Parquet needs pyarrow: "
                "pip install 'lineage[dataframe]'."}
    with _open(artifact) as handle:
        parquet = pq.ParquetFile(handle)
        total = parquet.metadata.num_rows
        batch = next(parquet.iter_batches(batch_size=TABLE_ROWS), None)
        columns = parquet.schema_arrow.names
        rows = [] if batch is None else [[_cell(v) for v in row.values()]
                                         for row in batch.to_pylist()]
    return {"kind": "table", "columns": columns, "rows": rows[:TABLE_ROWS],
            "truncated": total > TABLE_ROWS, "total_rows": total}


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 200 else text[:200] + "…"


def _folder(artifact: Any) -> dict[str, Any]:
    if not artifact.object_key:
        return {"kind": "none", "reason": "the folder has no stored content yet."}
    prefix = artifact.object_key.rstrip("/") + "/"
    files = []
    for key in _store(artifact).list_keys(prefix):
        files.append(key[len(prefix):])
        if len(files) > FOLDER_FILES:
            break
    return {"kind": "folder", "files": sorted(files[:FOLDER_FILES]),
            "truncated": len(files) > FOLDER_FILES, "n_files": artifact.n_files}


def download(artifact: Any, inline: bool = False) -> Any:
    """The stored file as a response (streamed from remote stores)."""
    from fastapi.responses import FileResponse, StreamingResponse

    from lineage.errors import ValidationError

    if artifact.kind == "reference":
        raise ValidationError(f"artifact {artifact.uid} is a reference to a dataset of another "
                              "system; lineage holds no content to download.")
    if artifact.kind == "folder":
        raise ValidationError(f"artifact {artifact.uid} is a folder; download its files from "
                              "the storage location, or use artifact.cache() in Python.")
    name = (artifact.key or artifact.uid).rsplit("/", 1)[-1]
    if not name.endswith(artifact.suffix or ""):
        name += artifact.suffix
    media = mimetypes.guess_type(name)[0] or "application/octet-stream"
    headers = {"content-security-policy": "sandbox", "x-content-type-options": "nosniff"}
    disposition = "inline" if inline else "attachment"
    store = _store(artifact)
    local = store.local_path(artifact.object_key) if artifact.object_key else None
    if local is not None:
        if not local.is_file():
            raise FileNotFoundError(2, f"the object of artifact {artifact.uid} is missing from "
                                    "its storage; run `lineage doctor`", str(local))
        return FileResponse(local, media_type=media, filename=name, headers=headers,
                            content_disposition_type=disposition)
    handle = _open(artifact)

    def chunks() -> Any:
        with handle:
            while block := handle.read(1 << 20):
                yield block

    from urllib.parse import quote

    headers["content-disposition"] = f"{disposition}; filename*=utf-8''{quote(name)}"
    if artifact.size is not None:
        headers["content-length"] = str(artifact.size)
    return StreamingResponse(chunks(), media_type=media, headers=headers)
