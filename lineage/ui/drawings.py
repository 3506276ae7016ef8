"""Graphviz drawings of DOT text, kept in memory and on disk.

The SVG of a DOT text depends on nothing else (given one Graphviz
version), so drawings are kept by the text: in memory (the last
`MEMORY_SIZE`) and as files named by a hash of the text and the Graphviz
version in the instance's cache folder (the last `DISK_SIZE`), so a
1,000-node drawing (60-300 ms of ``dot``)
is laid out once per instance, across server restarts (the plugins used are
part of the name: `lineage.ui.dot_plugins`). A change of lineage
changes the DOT text, so it is drawn anew; nothing needs invalidating. A
cache folder that cannot be written only means no disk copies.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from pathlib import Path

#: Drawings kept in memory.
MEMORY_SIZE = 32
#: Drawing files kept on disk (the oldest are removed beyond that).
DISK_SIZE = 256
#: Drawings smaller than this (DOT characters) are not written to disk: ``dot`` takes ms.
DISK_MIN_CHARS = 20_000

_MEMORY: OrderedDict[str, str] = OrderedDict()
_LOCK = threading.Lock()
_VERSION: list[str] = []


def draw_svg(source: str) -> str:
    """The SVG of DOT `source`, drawn by ``dot`` unless kept.

    Raises:
        GraphvizNotInstalled: The ``dot`` program is missing.
    """
    with _LOCK:
        kept = _MEMORY.get(source)
        if kept is not None:
            _MEMORY.move_to_end(source)
            return kept
    path = _disk_path(source) if len(source) >= DISK_MIN_CHARS else None
    svg = _read(path) if path is not None else None
    if svg is None:
        svg = layout(source)
        if path is not None:
            _write(path, svg)
    with _LOCK:
        _MEMORY[source] = svg
        while len(_MEMORY) > MEMORY_SIZE:
            _MEMORY.popitem(last=False)
    return svg


def layout(source: str) -> str:
    """Run ``dot -Tsvg`` on `source`, with only the plugins it needs where possible.

    See `lineage.ui.dot_plugins`: without the plugins a drawing does not use
    (and pango's font measuring), a 1,000-node drawing takes half the time.
    """
    import subprocess

    from lineage.errors import GraphvizNotInstalled
    from lineage.graph.render import INSTALL_HINT
    from lineage.ui.dot_plugins import environment

    try:
        done = subprocess.run(["dot", "-Tsvg"], input=source.encode("utf-8"),
                              capture_output=True, check=True, env=environment())
    except FileNotFoundError as exc:
        raise GraphvizNotInstalled(f"the lineage graph needs Graphviz: {INSTALL_HINT}") from exc
    return done.stdout.decode("utf-8")


def clear_memory() -> None:
    """Forget the drawings kept in memory (the disk copies stay)."""
    with _LOCK:
        _MEMORY.clear()


def _disk_path(source: str) -> Path | None:
    from lineage.instance import current_instance
    from lineage.ui.dot_plugins import environment

    try:
        folder = current_instance().cache_dir / "ui-drawings"
    except Exception:  # noqa: BLE001 - no cache folder: draw without disk copies
        return None
    plugins = "all plugins" if environment() is None else "core+dot_layout"  # label sizes differ
    digest = hashlib.sha256(f"{_graphviz_version()} {plugins}\n{source}".encode()).hexdigest()
    return folder / f"{digest[:40]}.svg"


def _graphviz_version() -> str:
    """``dot -V`` of this process's Graphviz (asked once; it changes how drawings look)."""
    if not _VERSION:
        import graphviz

        try:
            _VERSION.append(".".join(map(str, graphviz.version())))
        except Exception:  # noqa: BLE001 - missing dot fails in `layout` with the hint
            return "unknown"
    return _VERSION[0]


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _write(path: Path, svg: str) -> None:
    """Write `svg` atomically; drop the oldest files beyond `DISK_SIZE`."""
    import secrets

    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(svg, encoding="utf-8")
        os.replace(tmp, path)
        files = sorted(path.parent.glob("*.svg"), key=lambda p: p.stat().st_mtime)
        for old in files[:-DISK_SIZE]:
            old.unlink(missing_ok=True)
    except OSError:  # a read-only or full cache folder: keep the drawing in memory only
        tmp.unlink(missing_ok=True)
