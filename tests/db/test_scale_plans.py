"""Query plans of large stores use their indexes; the queries written for them mean what they did.

Plans are read with EXPLAIN (PostgreSQL) and EXPLAIN QUERY PLAN (SQLite) on
the statements the query layer runs. On PostgreSQL sequential scans are
disabled for the EXPLAIN, so a tiny test table cannot make a scan cheaper:
what is tested is that the index *can* answer the condition (without the
containment the dialect adds, no GIN index can, and the plan is a scan).
Times are measured in ``benchmarks/scale_bench.py``, never here.
"""

from __future__ import annotations

from typing import Any

import pytest

import lineage as ln
from lineage.db.record import current_db


def _runs(transform: Any, params: list[dict]) -> list[Any]:
    return [ln.Run(transform_id=transform.id, params=p).save() for p in params]


def _plan(query: Any, *, no_seqscan: bool = True) -> str:
    db = current_db()
    sql, params = query.compile_select(db)

    def explain(conn: Any) -> list[tuple]:
        if db.is_sqlite:
            return conn.fetchall(f"EXPLAIN QUERY PLAN {sql}", params)
        if no_seqscan:
            conn.execute("SET LOCAL enable_seqscan = off")
        return conn.fetchall(f"EXPLAIN {sql}", params)

    return "\n".join(" ".join(str(c) for c in row) for row in db.read(explain))


@pytest.fixture
def postgres_only(instance):
    if instance.db.is_sqlite:
        pytest.skip("GIN indexes exist on PostgreSQL only")
    return instance


def test_param_equality_uses_the_gin_index_on_postgresql(postgres_only):
    transform = ln.Transform(key="p.py", hash="p", source_code="").save()
    _runs(transform, [{"lr": 0.01, "model": {"layers": 2}}, {"lr": 0.1}])
    for query in (ln.Run.filter(params__lr=0.01), ln.Run.filter(params__model__layers=2),
                  ln.Run.filter(params__lr__in=[0.01, 0.1])):
        plan = _plan(query)
        assert "ix_run_params" in plan and "Seq Scan" not in plan, plan


def test_feature_equality_uses_the_gin_index_on_postgresql(postgres_only):
    """2,000 values of one feature (its id selects them all): the value's index is the way in."""
    from lineage.db.dialect import utcnow

    feature = ln.Feature(name="experiment", dtype=str).save()
    transform = ln.Transform(key="f.py", hash="f", source_code="").save()

    def bulk(conn: Any) -> None:
        cursor, sql, now = conn.raw.cursor(), conn.dialect.sql, utcnow()
        cursor.executemany(sql("INSERT INTO run (uid, transform_id, status, started_at, attempt) "
                               "VALUES (?, ?, 'completed', ?, 1)"),
                           [(f"bulk{i:012d}", transform.id, now) for i in range(2000)])
        cursor.executemany(sql("INSERT INTO run_feature_value (run_id, feature_id, value) "
                               "SELECT id, ?, ? FROM run WHERE uid = ?"),
                           [(feature.id, f'"E{i}"', f"bulk{i:012d}") for i in range(2000)])
        conn.execute("ANALYZE run_feature_value")

    current_db().write(bulk)
    plan = _plan(ln.Run.filter(experiment="E1"), no_seqscan=False)
    assert "ix_run_feature_value_value" in plan, plan
    assert [r.uid for r in ln.Run.filter(experiment="E1")] == ["bulk000000000001"]


def test_a_transforms_newest_runs_walk_one_index_without_sorting(instance):
    transform = ln.Transform(key="n.py", hash="n", source_code="").save()
    other = ln.Transform(key="o.py", hash="o", source_code="").save()
    _runs(transform, [{}] * 3)
    _runs(other, [{}] * 3)
    for query in (ln.Run.filter(transform=transform).order_by("-started_at")[:50],
                  transform.runs.order_by("-started_at", "-id")[:50]):
        plan = _plan(query)
        assert "ix_run_transform_started" in plan, plan
        if instance.db.is_sqlite:
            assert "TEMP B-TREE" not in plan, plan  # no sort step: the index gives the order
        else:
            assert "Sort" not in plan, plan
    newest = ln.Run.filter(transform=transform).order_by("-started_at")[:2].all()
    assert [r.transform_id for r in newest] == [transform.id] * 2
    assert newest[0].started_at >= newest[1].started_at


def test_equality_keeps_its_types_and_containment_alone_never_matches(instance):
    """``@>`` is weaker than equality (supersets, a scalar inside an array): never alone."""
    transform = ln.Transform(key="t.py", hash="t", source_code="").save()
    flag, one, one_float, superset, listed, nested_list = _runs(transform, [
        {"x": True}, {"x": 1}, {"x": 1.0}, {"x": {"a": 1, "b": 2}}, {"x": [1, 2]},
        {"x": {"a": [1, 2]}},
    ])

    def uids(**lookup: Any) -> set[str]:
        return {r.uid for r in ln.Run.filter(**lookup)}

    assert uids(params__x=True) == {flag.uid}
    assert uids(params__x=1) == {one.uid, one_float.uid}
    assert uids(params__x={"a": 1}) == set()
    assert uids(params__x={"a": 1, "b": 2}) == {superset.uid}
    assert uids(params__x__a=1) == {superset.uid}
    assert uids(params__x=[1]) == set()
    assert uids(params__x=[1, 2]) == {listed.uid}
    assert uids(params__x__a=[2, 1]) == set()
    assert uids(params__x__a=[1, 2]) == {nested_list.uid}
    assert uids(params__x__0=1) == {listed.uid}  # an array index: equality without containment
    assert uids(params__x__ne=True) == {r.uid for r in (one, one_float, superset, listed, nested_list)}
    assert uids(params__x__in=[True, [1, 2]]) == {flag.uid, listed.uid}


