"""Counts of the runs table: a search or filter tested row by row stops counting at a cap."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import lineage as ln


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_filtered_count_stops_at_the_cap_and_says_so(instance: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from lineage.ui.read import runs_table
    from lineage.ui.read.runs_table import RunQuery, runs_page

    transform = ln.Transform(key="count.py", hash=hashlib.sha256(b"c").hexdigest(),
                             source_code="pass").save()
    t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    for i in range(7):
        ln.Run(transform_id=transform.id, entrypoint="main", status="completed",
               started_at=t0 + timedelta(minutes=i), params={"lr": i / 10}).save()
    monkeypatch.setattr(runs_table, "COUNT_LIMIT", 3)

    first = runs_page(RunQuery(where="params.lr > 0", limit=2))  # 6 match
    assert (first["total"], first["total_exact"], first["more"]) == (3, False, True)
    deep = runs_page(RunQuery(where="params.lr > 0", limit=2, offset=4))
    assert (deep["total"], deep["total_exact"], deep["more"]) == (6, False, False)
    assert len(deep["runs"]) == 2
    few = runs_page(RunQuery(where="params.lr > 0.45", limit=2))  # 2 match: exact
    assert (few["total"], few["total_exact"], few["more"]) == (2, True, False)
    plain = runs_page(RunQuery(limit=2))  # no row-by-row test: an exact count
    assert (plain["total"], plain["total_exact"], plain["more"]) == (7, True, True)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sorting_by_a_param_walks_the_documented_expression_index(instance: Any) -> None:
    # docs/queries.md and docs/ui.md: CREATE INDEX ... ON run (json_extract(params, '$."lr"'))
    # turns a sort by params.lr from a scan of every run into an index walk, both ways.
    from lineage.ui.read.runs_table import _order

    instance.db.write(lambda conn: conn.execute(
        """CREATE INDEX ix_run_params_lr ON run (json_extract(params, '$."lr"'))"""))
    for sort in ("-params.lr", "params.lr"):
        order, params = _order(sort, instance.db)
        plan = " | ".join(row[3] for row in instance.db.read(lambda conn: conn.fetchall(
            f"EXPLAIN QUERY PLAN SELECT run.id FROM run ORDER BY {order} LIMIT 51", params)))
        assert "ix_run_params_lr" in plan and "TEMP B-TREE" not in plan, (sort, plan)


def _mixed_runs() -> None:
    transform = ln.Transform(key="mixed.py", hash=hashlib.sha256(b"m").hexdigest(),
                             source_code="pass").save()
    t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    values = [2, 10, 1.5, "b", "a", None, True, False, [1], {"x": 1}, 10, -3, "10", 2.0]
    for i, value in enumerate(values):
        params = {"lr": value, "model": {"depth": value}, "0": value, "odd key": value}
        ln.Run(transform_id=transform.id, entrypoint="main", status="completed",
               started_at=t0 + timedelta(minutes=i), params=params).save()
    for i in range(3):  # the key missing, and no params at all
        ln.Run(transform_id=transform.id, entrypoint="main", status="completed",
               started_at=t0 + timedelta(hours=1, minutes=i),
               params={"other": 1} if i else None).save()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@pytest.mark.parametrize("name", ["lr", "model.depth", "0", "odd key"])
def test_postgres_param_sort_keeps_jsonb_order_whatever_the_sql_form(instance: Any,
                                                                     name: str) -> None:
    # Plain keys are inlined (params -> 'lr'); others keep params #> $1: one order either way,
    # jsonb's (numbers as numbers, types apart), missing values last, ties by id.
    from lineage.ui.read.runs_table import RunQuery, runs_page

    _mixed_runs()
    path = name.split(".")
    for direction in ("", "-"):
        page = runs_page(RunQuery(sort=f"{direction}params.{name}", limit=500))
        way = "DESC" if direction else "ASC"
        expected = [row[0] for row in instance.db.query(
            f"SELECT uid FROM run ORDER BY (params #> CAST(? AS text[])) {way} NULLS LAST, "
            f"id {way}", [path])]
        assert [r["uid"] for r in page["runs"]] == expected, (name, direction)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgres_param_sort_can_walk_an_expression_index(instance: Any) -> None:
    # docs/ui.md: with the key inlined, an index on (params -> 'lr') serves the sort.
    from lineage.ui.read.runs_table import _order

    _mixed_runs()
    instance.db.write(lambda conn: [conn.execute(sql) for sql in (
        "CREATE INDEX ix_run_params_lr_desc ON run ((params -> 'lr') DESC NULLS LAST)",
        "CREATE INDEX ix_run_params_lr ON run ((params -> 'lr'))")])
    try:  # the session's PostgreSQL schema is shared (tables truncated, indexes kept): drop them
        for sort, index in (("-params.lr", "ix_run_params_lr_desc"),
                            ("params.lr", "ix_run_params_lr")):
            order, params = _order(sort, instance.db)

            def plan(conn: Any, order: str = order, params: list = params) -> str:
                conn.execute("SET LOCAL enable_seqscan = off")  # a small table: a plain choice
                return " | ".join(row[0] for row in conn.fetchall(
                    f"EXPLAIN SELECT run.id FROM run ORDER BY {order} LIMIT 51", params))

            text = instance.db.read(plan)
            assert index in text, (sort, text)
    finally:
        instance.db.write(lambda conn: [conn.execute(f"DROP INDEX IF EXISTS {name}") for name in (
            "ix_run_params_lr_desc", "ix_run_params_lr")])


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@pytest.mark.parametrize("name", ["lr", "model.depth"])
def test_postgres_descending_param_sort_reads_newest_first_unless_an_index_serves_it(
        instance: Any, name: str) -> None:
    # Without an index, the top-N sort is fed newest first (fewer jsonb comparisons);
    # an expression index on the value is walked as before. Both give the same page.
    from lineage.ui.read.runs_table import RunQuery, _ids_statement, _ids_statements, _where

    _mixed_runs()
    query = RunQuery(sort=f"-params.{name}", limit=5, offset=2)
    where, params = _where(query, instance.db)
    plain, fed = _ids_statements(query, instance.db, where, params)
    assert fed is not None and "ORDER BY run.id DESC" in fed[0]

    def ids(sql_params: tuple) -> list[int]:
        return [row[0] for row in instance.db.read(lambda conn: conn.fetchall(*sql_params))]

    assert ids(fed) == ids(plain) and len(ids(plain)) == 6
    assert instance.db.read(lambda conn: _ids_statement(conn, plain, fed)) == fed
    index = {"lr": "(params -> 'lr')", "model.depth": "(params -> 'model' -> 'depth')"}[name]
    instance.db.write(lambda conn: conn.execute(
        f"CREATE INDEX ix_run_params_sorted ON run ({index} DESC NULLS LAST)"))
    try:  # the session's PostgreSQL schema is shared (tables truncated, indexes kept)

        def chosen(conn: Any) -> tuple:
            conn.execute("SET LOCAL enable_seqscan = off")  # a small table: a plain choice
            return _ids_statement(conn, plain, fed)

        assert instance.db.read(chosen) == plain, name
    finally:
        instance.db.write(lambda conn: conn.execute("DROP INDEX IF EXISTS ix_run_params_sorted"))
    ascending = RunQuery(sort=f"params.{name}")
    assert _ids_statements(ascending, instance.db, *_where(ascending, instance.db))[1] is None
