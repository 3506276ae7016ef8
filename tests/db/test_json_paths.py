"""JSON path lookups: odd keys and array indexes give the same rows on both backends."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lineage as ln
from lineage.db.dialect import Dialect, PostgresDialect
from lineage.db.lookups import compile_lookup
from lineage.errors import ValidationError
from lineage.models.run import Run

ODD_KEYS = ["2020", "0", "-1", "007", " 1", "+1", 'say "hi"', "back\\slash", "new\nline",
            "tab\tand\x01", "x.y", "[0]", "$", "", "é ü", "a'b"]


@pytest.fixture
def odd_runs(instance):
    transform = ln.Transform(key="odd.py", hash="h", source_code="").save()
    made = {}
    for i, key in enumerate(ODD_KEYS):
        made[key] = ln.Run(transform_id=transform.id, params={key: i, "nested": {key: str(i)}}).save()
    made["list"] = ln.Run(transform_id=transform.id,
                          params={"layers": [64, 32, {"2020": "deep"}], "2020": [7]}).save()
    return made


def test_odd_keys_are_found_on_both_backends(odd_runs):
    for i, key in enumerate(ODD_KEYS):
        expected = [odd_runs[key].uid]
        assert [r.uid for r in Run.filter(**{f"params__{key}": i})] == expected, key
        assert [r.uid for r in Run.filter(**{f"params__nested__{key}": str(i)})] == expected, key
        assert [r.uid for r in Run.filter(**{f"params__nested__{key}__startswith": str(i)})] == expected
        assert Run.filter(**{f"params__{key}__gte": i, f"params__{key}__lte": i}).count() == 1, key
        assert Run.filter(**{f"params__nested__{key}__isnull": False}).count() == 1, key


def test_digits_index_arrays_and_name_keys(odd_runs):
    listed = odd_runs["list"].uid
    assert [r.uid for r in Run.filter(params__layers__0=64)] == [listed]
    assert [r.uid for r in Run.filter(params__layers__1__lt=40)] == [listed]
    assert [r.uid for r in Run.filter(params__layers__2__2020="deep")] == [listed]
    assert [r.uid for r in Run.filter(params__layers__2__2020__endswith="ep")] == [listed]
    assert [r.uid for r in Run.filter(params__2020__0=7)] == [listed]
    assert Run.filter(params__layers__3__isnull=False).count() == 0
    assert Run.filter(params__layers__9=64).count() == 0
    assert Run.filter(params__layers__99999999999999999999=64).count() == 0


def test_keys_no_backend_can_hold_are_refused(odd_runs):
    for key in ("nul\x00", "lone\udcff"):
        with pytest.raises(ValidationError, match="NUL|Unicode"):
            Run.filter(**{f"params__{key}": 1}).count()


# --- property: both backends compile and answer every lookup alike -------------------

_KEY_ALPHABET = st.sampled_from(list('0123456789-+ .[]$"\\\n\x01éa{},:\''))
_KEYS = st.text(_KEY_ALPHABET, max_size=4)
_SCALARS = st.sampled_from([0, 1, -1, 2.5, "a", "1", "", True, False, None])
_DOCS = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_KEYS, children, max_size=3),
    max_leaves=8,
)
_LOOKUPS = st.sampled_from(["exact", "ne", "isnull", "gt", "lte", "startswith", "in"])


@pytest.fixture(scope="module")
def both_backends(postgres_server):
    """A `run(id, params)` table in SQLite and a temporary one in PostgreSQL."""
    import psycopg

    lite = sqlite3.connect(":memory:", isolation_level=None)
    lite.execute("CREATE TABLE run (id INTEGER PRIMARY KEY, params TEXT)")
    pg = psycopg.connect(postgres_server.replace("postgresql+psycopg://", "postgresql://"),
                         autocommit=True)
    pg.execute("CREATE TEMPORARY TABLE run (id bigint PRIMARY KEY, params jsonb)")  # this session's
    yield lite, pg
    pg.close()
    lite.close()


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for key, child in doc.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(doc, list):
        for i, child in enumerate(doc):
            yield from _paths(child, (*prefix, str(i)))
            yield from _paths(child, (*prefix, str(i - len(doc))))


def _rows(conn, dialect, lookup, value):
    sql, params = compile_lookup(Run, "run", lookup, value, dialect)
    return sorted(r[0] for r in conn.execute(dialect.sql(f"SELECT id FROM run WHERE {sql}"),
                                             params).fetchall())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=st.lists(_DOCS, min_size=1, max_size=4), data=st.data())
def test_every_lookup_gives_the_same_rows_on_sqlite_and_postgresql(both_backends, docs, data):
    lite, pg = both_backends
    for conn in (lite, pg):
        conn.execute("DELETE FROM run")
    for i, doc in enumerate(docs):
        lite.execute("INSERT INTO run VALUES (?, ?)", [i, Dialect().encode("json", doc)])
        pg.execute("INSERT INTO run VALUES (%s, %s)", [i, PostgresDialect().encode("json", doc)])
    known = [p for doc in docs for p in _paths(doc) if p]
    path = data.draw(st.sampled_from(known) | st.lists(_KEYS, min_size=1, max_size=3).map(tuple)
                     if known else st.lists(_KEYS, min_size=1, max_size=3).map(tuple))
    op = data.draw(_LOOKUPS)
    if op == "isnull":
        value = data.draw(st.booleans())
    elif op in ("gt", "lte"):
        value = data.draw(st.sampled_from([-1, 0, 1, 2.5]))
    elif op == "startswith":
        value = data.draw(st.sampled_from(["", "a", "1"]))
    elif op == "in":
        value = data.draw(st.lists(_SCALARS, max_size=3))
    else:
        value = data.draw(_DOCS | st.sampled_from([doc for doc in docs if doc is not None] or [0]))
    lookup = "__".join(("params", *path, op))
    assert _rows(lite, Dialect(), lookup, value) == _rows(pg, PostgresDialect(), lookup, value), (
        docs, path, op, value)


def test_objects_and_lists_compare_by_members_not_text(instance):
    transform = ln.Transform(key="eq.py", hash="h", source_code="").save()
    run = ln.Run(transform_id=transform.id,
                 params={"pre": {"a": 1, "b": [1, 2.5, {"c": None}]}, "empty": {}}).save()
    assert [r.uid for r in Run.filter(params__pre={"b": [1, 2.5, {"c": None}], "a": 1.0})] == [run.uid]
    assert [r.uid for r in Run.filter(params__empty={})] == [run.uid]
    assert Run.filter(params__pre={"a": 1}).count() == 0  # a member missing
    assert Run.filter(params__pre__b=[2.5, 1, {"c": None}]).count() == 0  # lists keep their order
    assert Run.filter(params__empty=[]).count() == 0
