"""Labels of runs and transforms, feature values of artifacts: PostgreSQL hides them with their records.

The link rows of migration 0010 carry the row-level security of the other
link tables: a role outside a space sees none of them for that space's
records, a reader sees them but cannot add or remove any, a writer can.
Raw SQL as the member roles, so nothing in lineage's client filters them.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

import lineage as ln
from lineage import lifecycle
from lineage.db import access
from lineage.models.space import SpaceMember

TABLES = ("run_label", "transform_label", "artifact_feature_value")


@pytest.fixture
def labelled(team, tmp_path: Path):
    """A run, a transform and an artifact of space A, labelled and with a feature value."""
    instance = ln.connect(team.url("owner"))
    a = ln.Space(name="A").save()
    for who, role in (("alice", "write"), ("bob", "read")):
        SpaceMember(space_id=a.id, member=team.roles[who], role=role).save()
    for role in team.roles.values():
        instance.db.write(lambda conn, role=role: access.grant_instance_access(conn, role))
    transform = lifecycle.get_or_create_transform("secret.py", "print(1)", "script")
    run = ln.Run(transform_id=transform.id, space_id=a.id).save()
    path = tmp_path / "a.txt"
    path.write_text("secret of A")
    artifact = ln.Artifact(path, key="a.txt").save()
    instance.db.write(lambda conn: conn.execute(
        "UPDATE artifact SET space_id = ? WHERE id = ?", [a.id, artifact.id]))
    instance.db.write(lambda conn: conn.execute(
        "UPDATE transform SET space_id = ? WHERE id = ?", [a.id, transform.id]))
    label = ln.Label(name="reviewed").save()  # in all: everyone sees the label itself
    ln.Feature(name="accuracy", dtype=float).save()
    run.labels.add(label)
    ln.Transform.get(key="secret.py").labels.add(label)
    artifact.features.add_values({"accuracy": 0.9})
    return {"run": run, "transform": transform, "artifact": artifact, "label": label,
            "feature": ln.Feature.get(name="accuracy")}


def _count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_a_role_outside_the_space_sees_and_adds_no_link_rows(team, labelled):
    with team.connect("owner") as conn:
        assert [_count(conn, t) for t in TABLES] == [1, 1, 1]
    with team.connect("carol") as conn:
        assert [_count(conn, t) for t in TABLES] == [0, 0, 0]
        assert _count(conn, "label") == 1  # the label is in all; its links are not
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("INSERT INTO run_label (run_id, label_id) VALUES (%s, %s)",
                         [labelled["run"].id, labelled["label"].id])
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("INSERT INTO artifact_feature_value (artifact_id, feature_id, value) "
                         "VALUES (%s, %s, '0.1')",
                         [labelled["artifact"].id, labelled["feature"].id])
        assert conn.execute("DELETE FROM transform_label").rowcount == 0
    # through the API too: the filters find nothing, the label's other side is empty
    ln.connect(team.url("carol"))
    label = ln.Label.get(name="reviewed")
    assert ln.Run.filter(labels=label).count() == 0
    assert ln.Transform.filter(labels=label).count() == 0
    assert label.runs.count() == 0 and label.transforms.count() == 0
    assert ln.Artifact.filter(accuracy=0.9).count() == 0


def test_a_reader_sees_the_links_but_cannot_change_them(team, labelled):
    with team.connect("bob") as conn:
        assert [_count(conn, t) for t in TABLES] == [1, 1, 1]
        assert conn.execute("DELETE FROM run_label").rowcount == 0
        assert conn.execute("DELETE FROM artifact_feature_value").rowcount == 0
        assert conn.execute("UPDATE artifact_feature_value SET value = '0.1'").rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("INSERT INTO transform_label (transform_id, label_id) VALUES (%s, %s)",
                         [labelled["transform"].id, labelled["label"].id])
    ln.connect(team.url("bob"))
    assert [r.id for r in ln.Run.filter(labels=ln.Label.get(name="reviewed"))] == [
        labelled["run"].id]
    assert ln.Artifact.filter(accuracy__gt=0.5).count() == 1


def test_a_writer_of_the_space_changes_the_links(team, labelled):
    ln.connect(team.url("alice"))
    run = ln.Run.get(id=labelled["run"].id)
    other = ln.Label(name="alice's").save()
    run.labels.add(other)
    run.labels.remove(ln.Label.get(name="reviewed"))
    assert [label.name for label in run.labels] == ["alice's"]
    artifact = ln.Artifact.get(key="a.txt")
    artifact.features.add_values({"accuracy": 0.5})
    assert ln.Artifact.filter(accuracy__lt=0.6).count() == 1
