"""Server time of every UI page and API call on an instance with 100,000 runs.

The instance is the one of `graph_bench` (a 1,000-step chain plus 990 flows
of 99 steps: 100,000 runs, about 100,000 artifacts and input links, rows
inserted with ``executemany`` through the record classes' column
declarations), with params on every run (``lr``, ``depth``, ``seed``), a
feature value on every tenth run, one project holding 10,000 runs and a
few errored runs. A real ``lineage ui`` process serves it on loopback; each
URL is requested `--repeats` times after one warm-up, and the median of the
``Server-Timing`` header (time inside the server, from the first byte of the
request to the response headers) is reported with the client's wall time and
the server time of the warm-up itself ("first": graphs and drawings are kept
until the store changes, so that is their uncached cost).

Run: ``python benchmarks/ui_bench.py [--repeats N] [--keep DIR] [--postgres URL]``.
The target is < 100 ms server time for every line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import graph_bench  # noqa: E402 - the shared instance builder

BUDGET_MS = 100.0


class ParamRows(graph_bench.Rows):
    """`graph_bench.Rows` whose runs carry params, and every 97th one errored."""

    def run(self, transform_id: int, step: int, parent: int | None = None,
            inputs: tuple[int, ...] = ()) -> int:
        n = self.next_id["run"]
        status = "errored" if n % 997 == 0 else "completed"
        run_id = self.add("run", transform_id=transform_id, entrypoint="step", status=status,
                          started_at=graph_bench.T0 + timedelta(seconds=n),
                          finished_at=graph_bench.T0 + timedelta(seconds=n, milliseconds=n % 997),
                          initiated_by_run_id=parent,
                          params={"lr": [0.001, 0.01, 0.1][n % 3], "depth": n % 7, "seed": n,
                                  "model": {"layers": n % 5}},
                          error="ValueError: bench" if status == "errored" else None)
        created = self.dialect.encode("datetime", graph_bench.T0)
        self.rows["run_input"].extend((run_id, a, created) for a in inputs)
        return run_id


def build(folder: Path, db_url: str | None) -> dict[str, Any]:
    """The 100,000-run instance; returns the uids the URLs name."""
    import lineage as ln
    from lineage.db.record import current_db

    ids = graph_bench.build(folder, 990, db_url, rows_class=ParamRows)
    db = current_db()
    feature = ln.Feature(name="experiment", dtype=str).save()
    project = ln.Project(name="Benchmark").save()

    def extra(conn: Any) -> None:
        cursor = conn.raw.cursor()
        run_ids = [r[0] for r in conn.fetchall("SELECT id FROM run ORDER BY id")]
        cursor.executemany(conn.dialect.sql(
            "INSERT INTO run_feature_value (run_id, feature_id, value) VALUES (?, ?, ?)"),
            [(i, feature.id, conn.dialect.encode("json", f"E{i % 4}")) for i in run_ids[::10]])
        cursor.executemany(conn.dialect.sql(
            "INSERT INTO project_run (project_id, run_id) VALUES (?, ?)"),
            [(project.id, i) for i in run_ids[::10]])

    db.write(extra)
    if not db.is_sqlite:
        db.write(lambda conn: conn.execute("ANALYZE"))
    q = db.query
    last = q("SELECT uid, run_id FROM artifact WHERE id = ?", [ids["long"]])[0]
    ids.update(
        last_artifact=last[0], chain_run=q("SELECT uid FROM run WHERE id = ?", [last[1]])[0][0],
        flow_run=q("SELECT uid FROM run WHERE entrypoint = 'step' AND id IN (SELECT "
                   "initiated_by_run_id FROM run) LIMIT 1")[0][0],
        other_run=q("SELECT uid FROM run ORDER BY id DESC LIMIT 1")[0][0],
        transform=q("SELECT uid FROM transform WHERE key = 'bench/step.py'")[0][0],
        project=project.uid,
    )
    return ids


def urls(ids: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, path) of every page and API call measured."""
    last, run = ids["last_artifact"], ids["chain_run"]
    return [
        ("runs page", "/runs"),
        ("runs API, newest first", "/api/runs"),
        ("runs, sorted by a param", "/api/runs?sort=-params.lr"),
        ("runs, param filter (scan)", "/api/runs?where=params.lr%20%3E%200.05"),
        ("runs, feature filter", "/api/runs?where=features.experiment%20%3D%20E1"),
        ("runs, status errored", "/api/runs?status=errored"),
        ("runs, by transform", "/api/runs?transform=bench/step.py"),
        ("runs, by project", f"/api/runs?project={ids['project']}"),
        ("runs, text search", "/api/runs?q=bench"),
        ("runs, last page", "/api/runs?offset=99950"),
        ("instance summary", "/api/instance"),
        ("run page (chain step)", f"/runs/{run}"),
        ("run API (flow, 99 steps)", f"/api/runs/{ids['flow_run']}"),
        ("compare 2 runs", f"/compare?runs={run},{ids['other_run']}"),
        ("transform page (99k runs)", f"/transforms/{ids['transform']}"),
        ("artifact page", f"/artifacts/{last}"),
        ("project page (10k runs)", f"/projects/{ids['project']}"),
        ("projects", "/projects"),
        ("graph page", f"/graph/{last}"),
        ("graph API, 2 hops", f"/api/graph/{last}"),
        ("graph SVG, 2 hops", f"/api/graph/{last}/svg"),
        ("graph SVG, 1,000-step chain collapsed", f"/api/graph/{last}/svg?up=2000&down=0"),
        ("graph API, 1,001 nodes", f"/api/graph/{last}?up=1000&down=0&collapse=false"),
        ("graph SVG, 1,001 nodes", f"/api/graph/{last}/svg?up=1000&down=0&collapse=false"),
        ("OpenAPI", "/api/openapi.json"),
    ]


