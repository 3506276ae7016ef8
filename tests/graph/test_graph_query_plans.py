"""Query plans of the graph's SQL: index lookups whatever the size of the store."""

from __future__ import annotations

from typing import Any

import pytest

from lineage.graph.query import version_neighbors_sql


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_version_neighbours_walk_the_key_index_not_every_artifact_of_the_space(
        instance: Any) -> None:
    # Without ANALYZE, SQLite took the space_id index for `key = ? AND space_id = ?`:
    # every artifact of the space per graph (100 ms at 100,000 artifacts).
    params = ["k", 1, "k", 1, 1, "k", 1, 1]
    plan = " | ".join(row[3] for row in instance.db.read(
        lambda conn: conn.fetchall("EXPLAIN QUERY PLAN " + version_neighbors_sql(), params)))
    assert "ix_artifact_space_id" not in plan, plan
    assert plan.count("ix_artifact_key") == 3, plan
