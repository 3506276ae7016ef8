"""A Graphviz plugin folder holding only what ``dot -Tsvg`` needs, for fast drawings.

``dot`` loads every plugin its installation lists (cairo, pango, gd, ...) on
each start, and with pango it measures every label with the real font.
For a 1,000-node drawing that is about half of ``dot``'s time. Pointed
(``GVBINDIR``) at a folder holding only the ``core`` (SVG output) and
``dot_layout`` plugins, it starts in a few milliseconds and sizes labels
from its built-in font metrics (Helvetica's, the UI's font). The SVG is
the same kind of drawing: same nodes, ids, links and classes.

The folder is made once per process in the temporary folder (links to the
installed plugin files and a configuration written by ``dot -c``) and
checked with a small drawing; where anything of that fails (no ``libdir``
in ``dot -v``, other file names, a read-only temporary folder), `environment`
says None and drawings use the full installation.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from pathlib import Path

#: The plugins kept: SVG output and the dot layout.
PLUGINS = ("libgvplugin_core", "libgvplugin_dot_layout")

_LOCK = threading.Lock()
_FOLDER: list[str | None] = []
_LIBDIR = re.compile(r'libdir\s*=\s*"([^"]+)"')


def environment() -> dict[str, str] | None:
    """The environment to run ``dot`` with the small plugin folder (None: not available)."""
    with _LOCK:
        if not _FOLDER:
            _FOLDER.append(_make_folder())
        folder = _FOLDER[0]
    return None if folder is None else {**os.environ, "GVBINDIR": folder}


def _make_folder() -> str | None:
    import atexit
    import shutil
    import tempfile

    libdir = _libdir()
    if libdir is None:
        return None
    files = [p for p in libdir.iterdir() if p.name.startswith(PLUGINS)]
    present = {name for name in PLUGINS if any(p.name.startswith(name + ".") for p in files)}
    if present != set(PLUGINS):
        return None
    try:
        folder = tempfile.mkdtemp(prefix="lineage-graphviz-")
    except OSError:
        return None
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    env = {**os.environ, "GVBINDIR": folder}
    try:
        for path in files:
            os.symlink(path, os.path.join(folder, path.name))
        subprocess.run(["dot", "-c"], env=env, check=True, capture_output=True, timeout=30)
        check = subprocess.run(["dot", "-Tsvg"], input=b"digraph { a -> b }", env=env,
                               check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return folder if b"</svg>" in check.stdout else None


def _libdir() -> Path | None:
    """Graphviz's plugin folder, as ``dot -v`` names it."""
    try:
        done = subprocess.run(["dot", "-v", "-Tcanon"], input=b"digraph {}", capture_output=True,
                              timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return libdir_of(done.stderr.decode("utf-8", "replace"))


def libdir_of(verbose: str) -> Path | None:
    """The existing folder that ``dot -v``'s output names as ``libdir = "..."`` (None: none)."""
    found = _LIBDIR.search(verbose)
    if found is None or not Path(found.group(1)).is_dir():
        return None
    return Path(found.group(1))