def test_feature_filters_keep_their_types(instance):
    ln.Feature(name="count", dtype=int).save()
    ln.Feature(name="on", dtype=bool).save()
    transform = ln.Transform(key="ft.py", hash="ft", source_code="").save()
    a, b = _runs(transform, [{}, {}])
    a.features.add_values({"count": 1, "on": False})
    b.features.add_values({"count": 0, "on": True})
    assert [r.uid for r in ln.Run.filter(count=1)] == [a.uid]
    assert [r.uid for r in ln.Run.filter(on=True)] == [b.uid]
    assert [r.uid for r in ln.Run.filter(count__in=[0, 1])] == [a.uid, b.uid]
    assert ln.Run.filter(count=True).count() == 0


def test_an_expression_index_on_a_param_serves_sqlite_filters_and_sorts(sqlite_instance):
    """SQLite has no index inside JSON; one made for a key is used, as the path is a literal."""
    transform = ln.Transform(key="e.py", hash="e", source_code="").save()
    runs = _runs(transform, [{"lr": 0.01}, {"lr": 0.1}, {"lr": "0.01"}, {"lr": True}])
    current_db().write(lambda conn: conn.execute(
        """CREATE INDEX ix_run_params_lr ON run (json_extract(params, '$."lr"'))"""))
    plan = _plan(ln.Run.filter(params__lr=0.01))
    assert "ix_run_params_lr" in plan, plan
    assert [r.uid for r in ln.Run.filter(params__lr=0.01)] == [runs[0].uid]
    assert [r.uid for r in ln.Run.filter(params__lr=True)] == [runs[3].uid]
    assert [r.uid for r in ln.Run.filter(params__lr__in=[0.1, "0.01"])] == [runs[1].uid, runs[2].uid]


def test_number_equality_with_the_text_search_keeps_its_types(instance):
    """The SQLite string search in front of a float equality changes no result (both backends)."""
    transform = ln.Transform(key="n.py", hash="n", source_code="").save()
    lr, near, one, one_float, flag, text, tiny, nested, negative = _runs(transform, [
        {"lr": 0.01}, {"lr": 0.015}, {"lr": 1}, {"lr": 1.0}, {"lr": True}, {"lr": "0.01"},
        {"lr": 1e-05}, {"lr": 0.02, "model": {"dropout": 0.01}}, {"lr": -0.01},
    ])

    def uids(**lookup: Any) -> set[str]:
        return {r.uid for r in ln.Run.filter(**lookup)}

    assert uids(params__lr=0.01) == {lr.uid}
    assert uids(params__lr=0.010) == {lr.uid}
    assert uids(params__lr=0.015) == {near.uid}
    assert uids(params__lr=-0.01) == {negative.uid}
    assert uids(params__lr=1.0) == uids(params__lr=1) == {one.uid, one_float.uid}
    assert uids(params__lr=1e-05) == {tiny.uid}
    assert uids(params__model__dropout=0.01) == {nested.uid}
    assert uids(params__lr__in=[0.01, 0.015]) == {lr.uid, near.uid}
    assert uids(params__lr="0.01") == {text.uid}
    assert uids(params__lr=True) == {flag.uid}
    assert uids(params__lr__ne=0.01) == {r.uid for r in (near, one, one_float, flag, text, tiny,
                                                         nested, negative)}


def test_a_float_equality_searches_the_text_before_parsing_json_on_sqlite(sqlite_instance):
    """``instr`` first; none for numbers with several spellings (integers, exponents)."""
    db = current_db()
    sql, params = ln.Run.filter(params__lr=0.01).compile_select(db)
    assert "instr(run.params, ?) > 0 AND" in sql and "0.01" in params
    for value in (1, 1.0, 1e-05, True):
        sql, _ = ln.Run.filter(params__lr=value).compile_select(db)
        assert "instr(" not in sql, value


def test_an_artifacts_versions_walk_the_key_index_without_sorting(instance, tmp_path):
    # Before migration 0011 SQLite (no ANALYZE) took ix_artifact_space_id here:
    # every artifact of the space per artifact page.
    for i in range(3):
        path = tmp_path / f"v{i}.txt"
        path.write_text(f"version {i}")
        artifact = ln.Artifact(path, key="versions/a.txt").save()
    (tmp_path / "other.txt").write_text("another key")
    ln.Artifact(tmp_path / "other.txt", key="versions/other.txt").save()
    plan = _plan(artifact.versions)
    assert "ix_artifact_key_space_version" in plan, plan
    assert "ix_artifact_space_id" not in plan, plan
    if instance.db.is_sqlite:
        assert "TEMP B-TREE" not in plan, plan
    else:
        assert "Sort" not in plan, plan
    assert [a.version for a in artifact.versions] == [1, 2, 3]
