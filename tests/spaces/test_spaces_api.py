"""Spaces through the API and the CLI, each member connected as their own PostgreSQL role."""

from __future__ import annotations

from pathlib import Path

import pytest

import lineage as ln
from lineage import lifecycle
from lineage.errors import DoesNotExist, PermissionDenied, ValidationError


def produce(out: str) -> ln.Artifact:
    """A flow body: writes a file and saves it as an artifact of the run."""
    path = Path(out)
    path.write_text(f"made in {path.name}")
    return ln.Artifact(path, key=f"results/{path.name}").save()


@pytest.fixture
def spaces(team, tmp_path: Path) -> dict:
    """Space A (alice writes, bob reads), space B (nobody); carol only has access to the instance."""
    ln.connect(team.url("owner"))
    a = lifecycle.create_space("A", "team A's work")
    lifecycle.create_space("B")
    a.add_member(team.roles["alice"], "write")
    a.add_member(team.roles["bob"], "read")
    lifecycle.add_member("all", team.roles["carol"])  # the use of the instance, no space
    ln.connect(team.url("alice"))
    made = ln.flow(space="A")(produce)(str(tmp_path / "a.csv"))
    run = made.run
    return {"A": a, "artifact": made, "run": run}


def test_a_run_in_a_space_and_what_it_creates_are_in_that_space(team, spaces):
    assert spaces["run"].space_id == spaces["A"].id
    assert ln.Artifact.get(spaces["artifact"].uid).space_id == spaces["A"].id
    # the code is shared: the transform stays in all
    assert ln.Transform.get(spaces["run"].transform_id).space_id == 1


def test_a_non_member_sees_none_of_it_through_the_api_and_the_cli(team, spaces, cli, capsys):
    ln.connect(team.url("carol"))
    assert ln.Run.filter(uid=spaces["run"].uid).count() == 0
    assert ln.Artifact.filter().count() == 0
    assert len(ln.Run.filter(space_id=spaces["A"].id).to_dataframe()) == 0
    with pytest.raises(DoesNotExist):
        ln.Artifact.get(spaces["artifact"].uid)
    with pytest.raises(DoesNotExist, match="not one of its members"):
        lifecycle.resolve_space("A")
    capsys.readouterr()
    assert cli("runs") == 0
    assert spaces["run"].uid not in capsys.readouterr().out
    assert cli("info") == 0
    assert "enforced by PostgreSQL" in capsys.readouterr().out


def test_a_reader_sees_it_but_every_write_is_refused_with_a_clear_error(team, spaces, tmp_path):
    ln.connect(team.url("bob"))
    run = ln.Run.get(spaces["run"].uid)
    artifact = ln.Artifact.get(spaces["artifact"].uid)
    run.name = "bob's name"
    with pytest.raises(PermissionDenied, match="may read but not change run .* space 'A'.*--role write"):
        run.save()
    with pytest.raises(PermissionDenied, match="space 'A'"):
        artifact.delete()
    with pytest.raises(PermissionDenied, match="may not write.*add-member"):
        lifecycle.start_run(run.transform_id, space="A", environment=False)
    with pytest.raises(PermissionDenied, match="space 'A'"):
        lifecycle.move_to_space(ln.Run.get(spaces["run"].uid), "all")
    root = Path(artifact.storage.root)
    copy = root / f"objects/{artifact.hash[:2]}/{artifact.hash}{artifact.suffix}"
    with pytest.raises(PermissionDenied, match="space 'A'"):  # the object was copied, then
        lifecycle.move_to_space(artifact, "all")  # the database refused the commit
    assert not copy.exists(), "the copy of a refused move is removed"
    assert (root / spaces["artifact"].object_key).exists()
    ln.connect(team.url("owner"))
    assert ln.Run.get(spaces["run"].uid).name is None
    stored = ln.Artifact.get(spaces["artifact"].uid)
    assert stored.space_id == spaces["A"].id and stored.object_key == spaces["artifact"].object_key


