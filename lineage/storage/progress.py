"""A progress bar for large transfers, shown only to a person at a terminal."""

from __future__ import annotations

import sys
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
    clean. The callback is thread-safe; pass it as ``progress=`` to a store::

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
    if total < threshold or not (isatty and isatty()):
        yield None
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
