"""Helpers shared by the workload scripts.

Every workload script runs as a fresh subprocess of the harness (see
``benchmarks/run.py``). It reads its parameters from the ``BENCH_PARAMS``
environment variable (JSON), so that the command line of a tracked script is
the same as the one of its untracked twin, and reports one JSON object on a
line of its own that starts with ``BENCH_RESULT``. Everything else the tool
prints (LaminDB and MLflow log a lot) is ignored by the harness.

This module imports only the standard library and is imported by the tracked
and the untracked scripts alike, so it costs both the same.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import time

MARK = "BENCH_RESULT "

PARAMS: dict = json.loads(os.environ.get("BENCH_PARAMS") or "{}")

perf = time.perf_counter


def emit(result: dict) -> None:
    """Print the result line the harness looks for."""
    sys.stdout.write("\n" + MARK + json.dumps(result) + "\n")
    sys.stdout.flush()


def work() -> int:
    """The 'real work' of the benchmark script: a few milliseconds of CPU."""
    return sum(i * i for i in range(200_000))


def walk_upstream(artifact) -> tuple[int, int]:
    """Walk ``artifact.run.input_artifacts`` recursively (LaminDB and lineage
    share these names). Returns (upstream artifacts found, runs visited)."""
    seen: set = set()
    runs: set = set()
    stack = [artifact]
    while stack:
        current = stack.pop()
        run = current.run
        if run is None or run.id in runs:
            continue
        runs.add(run.id)
        for parent in run.input_artifacts.all():
            if parent.id not in seen:
                seen.add(parent.id)
                stack.append(parent)
    return len(seen), len(runs)


# --------------------------------------------------------------------------
# Network watch: enabled only when BENCH_NETLOG names a file (setup and the
# offline check; never in a timed run, since an audit hook costs a little on
# every audited event).
# --------------------------------------------------------------------------

_NET_EVENTS: list[str] = []


def _audit(event: str, args: tuple) -> None:
    if event == "socket.connect":
        address = args[1]
        if isinstance(address, tuple):  # AF_INET / AF_INET6, not AF_UNIX
            _NET_EVENTS.append(f"connect {address[0]}:{address[1]}")
    elif event == "socket.getaddrinfo":
        _NET_EVENTS.append(f"getaddrinfo {args[0]}:{args[1]}")
    elif event == "socket.gethostbyname":
        _NET_EVENTS.append(f"gethostbyname {args[0]}")
    elif event == "urllib.Request":
        _NET_EVENTS.append(f"urllib {args[0]}")
    elif event == "http.client.connect":
        _NET_EVENTS.append(f"http.client {args[1]}:{args[2]}")


def _dump_net(path: str) -> None:
    with open(path, "w") as f:
        json.dump(_NET_EVENTS, f)


if os.environ.get("BENCH_NETLOG"):
    sys.addaudithook(_audit)
    atexit.register(_dump_net, os.environ["BENCH_NETLOG"])


def plain_step(x: int) -> int:
    """The untracked twin of the trivial step."""
    return x


def timed_calls(fn, n: int, budget_s: float | None = None) -> list[float]:
    """Call ``fn(i)`` for i in range(n), timing each call. With a budget,
    stop early once the loop has run that long (the number of calls actually
    made is reported, never extrapolated)."""
    times: list[float] = []
    start = perf()
    for i in range(n):
        t0 = perf()
        fn(i)
        times.append(perf() - t0)
        if budget_s is not None and perf() - start > budget_s:
            break
    return times


def step_result(tracked: list[float], flow_s: float) -> dict:
    """Summarize a step loop against the same loop of an untracked function."""
    import statistics

    base = timed_calls(plain_step, max(len(tracked), 1))
    base_per_call = sum(base) / len(base)
    calls = len(tracked)
    total = sum(tracked)
    return {
        "calls": calls,
        "tracked_s": total,
        "per_step_s": total / calls - base_per_call,
        "per_call_median_s": statistics.median(tracked),
        "untracked_per_call_s": base_per_call,
        "flow_overhead_s": flow_s - total,
    }


SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


def describe_sqlite(journal_mode, synchronous) -> str:
    """``journal_mode=wal, synchronous=NORMAL`` from PRAGMA answers (numbers or names)."""
    if isinstance(synchronous, int) or str(synchronous).isdigit():
        synchronous = SYNCHRONOUS.get(int(synchronous), synchronous)
    return f"journal_mode={str(journal_mode).lower()}, synchronous={synchronous}"


def small_files(folder: str) -> list[str]:
    """The small files of one set, in a stable order."""
    return [os.path.join(folder, name) for name in sorted(os.listdir(folder))]


def write_link(folder: str, i: int, previous_text: str) -> str:
    """Write the file of chain link i: unique content derived from link i-1."""
    import hashlib

    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{i}.txt")
    digest = hashlib.sha256(previous_text.encode()).hexdigest()
    with open(path, "w") as f:
        f.write(f"link {i}\nprevious {digest}\n")
    return path
