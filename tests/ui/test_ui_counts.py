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
