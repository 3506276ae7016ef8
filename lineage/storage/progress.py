"""A progress bar for large transfers, shown only to a person at a terminal."""

from __future__ import annotations

import html
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

PROGRESS_THRESHOLD = 64 << 20
"""Transfers smaller than this (in bytes) never show a bar."""


@contextmanager
def progress_bar(
    description: str,
    total: int,
    *,
    stream: TextIO | None = None,
    threshold: int = PROGRESS_THRESHOLD,
) -> Iterator[Callable[[int], None] | None]:
    """Show a rich progress bar for a transfer of ``total`` bytes.

    Silent (yields None) when ``total`` is below ``threshold`` or ``stream``
    (default: ``sys.stderr``) is not a terminal, so logs and pipelines stay
    clean; in a Jupyter kernel (default stream) the bar is an HTML
    ``<progress>`` output of the cell, updated in place. The callback is thread-safe; pass it as ``progress=`` to a store::

        with progress_bar(path.name, size) as advance:
            store.put_file(path, key, progress=advance)

    Args:
        description: Shown left of the bar, e.g. the file name.
        total: Bytes to transfer.
        stream: Where to draw the bar.
        threshold: Smallest transfer that gets a bar.

    Yields:
        A callback taking the number of bytes just transferred, or None.
    """
    out = sys.stderr if stream is None else stream
    isatty = getattr(out, "isatty", None)
    if total < threshold:
        yield None
        return
    if not (isatty and isatty()):
        notebook = _notebook_display() if stream is None else None
        if notebook is None:
            yield None
        else:
            with _notebook_bar(notebook, description, total) as advance:
                yield advance
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(file=out), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.update(task, advance=n)


def _notebook_display() -> Callable[..., object] | None:
    """IPython's ``display`` when running in a Jupyter kernel, else None."""
    ipython_module = sys.modules.get("IPython")
    if ipython_module is None:
        return None
    try:
        shell = ipython_module.get_ipython()
        from IPython.display import display
    except Exception:  # noqa: BLE001 - not a usable IPython
        return None
    if shell is None or type(shell).__name__ != "ZMQInteractiveShell":
        return None
    return display


_NOTEBOOK_INTERVAL = 0.2
"""Seconds between two updates of a notebook bar (each one is a message to the front end)."""


@contextmanager
def _notebook_bar(display: Callable[..., object], description: str, total: int) -> Iterator[Callable[[int], None]]:
    """A ``<progress>`` element in the cell's output, updated at most every 0.2 s."""
    from IPython.display import HTML

    lock = threading.Lock()
    state = {"done": 0, "shown": 0.0}
    start = time.monotonic()

    def render(done: int) -> HTML:
        mib, seconds = done / (1 << 20), max(time.monotonic() - start, 1e-9)
        return HTML(
            f"<div><code>{html.escape(description)}</code> <progress value='{done}' max='{total}'></progress> "
            f"{mib:,.0f} / {total / (1 << 20):,.0f} MiB, {mib / seconds:,.0f} MiB/s</div>"
        )

    handle = display(render(0), display_id=True)

    def advance(n: int) -> None:
        with lock:
            state["done"] += n
            now = time.monotonic()
            if now - state["shown"] < _NOTEBOOK_INTERVAL:
                return
            state["shown"] = now
            done = state["done"]
        handle.update(render(done))

    try:
        yield advance
    finally:
        handle.update(render(state["done"]))
