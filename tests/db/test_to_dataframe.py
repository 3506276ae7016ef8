"""`to_dataframe()` shows names, expands params and features, includes relations; the repr is a small table."""

from __future__ import annotations


import pandas as pd
import pytest

import lineage as ln
from lineage.db.frame import PREVIEW_ROWS
from lineage.errors import ValidationError


@pytest.fixture
def tracked(instance):
    ln.Feature(name="accuracy", dtype=float).save()
    ln.Feature(name="experiment", dtype=str).save()
    transform = ln.Transform(key="pipe/train.py", hash="h1", source_code="print(1)").save()
    ada = ln.User(handle="ada").save()
    first = ln.Run(transform_id=transform.id, params={"lr": 0.1, "opt": {"name": "adam"}}, created_by_id=ada.id).save()
    first.features.add_values({"accuracy": 0.9, "experiment": "E1"})
    second = ln.Run(transform_id=transform.id, params={"lr": 0.01, "epochs": 3}, initiated_by_run_id=first.id).save()
    data = ln.Artifact(key="raw/a.txt", hash="1" * 64, storage_ongoing=False, is_latest=True).save()
    from lineage import lifecycle

    lifecycle.record_input(first, data)
    project = ln.Project(name="Atlas").save()
    second.projects.add(project)
    return first, second, data, transform


def test_foreign_keys_show_names_not_ids(tracked):
    first, second, _, transform = tracked
    frame = ln.Run.filter().order_by("id").to_dataframe()
    assert frame.loc[first.uid, "transform"] == "pipe/train.py"
    assert frame.loc[second.uid, "initiated_by_run"] == first.uid
    assert frame.loc[first.uid, "created_by"] == "ada"
    assert not [c for c in frame.columns if c.endswith("_id") and c != "external_id"]


def test_params_and_features_are_columns(tracked):
    first, second, _, _ = tracked
    frame = ln.Run.filter().order_by("id").to_dataframe()
    assert frame.loc[first.uid, "params.lr"] == 0.1
    assert frame.loc[second.uid, "params.epochs"] == 3
    assert pd.isna(frame.loc[first.uid, "params.epochs"])
    assert frame.loc[first.uid, "params.opt"] == {"name": "adam"}
    assert "params" not in frame.columns
    assert frame.loc[first.uid, "features.accuracy"] == 0.9
    assert frame.loc[first.uid, "features.experiment"] == "E1"
    assert pd.isna(frame.loc[second.uid, "features.accuracy"])


def test_include_relations_and_foreign_key_fields(tracked):
    first, second, data, transform = tracked
    frame = ln.Run.filter().order_by("id").to_dataframe(include=["input_artifacts", "projects", "transform__version"])
    assert frame.loc[first.uid, "input_artifacts"] == ["raw/a.txt"]
    assert frame.loc[second.uid, "input_artifacts"] == []
    assert frame.loc[second.uid, "projects"] == ["Atlas"]
    assert frame.loc[first.uid, "transform.version"] == transform.version
    runs = ln.Transform.filter(key="pipe/train.py").to_dataframe(include=["runs"])
    assert runs.loc[transform.uid, "runs"] == [first.uid, second.uid]
    with pytest.raises(ValidationError, match="not a relation of Run"):
        ln.Run.filter().to_dataframe(include=["colour"])
    with pytest.raises(ValidationError, match="no foreign key 'transform' with a field 'nope'"):
        ln.Run.filter().to_dataframe(include=["transform__nope"])


def test_repr_is_a_small_table_bounded_in_rows(tracked):
    transform = tracked[3]
    for i in range(PREVIEW_ROWS + 5):
        ln.Run(transform_id=transform.id, params={"i": i}).save()
    query = ln.Run.filter(transform__key="pipe/train.py")
    text = repr(query)
    assert text.startswith("<QuerySet Run.filter(transform__key='pipe/train.py')>")
    assert "pipe/train.py" in text and f"{PREVIEW_ROWS}+ rows" in text and "more rows" in text
    assert len(text.splitlines()) == PREVIEW_ROWS + 4
    html = query._repr_html_()
    assert html.count("<tr>") == PREVIEW_ROWS + 1 and "<th>transform</th>" in html
    small = repr(query[:2])
    assert "2 rows" in small and "more rows" not in small


def test_repr_without_an_open_instance_does_not_raise(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # zero configuration may make ./.lineage: not in pytest's folder
    assert repr(ln.Run.filter(status="completed")).startswith("<QuerySet Run.filter(status='completed')>")


def test_ten_thousand_runs_take_a_bounded_number_of_queries(instance, monkeypatch):
    """Names joined, features batched, no query per row (the timing is benchmarks/scale_bench.py's)."""
    import sys
    from pathlib import Path

    from lineage.db.database import Connection

    sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
    try:
        import scale_store
    finally:
        sys.path.pop(0)
    scale_store.grow(instance, 10_000, log=lambda *a, **k: None)
    query = ln.Run.filter().order_by("-started_at")[:10000]
    query.to_dataframe()  # warm caches (registries, statements)
    statements = []
    real_execute = Connection.execute
    monkeypatch.setattr(Connection, "execute",
                        lambda self, sql, params=(): statements.append(sql) or real_execute(self, sql, params))
    frame = query.to_dataframe()
    assert len(frame) == 10_000 and "params.lr" in frame.columns and "features.experiment" in frame.columns
    assert frame["transform"].notna().all()
    assert 1 <= len(statements) <= 10, statements
