"""How query times grow with the store: 10,000 to 1,000,000 runs (issue 18, "Scale").

One store per backend is grown in steps by `scale_store.grow` (rows written
straight through DB-API; see that module for what the store holds) and
measured at each size, warm (median of `--repeats` after one warm-up), in
this process, through the public API:

==========================  ==========================================  ======
figure                      call                                        target
==========================  ==========================================  ======
upstream lineage, SQL       the graph's queries (`graph.build._fetch`)   -
upstream lineage, graph     ``ln.lineage_graph(artifact, downstream=``   50 ms SQLite, 80 ms PostgreSQL
                            ``False)`` of the 1,000-step chain's end
param filter                ``ln.Run.filter(params__lr=0.01).all()``    1 s SQLite, 100 ms PostgreSQL
feature filter              ``ln.Run.filter(experiment="E1").all()``    1 s SQLite, 100 ms PostgreSQL
newest 50 of a transform    ``ln.Run.filter(transform=t).order_by(``    10 ms
                            ``"-started_at")[:50].all()``, the
                            transform with 10% of all runs
to_dataframe, 10,000 runs   ``ln.Run.filter().order_by("-started_at")`` 1 s
                            ``[:10000].to_dataframe()``
==========================  ==========================================  ======

The filters match 0.1% of the runs (10 at 10,000 runs, 1,000 at 1,000,000):
the time includes building those records. PostgreSQL runs in a fresh
database created on the server given by ``--postgres`` and dropped at the
end; SQLite in a temporary folder (or ``--keep DIR``, reused when run again).

Run: ``python benchmarks/scale_bench.py [--sizes 10000,100000,1000000]
[--postgres URL] [--json PATH]``. No figure is asserted anywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import scale_store  # noqa: E402 - the store generator beside this file

TARGETS_MS = {  # (SQLite, PostgreSQL)
    "lineage_graph": (50, 80), "param_filter": (1000, 100), "feature_filter": (1000, 100),
    "newest_50_big": (10, 10), "newest_50_small": (10, 10), "to_dataframe_10k": (1000, 1000),
}
LABELS = {
    "lineage_sql": "upstream lineage, SQL only",
    "lineage_graph": "upstream lineage (1,000-step chain)",
    "param_filter": "Run.filter(params__lr=0.01)",
    "feature_filter": "Run.filter(experiment='E1')",
    "newest_50_big": "newest 50 runs, transform with 10%",
    "newest_50_small": "newest 50 runs, a typical transform",
    "to_dataframe_10k": "to_dataframe() of 10,000 runs",
}


def timed(work: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median milliseconds of `work` over `repeats` calls after one warm-up, and its result."""
    result = work()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = work()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), result


