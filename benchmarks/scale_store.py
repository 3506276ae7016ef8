"""A large lineage store, fast: rows written straight through DB-API.

`grow` brings an instance to `runs` runs (and ``runs // 100`` transforms,
``2 * runs`` artifacts, one input link and one feature value per run),
appending to what an earlier call wrote, so one store is measured at
10,000, then 100,000, then 1,000,000 runs. The schema is the instance's own
(created by ``ln.init``, that is by lineage's migrations); the columns and
their encodings come from the record classes' field declarations, so the
rows are the rows lineage itself would write. SQLite gets ``executemany`` in
large transactions on its own connection (``synchronous = OFF`` while
loading: a crash mid-build only loses the benchmark store); PostgreSQL gets
``COPY``, then ``VACUUM ANALYZE`` (what autovacuum would do after such a
load).

Every row is a function of its id, so a store grown in steps equals one
built at once. What the store holds, run ``i`` (1-based):

* runs 1 to 1,000 form one chain (transform ``bench/chain.py``): run ``i``
  loads artifact ``2(i-1)`` and creates ``2i-1`` and ``2i``, so the upstream
  lineage of artifact 2,000 is 1,000 runs and 1,000 artifacts;
* every tenth other run belongs to transform ``bench/big.py`` (10% of all
  runs: the "newest runs of a transform" that needs an index to stay fast);
  the rest to one of the other transforms (``pipelines/tNNNNN.py``), a
  transform taking runs from the moment there are 100 runs per transform;
* other runs load one earlier artifact (a random DAG) and create two;
* params ``{"lr", "batch_size", "epochs", "optimizer", "seed", "model":
  {"layers", "dropout"}}`` with ``lr`` one of 1,000 values (``lr = 0.01``
  matches 0.1% of the runs), realistic ``cli_args`` and ``git``;
* the feature ``experiment`` (str) on every run, one of 1,000 values
  (``experiment = "E1"`` matches 0.1%); every 997th run errored.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
CHAIN = 1000
CHAIN_TRANSFORM, BIG_TRANSFORM = 1, 2
RUNS_PER_TRANSFORM = 100
BATCH = 50_000


def transforms_for(runs: int) -> int:
    """How many transforms a store of `runs` runs has (at least 3)."""
    return max(3, runs // RUNS_PER_TRANSFORM)


def run_transform(i: int) -> int:
    """The transform id of run `i`."""
    if i <= CHAIN:
        return CHAIN_TRANSFORM
    if i % 10 == 0:
        return BIG_TRANSFORM
    others = transforms_for(i) - 2
    return 3 + (i * 2654435761 % 2**32) % others


def run_input(i: int) -> int | None:
    """The artifact run `i` loads."""
    if i == 1:
        return None
    if i <= CHAIN:
        return 2 * (i - 1)
    if i == CHAIN + 1:
        return 1
    return 2 * (CHAIN + 1 + (i * 40503) % (i - CHAIN - 1)) - 1


def lr(i: int) -> float:
    """The learning rate param of run `i` (0.0001 to 0.1; 0.01 one run in 1,000)."""
    return round((1 + (i * 7919) % 1000) / 10000, 4)


def experiment(i: int) -> str:
    """The ``experiment`` feature value of run `i` (``E0`` to ``E999``)."""
    return f"E{(i * 31) % 1000}"


class Generator:
    """Rows of one instance, encoded for its dialect.

    Args:
        instance: The instance (from ``ln.init``), empty of runs or grown by `grow`.
    """

    def __init__(self, instance: Any) -> None:
        import lineage as ln
        from lineage.artifact import Artifact
        from lineage.models.feature import FeatureValue
        from lineage.models.run import Run
        from lineage.models.transform import Transform

        self.db = instance.db
        self.dialect = instance.db.dialect
        self.models = {"transform": Transform, "run": Run, "artifact": Artifact,
                       "run_feature_value": FeatureValue}
        feature = ln.Feature.filter(name="experiment").first()
        self.feature_id = (feature or ln.Feature(name="experiment", dtype=str).save()).id
        self.storage_id = self.db.query("SELECT MIN(id) FROM storage")[0][0]
        self.defaults: dict[str, dict[str, Any]] = {}

    def columns(self, table: str) -> list[str]:
        """The columns written for `table` (``id`` first)."""
        return ["id", *self.models[table].fields]

    def encode(self, table: str, values: dict[str, Any]) -> tuple:
        """One row: `values`, the fields' defaults for the rest, encoded."""
        fields = self.models[table].fields
        defaults = self.defaults.get(table)
        if defaults is None:
            defaults = self.defaults[table] = {n: spec.initial() for n, spec in fields.items()}
        enc = self.dialect.encode
        return (values["id"], *(enc(spec.kind, values.get(name, defaults[name]))
                                for name, spec in fields.items()))

    def transform(self, j: int) -> tuple:
        key = {CHAIN_TRANSFORM: "bench/chain.py", BIG_TRANSFORM: "bench/big.py"}.get(
            j, f"pipelines/t{j:05d}.py")
        return self.encode("transform", {
            "id": j, "uid": _uid(j), "key": key, "kind": "script", "hash": f"{j:064x}",
            "source_code": f"# {key}\nimport lineage as ln\nln.track()\n", "version": 1,
            "is_latest": True, "created_at": T0})

    def run(self, i: int) -> tuple:
        started = T0 + timedelta(seconds=i)
        errored = i % 997 == 0
        rate = lr(i)
        return self.encode("run", {
            "id": i, "uid": _uid(i), "transform_id": run_transform(i),
            "status": "errored" if errored else "completed", "started_at": started,
            "finished_at": started + timedelta(milliseconds=200 + i % 5000),
            "params": {"lr": rate, "batch_size": (16, 32, 64, 128)[i % 4], "epochs": i % 50,
                       "optimizer": ("adam", "sgd", "adamw")[i % 3], "seed": i,
                       "model": {"layers": i % 5 + 1, "dropout": 0.1}},
            "cli_args": ["train.py", "--lr", str(rate), "--seed", str(i)],
            "git": {"commit": f"{i // 50:040x}", "branch": "main", "dirty": i % 7 == 0,
                    "remote": "git@example.org:lab/pipelines.git"},
            "error": "ValueError: diverged" if errored else None, "attempt": 1,
            "pid": 1000 + i % 30000, "host": f"worker-{i % 8}"})

    def artifact(self, a: int) -> tuple:
        i = (a + 1) // 2
        digest = f"{a:064x}"
        created = T0 + timedelta(seconds=i, milliseconds=100)
        return self.encode("artifact", {
            "id": a, "uid": _uid(a), "key": f"runs/{i}/out{2 - a % 2}.parquet", "suffix": ".parquet",
            "kind": "file", "otype": "DataFrame", "size": 1000 + a, "hash": digest,
            "hash_type": "sha256", "dedup_hash": digest, "storage_id": self.storage_id,
            "object_key": f"objects/{digest[:2]}/{digest}.parquet", "run_id": i, "version": 1,
            "is_latest": True, "storage_ongoing": False, "created_at": created,
            "updated_at": created})

    def batches(self, start: int, stop: int) -> Iterator[dict[str, list[tuple]]]:
        """Rows of runs ``start..stop-1`` (and their artifacts, inputs, features), in batches."""
        created = self.dialect.encode("datetime", T0)
        for first in range(start, stop, BATCH):
            last = min(stop, first + BATCH)
            rows: dict[str, list[tuple]] = {"run": [], "artifact": [], "run_input": [],
                                            "run_feature_value": []}
            for i in range(first, last):
                rows["run"].append(self.run(i))
                rows["artifact"] += [self.artifact(2 * i - 1), self.artifact(2 * i)]
                source = run_input(i)
                if source is not None:
                    rows["run_input"].append((i, source, created))
                rows["run_feature_value"].append(self.encode("run_feature_value", {
                    "id": i, "run_id": i, "feature_id": self.feature_id,
                    "value": experiment(i)}))
            yield rows


