"""What Snakemake keeps about a finished job in ``.snakemake/metadata/``.

No log event carries a job's params. Snakemake writes one JSON record per
output file, named by the URL-safe base64 of the output's path, before it
reports the job finished; its ``params`` are the repr strings of the rule's
params (sorted, without their names). This module reads that record; it
is the only place that knows Snakemake's file layout, and
tests/test_metadata.py checks it against the pinned Snakemake.
"""

from __future__ import annotations

import json
import os
from base64 import urlsafe_b64encode
from typing import Any


def record_path(workdir: str, output: str) -> str:
    """The metadata file of `output` (names longer than the file-name limit are split)."""
    folder = os.path.join(workdir, ".snakemake", "metadata")
    encoded = urlsafe_b64encode(output.encode()).decode()
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX") if os.name == "posix" else 255
    except OSError:
        limit = 255
    limit = limit or 255
    parts = [encoded[i:i + limit - 1] for i in range(0, len(encoded), limit - 1)]
    parts = ["@" + part for part in parts[:-1]] + parts[-1:]
    return os.path.join(folder, *parts)


def read_record(workdir: str, output: str) -> dict[str, Any] | None:
    """The metadata record of `output`, or None (no record, unreadable, not JSON)."""
    try:
        with open(record_path(workdir, output), encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def job_params(workdir: str, outputs: list[str]) -> list[str] | None:
    """The params Snakemake recorded for the job that wrote `outputs`, or None."""
    for output in outputs:
        record = read_record(workdir, output)
        if record is not None and isinstance(record.get("params"), list):
            return [str(p) for p in record["params"]]
    return None


def finished_after(workdir: str, outputs: list[str], started: float) -> bool:
    """Whether Snakemake recorded the job that wrote `outputs` complete since `started`."""
    if not outputs:
        return False
    for output in outputs:
        record = read_record(workdir, output)
        if record is None or record.get("incomplete") or (record.get("endtime") or 0) < started - 1:
            return False
    return True
