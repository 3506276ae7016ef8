"""What `lineage nextflow` costs per task: the weblog receiver and the trace import.

Usage (in a venv with lineage installed; Nextflow itself is not needed)::

    python benchmarks/engines/nextflow_bench.py [--tasks 200] [--repeats 3] [--json]

One process, one embedded (SQLite) lineage instance in a temporary folder.

- ``weblog``: a run of N tasks (``started``, then ``process_submitted``,
  ``process_started``, ``process_completed`` per task, then ``completed``,
  nf-weblog's payloads) posted over one keep-alive HTTP connection to a
  `WeblogServer` on a loopback port, against the same payloads posted to a
  bare ``http.server`` that answers 200 without reading them further (the
  HTTP cost Nextflow pays anyway). Per event and per task, and the ratio.
  Nextflow sends from its own thread (an agent), so this is time the
  pipeline never waits for; the figure says how many events a receiver
  keeps up with.
- ``trace``: ``import_trace`` of a default trace file of N rows, per row,
  and again (the idempotent re-import).

Medians over repeats, wall time. Nothing here is part of the test suite.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "nextflow"))


class _Bare(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self) -> None:  # noqa: N802
        json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


def _post_all(server: ThreadingHTTPServer, payloads: list[bytes]) -> float:
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=60)
    start = time.perf_counter()
    for body in payloads:
        conn.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        assert response.status == 200, response.status
    elapsed = time.perf_counter() - start
    conn.close()
    server.shutdown()
    server.server_close()
    return elapsed


def _run_payloads(tasks: int, run: int) -> list[bytes]:
    from nextflow_data import event, metadata, task_events

    name, session = f"bench_{run}", f"00000000-0000-0000-0000-{run:012d}"
    payloads = [event("started", run_name=name, session=session, metadata=metadata("started"))]
    for task in range(1, tasks + 1):
        for payload in task_events(task, f"align (sample{task})"):
            payloads.append({**payload, "runName": name, "runId": session})
    payloads.append(event("completed", run_name=name, session=session,
                          metadata=metadata("completed", success=True)))
    return [json.dumps(p).encode() for p in payloads]


def _trace_file(path: Path, tasks: int) -> None:
    lines = ["task_id\thash\tnative_id\tname\tstatus\texit\tsubmit\tduration\trealtime\t"
             "%cpu\tpeak_rss\tpeak_vmem\trchar\twchar"]
    for task in range(1, tasks + 1):
        lines.append(f"{task}\t{task % 256:02x}/{task:06x}\t{2000 + task}\tblast ({task})\t"
                     "COMPLETED\t0\t2014-10-23 16:33:16.288\t1m 30s\t5s\t35.7%\t29.8 MB\t"
                     "354 MB\t33.3 MB\t121 KB")
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LINEAGE_CONFIG_DIR"] = str(Path(tmp) / "config")
        import lineage as ln
        from lineage.nextflow.trace import import_trace
        from lineage.nextflow.weblog import WeblogServer

        ln.init(storage=Path(tmp) / "instance")
        bare, recorded, first, again = [], [], [], []
        for repeat in range(args.repeats):
            payloads = _run_payloads(args.tasks, repeat)
            bare.append(_post_all(ThreadingHTTPServer(("127.0.0.1", 0), _Bare), payloads))
            recorded.append(_post_all(WeblogServer(("127.0.0.1", 0)), payloads))
            trace = Path(tmp) / f"trace-{repeat}.txt"
            _trace_file(trace, args.tasks)
            start = time.perf_counter()
            import_trace(trace)
            first.append(time.perf_counter() - start)
            start = time.perf_counter()
            import_trace(trace)
            again.append(time.perf_counter() - start)
        events = len(payloads)
        result = {
            "tasks": args.tasks, "events": events, "repeats": args.repeats,
            "weblog_ms_per_event": statistics.median(recorded) / events * 1000,
            "bare_http_ms_per_event": statistics.median(bare) / events * 1000,
            "weblog_ms_per_task": statistics.median(recorded) / args.tasks * 1000,
            "weblog_events_per_s": events / statistics.median(recorded),
            "trace_import_ms_per_row": statistics.median(first) / args.tasks * 1000,
            "trace_reimport_ms_per_row": statistics.median(again) / args.tasks * 1000,
        }
        result["weblog_vs_bare_http"] = (result["weblog_ms_per_event"]
                                         / result["bare_http_ms_per_event"])
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key:28} {value:10.2f}" if isinstance(value, float) else f"{key:28} {value:10}")


if __name__ == "__main__":
    main()
