"""Helpers for multi-process tests: forked writer processes on the current instance."""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable
from typing import Any

import pytest

FORK = multiprocessing.get_context("fork")


def _child(target: Callable[..., Any], args: tuple, results: Any, index: int) -> None:
    try:
        results.put((index, "ok", target(*args)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        results.put((index, "error", (type(exc).__name__, str(exc), traceback.format_exc())))


def run_in_processes(target: Callable[..., Any], args_list: list[tuple], timeout: float = 240) -> list[tuple[str, Any]]:
    """Run ``target(*args)`` in one forked process per args tuple; (status, value) per process."""
    results = FORK.Queue()
    procs = [FORK.Process(target=_child, args=(target, args, results, i)) for i, args in enumerate(args_list)]
    for p in procs:
        p.start()
    out: dict[int, tuple[str, Any]] = {}
    for _ in procs:
        index, status, value = results.get(timeout=timeout)
        out[index] = (status, value)
    for p in procs:
        p.join(timeout=30)
    return [out[i] for i in range(len(procs))]


@pytest.fixture
def processes() -> Callable[..., list[tuple[str, Any]]]:
    """The `run_in_processes` helper."""
    return run_in_processes


@pytest.fixture
def fork_barrier() -> Callable[[int], Any]:
    """Make a barrier shared with forked children: ``fork_barrier(parties)``."""
    return lambda parties: FORK.Barrier(parties)
