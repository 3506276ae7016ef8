"""The cost of spaces (PostgreSQL row-level security) on the hot paths.

Two databases on the same server, set up alike by an owner role: one with
the spaces policies and triggers of migration 0004 as they ship, one with row
level security disabled and the trigger dropped (what an instance without
spaces does). A member role, writer of one space and reader of five more,
then measures in each:

* step: ``start_run`` + ``finish_run`` of a run in its space (two write
  transactions: the INSERT policy, then the UPDATE policy and trigger);
* save: ``ln.Artifact(small file).save()`` in a run of its space;
* query: ``ln.Run.filter(status="completed").count()`` over the seeded runs
  and ``ln.lineage_graph`` of the last artifact of a 20-step chain.

Medians in milliseconds, side by side, with the enforced/off ratio; the two
databases take turns round by round, so a load that drifts falls on both.
No figure is asserted anywhere; run it on a quiet machine::

    python benchmarks/spaces_bench.py --server postgresql://postgres@127.0.0.1:5432/postgres
    python benchmarks/spaces_bench.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _admin(url: str):  # noqa: ANN202
    import psycopg

    return psycopg.connect(url, autocommit=True)


def _url(server: str, role: str, database: str) -> str:
    parts = urlsplit(server)
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=f"{role}@{host}", path="/" + database))


def _setup(server: str, owner: str, member: str, database: str, folder: Path, runs: int,
           enforced: bool) -> None:
    import lineage as ln
    from lineage import lifecycle
    from lineage.db import access

    with _admin(server) as conn:
        conn.execute(f'CREATE DATABASE "{database}" OWNER "{owner}"')
    ln.init(storage=folder / database, db=_url(server, owner, database))
    ln.settings.upon_create_search_names = False
    spaces = [lifecycle.create_space(f"team {i}") for i in range(6)]
    lifecycle.add_member(spaces[0], member, "write")
    for space in spaces[1:]:
        lifecycle.add_member(space, member, "read")
    transform = lifecycle.get_or_create_transform("seed.py", "seed", "script")
    db = ln.connect(_url(server, owner, database)).db

    def seed(conn) -> None:  # noqa: ANN001
        for i in range(runs):
            conn.execute(
                "INSERT INTO run (uid, transform_id, status, started_at, attempt, space_id) "
                "VALUES (?, ?, 'completed', now(), 1, ?)",
                [uuid.uuid4().hex[:16], transform.id, spaces[i % 7 - 1].id if i % 7 else 1])

    db.write(seed)
    if not enforced:
        tables = [r[0] for r in db.query(
            "SELECT relname FROM pg_class WHERE relrowsecurity AND relkind = 'r'")]
        for table in tables:
            db.write(lambda c, t=table: c.execute(f"ALTER TABLE {t} DISABLE ROW LEVEL SECURITY"))
            db.write(lambda c, t=table: c.execute(f"DROP TRIGGER IF EXISTS lineage_space_write ON {t}"))
    db.write(lambda c: access.grant_instance_access(c, member))
    db.write(lambda c: c.execute("ANALYZE"))


def _chain(folder: Path, space: str) -> object:
    """The last artifact of a 20-step chain (each step reads the previous artifact)."""
    import lineage as ln
    from lineage import lifecycle

    transform = lifecycle.get_or_create_transform("bench.py", "bench", "script")
    last = None
    for i in range(20):
        step = lifecycle.start_run(transform, space=space, environment=False,
                                   inputs=[last] if last is not None else ())
        token = lifecycle.activate(step)
        path = folder / f"chain{i}-{uuid.uuid4().hex[:6]}.txt"
        path.write_text(f"link {i} {uuid.uuid4().hex}")
        last = ln.Artifact(path, key=f"chain/{i}.txt").save()
        lifecycle.deactivate(token)
        lifecycle.finish_run(step)
    return last


def _round(folder: Path, last: object, times: dict[str, list[float]], steps: int, saves: int,
           queries: int) -> None:
    """One round of each measure on the current instance, appended to `times` (seconds)."""
    import lineage as ln
    from lineage import lifecycle

    space = "team 0"
    transform = lifecycle.get_or_create_transform("bench.py", "bench", "script")
    for _ in range(steps):
        start = time.perf_counter()
        run = lifecycle.start_run(transform, space=space, environment=False)
        lifecycle.finish_run(run)
        times["step"].append(time.perf_counter() - start)
    run = lifecycle.start_run(transform, space=space, environment=False)
    token = lifecycle.activate(run)
    try:
        for _ in range(saves):
            path = folder / f"f-{uuid.uuid4().hex}.txt"
            path.write_text(f"content {uuid.uuid4().hex}")
            start = time.perf_counter()
            ln.Artifact(path, key=f"bench/{path.name}").save()
            times["save"].append(time.perf_counter() - start)
    finally:
        lifecycle.deactivate(token)
        lifecycle.finish_run(run)
    for _ in range(queries):
        start = time.perf_counter()
        ln.Run.filter(status="completed").count()
        times["count"].append(time.perf_counter() - start)
        start = time.perf_counter()
        ln.lineage_graph(last)
        times["graph"].append(time.perf_counter() - start)


def _measure(urls: dict[str, str], folder: Path, rounds: int, steps: int, saves: int,
             queries: int) -> dict[str, dict[str, float]]:
    """Medians (ms) per mode, the modes taking turns round by round (the load drifts alike)."""
    import lineage as ln

    times = {mode: {"step": [], "save": [], "count": [], "graph": []} for mode in urls}
    chains = {}
    for mode, url in urls.items():
        ln.connect(url)
        ln.settings  # noqa: B018 - loaded before timing
        chains[mode] = _chain(folder, "team 0")
        _round(folder, chains[mode], {k: [] for k in times[mode]}, 3, 2, 1)  # warm-up
    for _ in range(rounds):
        for mode, url in urls.items():
            ln.connect(url)
            _round(folder, chains[mode], times[mode], steps, saves, queries)
    return {mode: {name: statistics.median(values) * 1000 for name, values in measures.items()}
            for mode, measures in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default=os.environ.get(
        "LINEAGE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--runs", type=int, default=None, help="runs seeded in each database")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    server = args.server.replace("postgresql+psycopg://", "postgresql://")
    rounds = 5 if args.quick else 20
    steps, saves, queries = 10, 4, 2
    runs = args.runs or (2_000 if args.quick else 20_000)
    suffix = uuid.uuid4().hex[:8]
    owner, member = f"bench_owner_{suffix}", f"bench_member_{suffix}"
    databases = {"off": f"bench_spaces_off_{suffix}", "enforced": f"bench_spaces_on_{suffix}"}
    with _admin(server) as conn:
        conn.execute(f'CREATE ROLE "{owner}" LOGIN')
        conn.execute(f'CREATE ROLE "{member}" LOGIN')
    results: dict[str, dict[str, float]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            for mode, database in databases.items():
                _setup(server, owner, member, database, folder, runs, mode == "enforced")
            work = folder / "work"
            work.mkdir()
            results = _measure({mode: _url(server, member, database)
                                for mode, database in databases.items()},
                               work, rounds, steps, saves, queries)
    finally:
        import lineage.instance as instance_module

        instance_module.close()
        with _admin(server) as conn:
            for database in databases.values():
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{owner}"')
            conn.execute(f'DROP ROLE IF EXISTS "{member}"')
    print(f"spaces on PostgreSQL, member role, {runs} seeded runs in 7 spaces (medians, ms)")
    print(f"{'':8}{'RLS off':>10}{'enforced':>10}{'ratio':>8}")
    for name in ("step", "save", "count", "graph"):
        off, on = results["off"][name], results["enforced"][name]
        print(f"{name:8}{off:10.2f}{on:10.2f}{on / off:8.2f}")
    if args.out:
        args.out.write_text(json.dumps({"runs": runs, "rounds": rounds, "results": results},
                                       indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
