"""Query plans of the artifact lookups: index lookups whatever the size of a space."""

from __future__ import annotations

from typing import Any

import pytest

from lineage.artifact import Artifact
from lineage.artifacts.create import CONTENT_MATCH


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_content_lookup_walks_the_hash_index_not_every_artifact_of_the_space(
        instance: Any) -> None:
    # Without ANALYZE, SQLite took the space_id index for `hash = ? AND ... space_id = ?`:
    # every artifact of the space per artifact built from a file.
    params = ["0" * 64, 1, "sha256", 0, 1]
    sql = f"EXPLAIN QUERY PLAN {Artifact.select_sql()} {CONTENT_MATCH}"
    plan = " | ".join(row[3] for row in instance.db.read(lambda conn: conn.fetchall(sql, params)))
    assert "ix_artifact_hash" in plan, plan
