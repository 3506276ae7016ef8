"""Features on runs and artifacts, and feature lookups with comparisons, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest

import lineage as ln
from lineage import lifecycle
from lineage.errors import ValidationError


@pytest.fixture
def features(instance) -> None:
    ln.Feature(name="accuracy", dtype=float).save()
    ln.Feature(name="epochs", dtype=int).save()
    ln.Feature(name="experiment", dtype=str).save()
    ln.Feature(name="note", dtype=str).save()


def _artifact(tmp_path: Path, name: str) -> ln.Artifact:
    path = tmp_path / name
    path.write_text(name)
    return ln.Artifact(path, key=f"raw/{name}").save()


def _run(features: dict) -> ln.Run:
    transform = lifecycle.get_or_create_transform("train.py", "fit()\n", "script")
    run = lifecycle.start_run(transform, features=features)
    lifecycle.finish_run(run)
    return run


def test_artifact_features_add_values_get_values_and_filter(features, tmp_path: Path) -> None:
    a, b = _artifact(tmp_path, "a.csv"), _artifact(tmp_path, "b.csv")
    a.features.add_values({"accuracy": 0.9, "experiment": "Experiment1"})
    b.features.add_values({"accuracy": 0.7, "epochs": 3})
    b.features.add_values({"accuracy": 0.75})  # replaces the earlier value
    assert ln.Artifact.get(key="raw/a.csv").features.get_values() == {
        "accuracy": 0.9, "experiment": "Experiment1"}
    assert b.features.get_values() == {"accuracy": 0.75, "epochs": 3}
    assert [x.key for x in ln.Artifact.filter(accuracy=0.9)] == ["raw/a.csv"]
    assert [x.key for x in ln.Artifact.filter(experiment="Experiment1")] == ["raw/a.csv"]
    assert not ln.Artifact.filter(accuracy=0.7).exists()
    assert [x.key for x in ln.Artifact.filter(accuracy__lt=0.8)] == ["raw/b.csv"]
    assert [x.key for x in ln.Artifact.filter(accuracy__gte=0.9)] == ["raw/a.csv"]
    assert [x.key for x in ln.Artifact.filter(experiment__startswith="Exp")] == ["raw/a.csv"]
    assert sorted(x.key for x in ln.Artifact.filter(accuracy__in=[0.9, 0.75])) == [
        "raw/a.csv", "raw/b.csv"]
    # runs' feature values are not artifacts' feature values
    _run({"accuracy": 0.9})
    assert ln.Run.filter(accuracy=0.9).count() == 1
    assert ln.Artifact.filter(accuracy=0.9).count() == 1


def test_artifact_features_are_validated_as_on_runs(features, tmp_path: Path) -> None:
    a = _artifact(tmp_path, "a.csv")
    with pytest.raises(ValidationError, match="unknown feature 'acuracy'.*ln.Feature"):
        a.features.add_values({"acuracy": 0.9})
    with pytest.raises(ValidationError, match="feature 'epochs' has dtype int, got 'three'"):
        a.features.add_values({"epochs": "three"})
    # the same validation on runs
    with pytest.raises(ValidationError, match="feature 'epochs' has dtype int, got 'three'"):
        _run({"epochs": "three"})
    # one bad value stores nothing
    with pytest.raises(ValidationError, match="'epochs'"):
        a.features.add_values({"accuracy": 0.9, "epochs": 1.5})
    assert a.features.get_values() == {}
    with pytest.raises(ValidationError, match="takes a dict"):
        a.features.add_values([("accuracy", 0.9)])
    unsaved = ln.Artifact.from_dataframe(__import__("pandas").DataFrame({"x": [1]}), key="u.parquet")
    with pytest.raises(ValidationError, match=r"save the Artifact first \(\.save\(\)\)"):
        unsaved.features.add_values({"accuracy": 0.9})


def test_artifact_features_take_labels_of_a_label_type(features, tmp_path: Path) -> None:
    kind = ln.Label(name="Tissue", is_type=True).save()
    ln.Label(name="liver", type=kind).save()
    ln.Feature(name="tissue", dtype=kind).save()
    a = _artifact(tmp_path, "a.csv")
    a.features.add_values({"tissue": "liver"})
    assert a.features.get_values() == {"tissue": "liver"}
    assert [x.key for x in ln.Artifact.filter(tissue=ln.Label.get(name="liver"))] == ["raw/a.csv"]
    with pytest.raises(ValidationError, match="takes labels of type 'Tissue'.*ln.Label"):
        a.features.add_values({"tissue": "lung"})


def test_run_feature_comparisons_numbers_and_text(features) -> None:
    low = _run({"accuracy": 0.5, "experiment": "baseline-1", "epochs": 10})
    high = _run({"accuracy": 0.95, "experiment": "tuned-2", "epochs": 2})
    exact = _run({"accuracy": 0.9, "note": "0.99"})  # a text that looks like a number

    def uids(**lookup) -> list[str]:
        return sorted(r.uid for r in ln.Run.filter(**lookup))

    assert uids(accuracy__gt=0.9) == [high.uid]
    assert uids(accuracy__gte=0.9) == sorted([high.uid, exact.uid])
    assert uids(accuracy__lt=0.9) == [low.uid]
    assert uids(accuracy__lte=0.9) == sorted([low.uid, exact.uid])
    assert uids(epochs__gt=3) == [low.uid]  # numerically, not as text ("10" < "3")
    assert uids(experiment__startswith="base") == [low.uid]
    assert uids(experiment__contains="ned-") == [high.uid]
    assert uids(experiment__contains="-") == sorted([low.uid, high.uid])
    # a text value never compares as a number, a number never as a text
    assert uids(note__gt=0.5) == []
    assert uids(note__startswith="0.9") == [exact.uid]
    assert uids(accuracy__startswith="0.9") == []
    # combined with other lookups
    assert uids(accuracy__gt=0.4, experiment__startswith="tuned") == [high.uid]


def test_params_lookups_compare_the_same_way(instance) -> None:
    transform = lifecycle.get_or_create_transform("p.py", "x\n", "script")
    runs = {}
    for name, value in (("num", 0.95), ("text", "0.99"), ("int", 10)):
        run = lifecycle.start_run(transform, params={"accuracy": value})
        lifecycle.finish_run(run)
        runs[name] = run.uid
    ln.Feature(name="accuracy", dtype=float).save()
    assert sorted(r.uid for r in ln.Run.filter(params__accuracy__gt=0.9)) == sorted(
        [runs["num"], runs["int"]])
    assert [r.uid for r in ln.Run.filter(params__accuracy__startswith="0.9")] == [runs["text"]]
    assert [r.uid for r in ln.Run.filter(params__accuracy__lt=1)] == [runs["num"]]


def test_bad_feature_lookups_name_the_problem(features) -> None:
    _run({"accuracy": 0.5})
    with pytest.raises(ValidationError, match="accuracy__gt= compares with a number or a string"):
        ln.Run.filter(accuracy__gt=[1, 2]).all()
    with pytest.raises(ValidationError, match="experiment__contains= needs a string"):
        ln.Run.filter(experiment__contains=3).all()
    with pytest.raises(ValidationError, match="feature 'accuracy' cannot be looked up with __isnull"):
        ln.Run.filter(accuracy__isnull=True).all()
    with pytest.raises(ValidationError, match="no field or relation 'acuracy'.*Features: accuracy, "
                       r"epochs.*ln.Feature\(name='acuracy', dtype=...\).save\(\)"):
        ln.Artifact.filter(acuracy__gt=0.5).all()
    with pytest.raises(ValidationError, match="Features: accuracy"):
        ln.Run.filter(acuracy=0.5).all()


def test_artifact_features_in_to_dataframe_and_labels_and_features_in_describe(features,
                                                                               tmp_path: Path) -> None:
    import io

    from rich.console import Console

    from lineage.graph.describe import describe

    a, b = _artifact(tmp_path, "a.csv"), _artifact(tmp_path, "b.csv")
    a.features.add_values({"accuracy": 0.9, "experiment": "E1"})
    b.features.add_values({"accuracy": 0.7})
    frame = ln.Artifact.filter(key__startswith="raw/").order_by("key").to_dataframe()
    assert list(frame["features.accuracy"]) == [0.9, 0.7]
    assert frame["features.experiment"].iloc[0] == "E1"
    assert frame["features.experiment"].isna().tolist() == [False, True]

    reviewed = ln.Label(name="reviewed").save()
    run = _run({"accuracy": 0.5})
    ln.Run.get(run.uid).labels.add(reviewed)
    ln.Transform.get(key="train.py").labels.add(reviewed)
    a.labels.add(reviewed)

    def text_of(record) -> str:
        buffer = io.StringIO()
        describe(record, console=Console(file=buffer, width=250, color_system=None))
        return buffer.getvalue()

    artifact_text = text_of(ln.Artifact.get(key="raw/a.csv"))
    assert "features" in artifact_text and "accuracy" in artifact_text and "E1" in artifact_text
    assert "labels: reviewed" in artifact_text
    assert "labels: reviewed" in text_of(ln.Run.get(run.uid))
    assert "labels: reviewed" in text_of(ln.Transform.get(key="train.py"))
