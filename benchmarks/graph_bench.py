"""Lineage-graph query cost: grows with the answer, not with the store.

Two embedded (SQLite) instances are filled with rows inserted by
``executemany`` (setup speed; the graph code reads them like any other):

* ``chain``: one chain of 1,000 steps (raw -> run -> artifact -> run ...).
* ``store``: the same chain plus 99,000 other runs (990 flows, each
  initiating a chain of 99 steps with inputs and outputs): 100,000 runs,
  about 100,000 artifacts and input links in all.

Measured (median of repeats, warm cache) for the upstream lineage of the
last artifact of the 1,000-step chain in both stores, and of a 10-step
chain in the large store:

* ``query``: the SQL of the graph (recursive CTE + node and edge rows),
* ``graph``: `ln.lineage_graph` end to end (query + networkx graph).

Run: ``python benchmarks/graph_bench.py [--repeats N] [--keep DIR]``; add
``--postgres postgresql://user@host/postgres`` for the same on PostgreSQL
(temporary databases, created and dropped).
The target is ``query < 100 ms`` for the 1,000-step chain, about equal in
both stores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


class Rows:
    """Builds encoded rows for ``executemany`` with explicit, increasing ids."""

    def __init__(self, dialect: Any) -> None:
        from lineage.artifact import Artifact
        from lineage.models.run import Run

        self.dialect = dialect
        self.models = {"run": Run, "artifact": Artifact}
        self.rows: dict[str, list[tuple]] = {"run": [], "artifact": [], "run_input": []}
        self.next_id = {"run": 1, "artifact": 1}
        self.defaults = {name: {f: spec.initial() for f, spec in model.fields.items()}
                         for name, model in self.models.items()}

    def add(self, table: str, **values: Any) -> int:
        """Queue one run or artifact row; return its id."""
        from lineage.db.uids import to_base62

        model = self.models[table]
        new_id = self.next_id[table]
        self.next_id[table] += 1
        row = dict(self.defaults[table], uid=to_base62(new_id, 16), **values)
        self.rows[table].append((new_id, *(self.dialect.encode(spec.kind, row[f])
                                           for f, spec in model.fields.items())))
        return new_id

    def run(self, transform_id: int, step: int, parent: int | None = None,
            inputs: tuple[int, ...] = ()) -> int:
        """A completed run that loaded `inputs`."""
        run_id = self.add("run", transform_id=transform_id, entrypoint="step", status="completed",
                          started_at=T0 + timedelta(seconds=step), initiated_by_run_id=parent)
        created = self.dialect.encode("datetime", T0)
        self.rows["run_input"].extend((run_id, a, created) for a in inputs)
        return run_id

    def artifact(self, key: str, run_id: int | None) -> int:
        """A visible, latest artifact created by `run_id`."""
        return self.add("artifact", key=key, hash=f"{key:0>64}"[-64:], size=1, run_id=run_id,
                        is_latest=True, storage_ongoing=False, version=1)

    def chain(self, transform_id: int, prefix: str, steps: int, parent: int | None = None) -> int:
        """raw -> run -> artifact ... (`steps` runs); return the last artifact id."""
        last = self.artifact(f"{prefix}/raw", None)
        for i in range(steps):
            run_id = self.run(transform_id, i, parent, inputs=(last,))
            last = self.artifact(f"{prefix}/{i}", run_id)
        return last

    def flush(self, db: Any) -> None:
        """Insert every queued row in one transaction."""
        from lineage.artifact import Artifact
        from lineage.models.run import Run

        def insert(conn: Any) -> None:
            cursor = conn.raw.cursor()
            sql = conn.dialect.sql
            for table, model in (("run", Run), ("artifact", Artifact)):
                columns = ["id", *model.fields]
                marks = ", ".join("?" for _ in columns)
                insert_sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
                cursor.executemany(sql(insert_sql), self.rows[table])
            cursor.executemany(sql("INSERT INTO run_input (run_id, artifact_id, created_at) "
                                   "VALUES (?, ?, ?)"), self.rows["run_input"])
            if not db.is_sqlite:  # explicit ids: move the sequences past them
                for table in ("run", "artifact"):
                    conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"(SELECT MAX(id) FROM {table}))")

        db.write(insert)
        # SQLite: no ANALYZE, the planner sees what a user's store shows it.
        # PostgreSQL: autovacuum analyzes a table after this many inserts; do it now.
        if not db.is_sqlite:
            db.write(lambda conn: conn.execute("ANALYZE"))


def build(folder: Path, background_flows: int, db_url: str | None = None,
          rows_class: type[Rows] = Rows) -> dict[str, int]:
    """A fresh instance in `folder` (and `db_url`): 1,000- and 10-step chains, background.

    `rows_class` builds the rows (a subclass may give runs more fields).
    """
    import lineage as ln
    from lineage.db.record import current_db

    instance = ln.init(storage=folder, db=db_url)
    transform = ln.Transform(key="bench/step.py", hash="b" * 64, source_code="pass").save()
    flow = ln.Transform(key="bench/flow.py", hash="f" * 64, source_code="pass").save()
    rows = rows_class(instance.db.dialect)
    ids = {"long": rows.chain(transform.id, "long", 1000),
           "short": rows.chain(transform.id, "short", 10)}
    for i in range(background_flows):
        parent = rows.run(flow.id, i)
        rows.chain(transform.id, f"bg{i}", 99, parent=parent)
    rows.flush(current_db())
    ids["runs"] = instance.db.query("SELECT COUNT(*) FROM run")[0][0]
    ids["artifacts"] = instance.db.query("SELECT COUNT(*) FROM artifact")[0][0]
    return ids


def timed(work: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median milliseconds of `work` over `repeats` calls (after one warm-up) and its result."""
    result = work()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = work()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), result


