"""Job inputs and outputs as artifacts, each file hashed once per workflow run.

Snakemake reports files as paths relative to the working directory, some
with an annotation (``"x.txt (pipe)"``, ``"s3://b/k (send to storage)"``).
Local files become artifacts through `lineage.lifecycle.record_file`, keyed
by their path relative to the working directory (``out/a.sum``; a new
content under that key is a new version). A file is hashed the first time
a job of the workflow run names it; when the next job names it again with
the same size and modification time, the artifact found then is reused, so
an output of one job that is the input of the next is one artifact, hashed
once. A file that is not there when it is recorded (a ``temp()`` output
Snakemake already removed, a pipe) is listed as gone, not an error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

from lineage import lifecycle

#: Annotations that name no local file (pipes, services, remote storage).
_NOT_LOCAL = ("pipe", "service", "storage")
_ANNOTATED = re.compile(r"^(?P<path>.+?) \((?P<label>[^()]*)\)$")


def local_path(name: str) -> str | None:
    """The path of a file Snakemake reported, without annotation; None if not local."""
    match = _ANNOTATED.match(name)
    if match is not None and not os.path.lexists(name):
        if any(word in match["label"] for word in _NOT_LOCAL):
            return None
        name = match["path"]
    if "://" in name:
        return None
    return name


class Files:
    """The artifacts of the files one workflow run has seen so far.

    Args:
        workdir: The working directory the paths are relative to.
    """

    def __init__(self, workdir: str) -> None:
        self.workdir = os.path.abspath(workdir)
        self._seen: dict[str, tuple[int, int, int]] = {}  # path -> (size, mtime_ns, artifact id)
        #: How many files were hashed (for tests and the benchmark).
        self.hashed = 0

    def record(self, run: Any, names: Iterable[str], role: str) -> list[str]:
        """Record the files `names` as inputs or outputs of `run`; returns those gone."""
        gone = []
        for name in names:
            path = local_path(str(name))
            if path is None:
                continue
            if not self._record_one(run, path, role):
                gone.append(str(name))
        return gone

    def _record_one(self, run: Any, path: str, role: str) -> bool:
        location = path if os.path.isabs(path) else os.path.join(self.workdir, path)
        try:
            stat = os.stat(location)
        except OSError:
            return False
        known = self._seen.get(location)
        if known is not None and known[:2] == (stat.st_size, stat.st_mtime_ns):
            if role == "input":
                lifecycle.record_input(run, known[2])
                return True
        try:
            artifact = lifecycle.record_file(run, location, role=role, key=self._key(location))
        except FileNotFoundError:  # removed while it was read (a temp() output)
            return False
        if artifact is None:
            return False
        self.hashed += 1
        self._seen[location] = (stat.st_size, stat.st_mtime_ns, artifact.id)
        return True

    def _key(self, location: str) -> str | None:
        relative = os.path.relpath(location, self.workdir)
        if relative.startswith(os.pardir):
            return None
        return relative.replace(os.sep, "/")