def measure(base: str, path: str, repeats: int) -> tuple[float, float, float, int]:
    """Server ms of the first request, median server ms, median wall ms, response bytes.

    The first request of a URL is the uncached one (graphs and drawings are
    kept until the store changes); the median is of the `repeats` after it.
    """
    server, wall, size, first = [], [], 0, 0.0
    for i in range(repeats + 1):
        start = time.perf_counter()
        with urllib.request.urlopen(base + path, timeout=120) as response:
            body = response.read()
            timing = response.headers["server-timing"]
        if i == 0:
            first = float(timing.split("dur=", 1)[1])
            continue  # warm-up
        wall.append((time.perf_counter() - start) * 1000)
        server.append(float(timing.split("dur=", 1)[1]))
        size = len(body)
    return first, statistics.median(server), statistics.median(wall), size


def serve(target: str, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "lineage", "ui", "--port", "0", "--instance",
                             target], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **env})
    for line in proc.stdout:
        if "lineage ui: serving" in line:
            return proc, line.split(" at ", 1)[1].split(" ", 1)[0].rstrip("/")
    raise RuntimeError("lineage ui did not start")


def main(argv: list[str] | None = None) -> None:
    """Build the instance, serve it, time every URL, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keep", type=Path, default=None, help="build the instance here")
    parser.add_argument("--postgres", default=None, metavar="URL",
                        help="measure on PostgreSQL (admin URL; a temporary database)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    import lineage.instance as instance_module

    for base in graph_bench.stores(args.keep):
        with graph_bench.postgres_database(args.postgres, "ui") as db_url:
            env = {"LINEAGE_CONFIG_DIR": str(base / "config")}
            os.environ.update(env)
            start = time.perf_counter()
            ids = build(base / "store", db_url)
            instance_module.close()
            print(f"instance: {ids['runs']:,} runs, {ids['artifacts']:,} artifacts "
                  f"(built in {time.perf_counter() - start:.1f} s)", flush=True)
            proc, url = serve(db_url or str(base / "store"), env)
            try:
                rows = []
                print(f"{'page / call':<40}{'first':>9}{'server':>9}{'wall':>9}  (ms)")
                for label, path in urls(ids):
                    first_ms, server_ms, wall_ms, size = measure(url, path, args.repeats)
                    rows.append({"label": label, "path": path, "server_ms": round(server_ms, 1),
                                 "first_ms": round(first_ms, 1), "wall_ms": round(wall_ms, 1),
                                 "bytes": size})
                    print(f"{label:<40}{first_ms:>9.1f}{server_ms:>9.1f}{wall_ms:>9.1f}"
                          f"{size / 1024:>9.0f} KiB"
                          f"{'' if server_ms < BUDGET_MS else '   OVER 100 ms'}", flush=True)
            finally:
                proc.terminate()
                proc.wait(10)
    over = [r for r in rows if r["server_ms"] >= BUDGET_MS]
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"\n{backend}: {len(rows) - len(over)} of {len(rows)} URLs under {BUDGET_MS:.0f} ms "
          f"server time (median of {args.repeats}); over: {', '.join(r['label'] for r in over) or 'none'}")
    if args.json:
        args.json.write_text(json.dumps({"backend": backend, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
