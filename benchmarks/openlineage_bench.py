"""OpenLineage: what live emission adds to a step, and export's time and memory.

    python benchmarks/openlineage_bench.py [--steps 200] [--runs 1000,10000]

Step time (median per step of a flow of --steps steps, each saving a small
file) with emission off, to a live local endpoint, to a closed port (dead
endpoint) and to an endpoint that answers after 1 s (slow); the ratios are
to "off". Export: seconds and Python heap peak (tracemalloc) to export
instances of --runs engine runs each; flat memory means streaming works.
Figures only, nothing asserted.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import tempfile
import threading
import time
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def _server(delay: float) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(delay)
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def step_times(mode: str, steps: int, folder: Path) -> list[float]:
    import lineage as ln
    from lineage.lifecycle import observers
    from lineage.openlineage.emit import Emitter, HttpTransport

    ln.init(storage=folder / mode)
    observers.reset()
    observers._loaded = True  # no environment configuration: only what is added here
    emitter = None
    if mode != "off":
        url = {"live": lambda: f"http://127.0.0.1:{_server(0).server_address[1]}",
               "slow": lambda: f"http://127.0.0.1:{_server(1.0).server_address[1]}",
               "dead": lambda: f"http://127.0.0.1:{_closed_port()}"}[mode]()
        emitter = Emitter(HttpTransport(url, timeout=2), backoff=(0.05,))
        observers.add_observer(emitter.observe)
    times: list[float] = []
    data = folder / f"{mode}-data"
    data.mkdir()

    @ln.step()
    def write(i: int) -> ln.Artifact:
        path = data / f"{i}.txt"
        path.write_text(f"{mode} {i}\n")
        return ln.Artifact(path, key=f"{mode}/{i}.txt").save()

    @ln.flow()
    def main() -> None:
        for i in range(steps):
            start = time.perf_counter()
            write(i)
            times.append(time.perf_counter() - start)

    main()
    if emitter is not None:
        emitter.flush(1)  # what is still queued is dropped: the process would go on
    observers.reset()
    return times


def export_cost(runs: int, folder: Path) -> tuple[float, float]:
    import lineage as ln
    from lineage import lifecycle
    from lineage.lifecycle import observers
    from lineage.openlineage.export import iter_events

    ln.init(storage=folder / f"export-{runs}")
    observers.reset()
    observers._loaded = True
    transform = lifecycle.get_or_create_transform("etl.py", "def main(): ...\n", "prefect")
    parent = lifecycle.engine_run(transform, external_source="bench", external_id="flow",
                                  status="completed", environment=False, cli_args=[])
    for i in range(runs):
        lifecycle.engine_run(transform, external_source="bench", external_id=f"t{i}",
                             parent=parent, status="completed", params={"i": i},
                             environment=False, cli_args=[])
    tracemalloc.start()
    start = time.perf_counter()
    count = sum(1 for _ in iter_events())
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    assert count == 2 * (runs + 1)
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--runs", default="1000,10000")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ol-bench-"))
    results: dict[str, object] = {}
    medians = {}
    step_times("off", min(args.steps, 50), folder / "warm-up")  # first imports and caches
    for mode in ("off", "live", "dead", "slow"):
        times = step_times(mode, args.steps, folder)
        medians[mode] = statistics.median(times)
        results[f"step_{mode}_ms"] = {"median": medians[mode] * 1e3, "max": max(times) * 1e3}
    print(f"step time over {args.steps} steps (median, max) and ratio to off:")
    for mode, value in medians.items():
        worst = results[f"step_{mode}_ms"]["max"]  # type: ignore[index]
        print(f"  {mode:5} {value * 1e3:7.2f} ms  max {worst:7.1f} ms  x{value / medians['off']:.2f}")
    for runs in (int(n) for n in args.runs.split(",")):
        seconds, peak = export_cost(runs, folder)
        results[f"export_{runs}"] = {"seconds": seconds, "peak_mib": peak}
        print(f"export of {runs} runs: {seconds:.2f} s ({2 * runs / seconds:,.0f} events/s), "
              f"heap peak {peak:.1f} MiB")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
