"""Labels and projects on existing records: ``.add()``, ``.remove()`` and ``filter(labels=...)``."""

from __future__ import annotations

from pathlib import Path

import pytest

import lineage as ln
from lineage import lifecycle
from lineage.errors import ValidationError


@pytest.fixture
def artifact(instance, tmp_path: Path) -> ln.Artifact:
    path = tmp_path / "counts.csv"
    path.write_text("a\n1\n")
    return ln.Artifact(path, key="raw/counts.csv").save()


def test_artifact_labels_add_remove_and_filter(artifact, tmp_path: Path) -> None:
    good, reviewed = ln.Label(name="good").save(), ln.Label(name="reviewed").save()
    other_path = tmp_path / "other.csv"
    other_path.write_text("b\n")
    other = ln.Artifact(other_path, key="raw/other.csv").save()

    artifact.labels.add(good, reviewed)
    artifact.labels.add(good)  # already linked: kept once
    other.labels.add([reviewed])
    assert sorted(label.name for label in artifact.labels) == ["good", "reviewed"]
    assert [a.uid for a in ln.Artifact.filter(labels=good)] == [artifact.uid]
    assert sorted(a.key for a in ln.Artifact.filter(labels=reviewed)) == ["raw/counts.csv",
                                                                           "raw/other.csv"]
    assert [a.uid for a in good.artifacts] == [artifact.uid]  # the other side sees it

    artifact.labels.remove(reviewed)
    artifact.labels.remove(reviewed)  # not linked any more: nothing to do
    assert [label.name for label in ln.Artifact.get(key="raw/counts.csv").labels] == ["good"]
    assert artifact.labels.filter(name="good").count() == 1


def test_projects_add_to_artifacts_runs_and_transforms(artifact) -> None:
    project = ln.Project(name="Later").save()
    transform = lifecycle.get_or_create_transform("t.py", "print(1)\n", "script")
    run = lifecycle.start_run(transform)
    lifecycle.finish_run(run)

    artifact.projects.add(project)
    ln.Run.get(run.uid).projects.add(project)
    ln.Transform.get(key="t.py").projects.add(project)
    assert [a.uid for a in project.artifacts] == [artifact.uid]
    assert [r.uid for r in project.runs] == [run.uid]
    assert [t.key for t in project.transforms] == ["t.py"]
    assert [a.uid for a in ln.Artifact.filter(projects=project)] == [artifact.uid]
    project.artifacts.remove(artifact)  # from either side
    assert not artifact.projects.exists()


def test_recorded_lineage_and_bad_arguments_are_refused_clearly(artifact) -> None:
    run = lifecycle.start_run(lifecycle.get_or_create_transform("t.py", "x\n", "script"))
    with pytest.raises(ValidationError, match="lineage recorded by runs"):
        run.input_artifacts.add(artifact)
    with pytest.raises(ValidationError, match="takes Label records; got str"):
        artifact.labels.add("good")
    with pytest.raises(ValidationError, match=r"save Label\(.*\) first"):
        artifact.labels.add(ln.Label(name="unsaved"))
    lifecycle.finish_run(run)


def _run(key: str = "t.py", source: str = "print(1)\n") -> ln.Run:
    run = lifecycle.start_run(lifecycle.get_or_create_transform(key, source, "script"))
    lifecycle.finish_run(run)
    return ln.Run.get(run.uid)


def test_run_labels_add_remove_and_filter(instance) -> None:
    good, bad = ln.Label(name="good").save(), ln.Label(name="bad").save()
    first, second = _run(), _run()
    first.labels.add(good, bad)
    first.labels.add(good)  # already linked: kept once
    second.labels.add([bad])
    assert sorted(label.name for label in first.labels) == ["bad", "good"]
    assert [r.uid for r in ln.Run.filter(labels=good)] == [first.uid]
    assert sorted(r.uid for r in ln.Run.filter(labels=bad)) == sorted([first.uid, second.uid])
    assert [r.uid for r in good.runs] == [first.uid]  # the other side sees it
    first.labels.remove(bad)
    assert [label.name for label in ln.Run.get(first.uid).labels] == ["good"]
    bad.runs.remove(second)  # from either side
    assert not ln.Run.filter(labels=bad).exists()


def test_transform_labels_add_remove_and_filter(instance) -> None:
    reviewed = ln.Label(name="reviewed").save()
    _run("a.py"), _run("b.py")
    a = ln.Transform.get(key="a.py")
    a.labels.add(reviewed)
    assert [t.key for t in ln.Transform.filter(labels=reviewed)] == ["a.py"]
    assert [t.key for t in reviewed.transforms] == ["a.py"]
    assert [label.name for label in a.labels] == ["reviewed"]
    a.labels.remove(reviewed)
    assert not ln.Transform.filter(labels=reviewed).exists()


def test_run_and_transform_labels_refuse_bad_input_clearly(instance) -> None:
    run = _run()
    with pytest.raises(ValidationError, match="run.labels.add\\(\\) takes Label records; got str"):
        run.labels.add("good")
    with pytest.raises(ValidationError, match=r"save Label\(.*\) first"):
        run.transform.labels.add(ln.Label(name="unsaved"))
    with pytest.raises(ValidationError, match="takes Label records; got Project"):
        run.labels.add(ln.Project(name="P").save())
    unsaved = ln.Run(transform_id=run.transform_id)
    with pytest.raises(ValidationError, match=r"save the Run first"):
        unsaved.labels.add(ln.Label(name="x").save())
    with pytest.raises(ValidationError, match="takes Label records or their ids, got a Project"):
        ln.Run.filter(labels=ln.Project.get(name="P")).all()


def test_deleting_an_artifact_removes_its_feature_values(artifact) -> None:
    ln.Feature(name="accuracy", dtype=float).save()
    artifact.features.add_values({"accuracy": 0.5})
    artifact.delete()
    assert not ln.Artifact.filter(accuracy=0.5).exists()