def measure(artifact_id: int, repeats: int) -> dict[str, Any]:
    """Times of the graph query and of the whole `lineage_graph` call."""
    import lineage as ln
    from lineage.db.record import current_db
    from lineage.graph.build import _fetch

    artifact = ln.Artifact.get(id=artifact_id)
    db = current_db()
    query_ms, fetched = timed(lambda: db.read(
        lambda conn: _fetch(conn, "a", artifact_id, True, False, None, True)), repeats)
    graph_ms, graph = timed(lambda: ln.lineage_graph(artifact, downstream=False), repeats)
    return {"query_ms": query_ms, "graph_ms": graph_ms, "nodes": graph.number_of_nodes(),
            "edges": graph.number_of_edges(), "rows": len(fetched["depths"])}


@contextmanager
def postgres_database(admin_url: str | None, name: str) -> Iterator[str | None]:
    """A fresh PostgreSQL database (dropped afterwards), or None for SQLite."""
    if admin_url is None:
        yield None
        return
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    database = f"lineage_graph_bench_{name}_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    try:
        yield urlunsplit(urlsplit(admin_url)._replace(path="/" + database))
    finally:
        import lineage.instance as instance_module

        instance_module.close()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def stores(keep: Path | None) -> Iterator[Path]:
    """Folders for the two instances (temporary unless `keep`)."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="lineage-graph-bench-") as tmp:
        yield Path(tmp)


def main(argv: list[str] | None = None) -> None:
    """Build both stores, measure, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--keep", type=Path, default=None, help="keep the instances in this folder")
    parser.add_argument("--postgres", default=None, metavar="URL",
                        help="measure on PostgreSQL instead (admin URL; temporary databases)")
    args = parser.parse_args(argv)
    import lineage.instance as instance_module

    results = []
    for base in stores(args.keep):
        for name, flows in (("chain", 0), ("store", 990)):
            with postgres_database(args.postgres, name) as db_url:
                start = time.perf_counter()
                ids = build(base / name, flows, db_url)
                setup_s = time.perf_counter() - start
                print(f"{name}: {ids['runs']:,} runs, {ids['artifacts']:,} artifacts "
                      f"(setup {setup_s:.1f} s)")
                targets = [("1,000-step chain", ids["long"])]
                if flows:
                    targets.append(("10-step chain", ids["short"]))
                for label, artifact_id in targets:
                    results.append((name, ids["runs"], label, measure(artifact_id, args.repeats)))
                instance_module.close()
    print()
    print(f"{'store':<7}{'runs':>9}  {'lineage of':<18}{'nodes':>6}{'edges':>7}"
          f"{'query ms':>10}{'graph ms':>10}")
    for name, runs, label, m in results:
        print(f"{name:<7}{runs:>9,}  {label:<18}{m['nodes']:>6}{m['edges']:>7}"
              f"{m['query_ms']:>10.1f}{m['graph_ms']:>10.1f}")
    chain_ms = results[0][3]["query_ms"]
    store_ms = results[1][3]["query_ms"]
    verdict = "OK" if max(chain_ms, store_ms) < 100 else "OVER BUDGET"
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"\n{backend}: 1,000-step chain query {chain_ms:.1f} ms alone, {store_ms:.1f} ms among "
          f"{results[1][1]:,} runs (ratio {store_ms / chain_ms:.2f}; budget 100 ms: {verdict})")


if __name__ == "__main__":
    main()