def measure(repeats: int) -> dict[str, dict[str, Any]]:
    """Every figure of the table on the current instance."""
    import lineage as ln
    from lineage.db.record import current_db
    from lineage.graph.build import _fetch

    db = current_db()
    end = ln.Artifact.get(id=2 * scale_store.CHAIN)
    big = ln.Transform.get(id=scale_store.BIG_TRANSFORM)
    small = ln.Transform.get(id=scale_store.transforms_for(scale_store.current_runs(db)) // 2 + 2)
    work: dict[str, Callable[[], Any]] = {
        "lineage_sql": lambda: db.read(lambda c: _fetch(c, "a", end.id, True, False, None, True)),
        "lineage_graph": lambda: ln.lineage_graph(end, downstream=False),
        "param_filter": lambda: ln.Run.filter(params__lr=0.01).all(),
        "feature_filter": lambda: ln.Run.filter(experiment="E1").all(),
        "newest_50_big": lambda: ln.Run.filter(transform=big).order_by("-started_at")[:50].all(),
        "newest_50_small": lambda: ln.Run.filter(transform=small).order_by("-started_at")[:50].all(),
        "to_dataframe_10k": lambda: ln.Run.filter().order_by("-started_at")[:10000].to_dataframe(),
    }
    out = {}
    for name, call in work.items():
        ms, result = timed(call, repeats)
        if name == "lineage_sql":
            size = len(result["depths"])
        elif name == "lineage_graph":
            size = result.number_of_nodes()
        else:
            size = len(result)
        out[name] = {"ms": round(ms, 2), "rows": size}
        print(f"    {LABELS[name]:<40}{ms:>10.1f} ms  ({size:,} rows)", flush=True)
    for name, transform in (("newest_50_big", big), ("newest_50_small", small)):
        out[name]["transform_runs"] = ln.Run.filter(transform=transform).count()
    return out


def store_bytes(instance: Any) -> int:
    """Size of the database on disk."""
    if instance.db.is_sqlite:
        path = Path(instance.db.sqlite_path)
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    return int(instance.db.query("SELECT pg_database_size(current_database())")[0][0])


def run_backend(sizes: list[int], folder: Path, db_url: str | None, repeats: int) -> dict[str, Any]:
    """Grow one store through `sizes`, measuring at each."""
    import lineage as ln

    instance = ln.init(storage=folder, db=db_url)
    results = []
    for size in sizes:
        print(f"growing to {size:,} runs ...", flush=True)
        seconds = scale_store.grow(instance, size, log=lambda m: print(m, flush=True))
        counts = {t: int(instance.db.query(f"SELECT COUNT(*) FROM {t}")[0][0])
                  for t in ("run", "transform", "artifact", "run_input", "run_feature_value")}
        print(f"  {counts} in {seconds:.0f} s, {store_bytes(instance) / 2**20:,.0f} MiB", flush=True)
        figures = measure(repeats)
        results.append({"runs": size, "counts": counts, "build_s": round(seconds, 1),
                        "db_mib": round(store_bytes(instance) / 2**20), "figures": figures})
    return {"backend": "SQLite" if db_url is None else "PostgreSQL", "sizes": results}


def table(result: dict[str, Any]) -> str:
    """A text table: one row per figure, one column per size, the target last."""
    sizes = result["sizes"]
    pg = result["backend"] == "PostgreSQL"
    head = f"{result['backend'] + ' (median ms)':<42}" + "".join(
        f"{s['runs']:>12,}" for s in sizes) + f"{'target':>9}"
    lines = [head]
    for name, label in LABELS.items():
        cells = "".join(f"{s['figures'][name]['ms']:>12.1f}" for s in sizes)
        target = TARGETS_MS.get(name)
        lines.append(f"{label:<42}{cells}{'' if target is None else target[pg]:>9}")
    lines.append(f"{'rows of the filters':<42}" + "".join(
        f"{s['figures']['param_filter']['rows']:>12,}" for s in sizes))
    lines.append(f"{'build time, s (this step)':<42}" + "".join(f"{s['build_s']:>12.0f}" for s in sizes))
    lines.append(f"{'database size, MiB':<42}" + "".join(f"{s['db_mib']:>12,}" for s in sizes))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Build, measure, print and optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--postgres", default=None, metavar="URL",
                        help="measure on PostgreSQL (admin URL; a temporary database)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the SQLite store here")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    import graph_bench  # the PostgreSQL database helper

    tmp = Path(tempfile.mkdtemp(prefix="lineage-scale-"))
    os.environ["LINEAGE_CONFIG_DIR"] = str(tmp / "config")
    folder = args.keep or tmp / "store"
    load = os.getloadavg()[0]
    try:
        with graph_bench.postgres_database(args.postgres, "scale") as db_url:
            result = run_backend(sizes, folder, db_url, args.repeats)
    finally:
        import lineage.instance as instance_module

        instance_module.close()
        shutil.rmtree(tmp, ignore_errors=True)
    result["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform(),
                         "python": platform.python_version(),
                         "load_average": [round(load, 1), round(os.getloadavg()[0], 1)],
                         "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    print()
    print(table(result))
    print(f"load average {result['machine']['load_average'][0]} at start, "
          f"{result['machine']['load_average'][1]} at end")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