def test_a_writer_moves_records_only_into_spaces_it_writes_and_each_move_is_recorded(team, spaces):
    ln.connect(team.url("alice"))
    artifact = ln.Artifact.get(spaces["artifact"].uid)
    with pytest.raises(DoesNotExist, match="'B'"):  # not a member: B is invisible
        lifecycle.move_to_space(artifact, "B")
    with pytest.raises(PermissionDenied, match="may not write"):
        lifecycle.move_to_space(artifact, 2 + 1)  # B's id, given directly
    ln.Space.get(name="all").move_in(artifact)
    change = ln.RecordChange.filter(registry="Artifact", record_id=artifact.id).one()
    moved = ln.Artifact.get(artifact.uid)
    assert moved.space_id == 1 and moved.object_key.startswith("objects/")
    assert change.fields == {"space_id": 1, "object_key": moved.object_key}
    assert change.previous["space_id"] == spaces["A"].id
    assert change.previous["object_key"].startswith(f"spaces/{spaces['A'].uid}/objects/")


def test_the_owner_sees_everything_and_members_cannot_administer(team, spaces):
    ln.connect(team.url("owner"))
    assert ln.Run.filter(uid=spaces["run"].uid).count() == 1
    assert sorted(s.name for s in ln.Space.filter()) == ["A", "B", "all"]
    assert spaces["A"].members == sorted([(team.roles["alice"], "write"),
                                          (team.roles["bob"], "read")])
    with pytest.raises(ValidationError, match="no role 'nobody_here'.*CREATE ROLE"):
        spaces["A"].add_member("nobody_here", "read")
    ln.connect(team.url("alice"))
    with pytest.raises(PermissionDenied, match="only the instance owner creates"):
        lifecycle.create_space("C")
    with pytest.raises(PermissionDenied, match="row-level security|may not"):
        lifecycle.add_member("A", team.roles["carol"], "read")  # alice writes A, is no admin


def test_the_space_setting_sends_new_runs_to_a_space(team, spaces, monkeypatch):
    monkeypatch.setenv("LINEAGE_SPACE", "A")
    ln.connect(team.url("alice"))
    run = lifecycle.start_run(spaces["run"].transform_id, environment=False)
    assert ln.Run.get(run.uid).space_id == spaces["A"].id
    project = ln.Project(name="made while the setting says A").save()
    assert project.space_id == spaces["A"].id
    lifecycle.finish_run(run)


def test_a_graph_shows_a_hidden_node_for_a_run_in_a_space_the_reader_cannot_read(team, spaces):
    ln.connect(team.url("alice"))
    shared = ln.Artifact.get(spaces["artifact"].uid)
    lifecycle.move_to_space(shared, "all")  # the result is shared, the run that made it is not
    run_uid = spaces["run"].uid
    ln.connect(team.url("carol"))
    graph = ln.lineage_graph(ln.Artifact.get(shared.uid))
    hidden = [(n, d) for n, d in graph.nodes(data=True) if d["kind"] == "hidden"]
    assert len(hidden) == 1 and graph.graph["hidden_records"] == 1
    node, data = hidden[0]
    assert data == {"kind": "hidden", "uid": "", "label": "1 record in a space you cannot read",
                    "focus": False, "truncated": False}
    assert graph.has_edge(node, f"artifact:{shared.uid}")
    assert run_uid not in repr(graph.nodes(data=True)) + repr(graph.edges(data=True))
    from lineage.graph.render import simplify, to_dot

    dot = to_dot(simplify(graph)).source
    assert "space you cannot read" in dot and run_uid not in dot
    ln.connect(team.url("alice"))  # a member sees the run itself
    graph = ln.lineage_graph(ln.Artifact.get(shared.uid))
    assert f"run:{run_uid}" in graph.nodes and "hidden_records" not in graph.graph
