"""First requests of UI URLs, two source trees against each other, interleaved.

`ui_bench` reports one first request per URL and run; on a shared machine
one sample says little. This bench builds `ui_bench`'s 100,000-run instance
once (kept in `--keep`, and on PostgreSQL in a database named after it, so
later runs reuse them), then takes samples round by round: each round starts
a fresh ``lineage ui`` per tree (each tree a Python with its own checkout
of lineage installed), requests every `ui_bench` URL once in `ui_bench`'s
order and records each one's ``Server-Timing`` (a first request: graphs,
drawings and runs-table orders are kept until the store changes). The trees
take turns and swap places every round; every sample starts with an empty
drawings cache folder. It prints, per URL, each tree's median and their
ratio (second / first).

Run: ``python benchmarks/ui_first_bench.py --keep DIR --python BEFORE/bin/python
--python AFTER/bin/python [--rounds N] [--postgres URL] [--only LABEL ...]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import ui_bench  # noqa: E402 - the instance and its URLs


def instance(keep: Path, admin_url: str | None) -> tuple[str, dict[str, Any]]:
    """The instance target (folder or URL) and its uids, built unless kept."""
    name = "ids-postgres.json" if admin_url else "ids-sqlite.json"
    store = keep / ("store-postgres" if admin_url else "store-sqlite")
    db_url = _database(admin_url, keep) if admin_url else None
    ids_file = keep / name
    if not ids_file.exists():
        os.environ["LINEAGE_CONFIG_DIR"] = str(keep / "config")
        ids = ui_bench.build(store, db_url)
        ids_file.write_text(json.dumps(ids))
        import lineage.instance as instance_module

        instance_module.close()
    return db_url or str(store), json.loads(ids_file.read_text())


def _database(admin_url: str, keep: Path) -> str:
    """The URL of this keep folder's database, created (empty) if missing."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    database = "lineage_ui_first_" + "".join(c if c.isalnum() else "_" for c in keep.name).lower()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')
            (keep / "ids-postgres.json").unlink(missing_ok=True)
    return urlunsplit(urlsplit(admin_url)._replace(path="/" + database))


def sample(python: str, target: str, keep: Path, paths: list[str]) -> list[float]:
    """Server ms of the first request of each path, in a fresh server with no kept drawings."""
    cache = Path(tempfile.mkdtemp(prefix="lineage-ui-first-"))
    env = {**os.environ, "LINEAGE_CONFIG_DIR": str(keep / "config"),
           "LINEAGE_CACHE_DIR": str(cache)}
    if not target.startswith("postgresql"):
        shutil.rmtree(Path(target) / "cache" / "ui-drawings", ignore_errors=True)
    proc = subprocess.Popen([python, "-m", "lineage", "ui", "--port", "0", "--instance", target],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        base = None
        for line in proc.stdout:
            if "lineage ui: serving" in line:
                base = line.split(" at ", 1)[1].split(" ", 1)[0].rstrip("/")
                break
        if base is None:
            raise RuntimeError(f"{python}: lineage ui did not start")
        out = []
        for path in paths:
            with urllib.request.urlopen(base + path, timeout=120) as response:
                response.read()
                out.append(float(response.headers["server-timing"].split("dur=", 1)[1]))
        return out
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(cache, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    """Build or reuse the instance, take interleaved samples, print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, required=True, help="instance folder (reused)")
    parser.add_argument("--python", action="append", required=True,
                        help="a Python with a lineage tree installed (give two)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--postgres", default=None, metavar="URL", help="admin URL")
    parser.add_argument("--json", type=Path, default=None, help="also write every sample here")
    args = parser.parse_args(argv)
    args.keep.mkdir(parents=True, exist_ok=True)
    target, ids = instance(args.keep.absolute(), args.postgres)
    urls = ui_bench.urls(ids)
    samples: dict[str, list[list[float]]] = {p: [] for p in args.python}
    for round_no in range(args.rounds):
        order = args.python if round_no % 2 == 0 else args.python[::-1]
        for python in order:
            samples[python].append(sample(python, target, args.keep.absolute(),
                                          [path for _, path in urls]))
        print(f"round {round_no + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{backend}, first requests, median of {args.rounds} fresh servers per tree (ms)")
    print(f"{'URL':<40}" + "".join(f"{Path(p).parent.parent.name:>14}" for p in args.python)
          + (f"{'ratio':>8}" if len(args.python) == 2 else ""))
    for index, (label, _) in enumerate(urls):
        medians = [statistics.median(s[index] for s in samples[p]) for p in args.python]
        line = f"{label:<40}" + "".join(f"{m:>14.1f}" for m in medians)
        if len(medians) == 2:
            line += f"{medians[1] / medians[0]:>8.2f}"
        print(line)
    if args.json:
        args.json.write_text(json.dumps({
            "backend": backend, "labels": [label for label, _ in urls],
            "samples": {p: s for p, s in samples.items()}}, indent=1))


if __name__ == "__main__":
    main()