def current_runs(db: Any) -> int:
    """The highest run id in the store (0 when empty)."""
    return int(db.query("SELECT COALESCE(MAX(id), 0) FROM run")[0][0])


def grow(instance: Any, runs: int, log: Any = print) -> float:
    """Append rows until the store holds `runs` runs; return the seconds it took."""
    start = time.perf_counter()
    gen = Generator(instance)
    have = current_runs(instance.db)
    if have >= runs:
        return 0.0
    have_transforms = int(instance.db.query("SELECT COALESCE(MAX(id), 0) FROM transform")[0][0])
    transforms = [gen.transform(j) for j in range(have_transforms + 1, transforms_for(runs) + 1)]
    link_columns = {"run_input": ["run_id", "artifact_id", "created_at"]}
    tables = ("transform", "run", "artifact", "run_input", "run_feature_value")
    columns = {t: link_columns.get(t) or gen.columns(t) for t in tables}
    writer = _SqliteWriter(instance.db) if instance.db.is_sqlite else _PostgresWriter(instance.db)
    try:
        writer.write("transform", columns["transform"], transforms)
        for rows in gen.batches(have + 1, runs + 1):
            for table in tables[1:]:
                writer.write(table, columns[table], rows[table])
            writer.commit()
            log(f"  {rows['run'][-1][0]:,} runs written ({time.perf_counter() - start:.0f} s)")
        writer.finish()
    finally:
        writer.close()
    return time.perf_counter() - start


class _SqliteWriter:
    def __init__(self, db: Any) -> None:
        import sqlite3

        self.conn = sqlite3.connect(str(db.sqlite_path), isolation_level=None)
        self.conn.execute("PRAGMA synchronous = OFF")
        self.conn.execute("PRAGMA cache_size = -262144")  # 256 MiB while loading
        self.conn.execute("BEGIN")

    def write(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        marks = ", ".join("?" for _ in columns)
        self.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def commit(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.execute("BEGIN")

    def finish(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self.conn.close()


class _PostgresWriter:
    def __init__(self, db: Any) -> None:
        import psycopg

        self.conn = psycopg.connect(db.url)

    def write(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        with self.conn.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

    def commit(self) -> None:
        self.conn.commit()

    def finish(self) -> None:
        self.conn.commit()
        self.conn.autocommit = True
        for table in ("run", "artifact", "transform"):
            self.conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT MAX(id) FROM {table}))")
        self.conn.execute("SELECT setval(pg_get_serial_sequence('run_feature_value', 'id'), "
                          "(SELECT MAX(id) FROM run_feature_value))")
        self.conn.execute("VACUUM ANALYZE")

    def close(self) -> None:
        self.conn.close()


def _uid(number: int) -> str:
    from lineage.db.uids import to_base62

    return to_base62(number, 16)
