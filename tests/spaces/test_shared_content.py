"""Keys and content across spaces: each space versions its own keys and has its own records of
shared content, each with its object under its space's prefix, deleted only when no record
references it."""

from __future__ import annotations

from pathlib import Path

import pytest

import lineage as ln
from lineage import lifecycle


@pytest.fixture
def two_teams(team):
    """alice writes space A; carol only has the instance (space all)."""
    ln.connect(team.url("owner"))
    space = lifecycle.create_space("A")
    space.add_member(team.roles["alice"], "write")
    lifecycle.add_member("all", team.roles["carol"])
    return space


def _save(path: Path, text: str, key: str, space=None) -> ln.Artifact:
    path.write_text(text)
    if space is None:
        return ln.Artifact(path, key=key).save()
    return ln.flow(space=space)(lambda: ln.Artifact(path, key=key).save())()


def test_the_same_key_in_two_spaces_is_two_version_families(team, two_teams, tmp_path):
    ln.connect(team.url("alice"))
    a1 = _save(tmp_path / "a1.csv", "A's first", "results/x.csv", space="A")
    a2 = _save(tmp_path / "a2.csv", "A's second", "results/x.csv", space="A")
    assert (a1.version, a2.version) == (1, 2)
    ln.connect(team.url("carol"))
    c1 = _save(tmp_path / "c1.csv", "carol's", "results/x.csv")
    assert c1.version == 1 and c1.is_latest and c1.space_id == 1
    assert [a.uid for a in c1.versions] == [c1.uid]
    ln.connect(team.url("owner"))  # sees both families, each with its own latest
    assert ln.Artifact.filter(key="results/x.csv", is_latest=True).count() == 2
    assert [a.version for a in ln.Artifact.get(a2.uid).versions] == [1, 2]
    graph = ln.lineage_graph(ln.Artifact.get(a2.uid))
    assert f"artifact:{c1.uid}" not in graph.nodes, "no version edge across spaces"


def test_content_stored_in_a_space_one_cannot_read_gets_a_record_of_ones_own(team, two_teams,
                                                                               tmp_path):
    ln.connect(team.url("alice"))
    theirs = _save(tmp_path / "a.csv", "the same bytes", "a/data.csv", space="A")
    ln.connect(team.url("carol"))
    mine = _save(tmp_path / "c.csv", "the same bytes", "c/data.csv")
    assert mine.uid != theirs.uid and mine.hash == theirs.hash and mine.space_id == 1
    assert Path(mine.cache()).read_text() == "the same bytes"
    assert mine.object_key != theirs.object_key  # each space's copy under its own prefix
    mine.delete()  # alice's object stays
    ln.connect(team.url("alice"))
    assert Path(ln.Artifact.get(theirs.uid).cache()).read_text() == "the same bytes"


def test_a_reader_saving_content_of_a_space_it_reads_gets_its_own_record(team, two_teams,
                                                                         tmp_path):
    ln.connect(team.url("owner"))
    two_teams.add_member(team.roles["bob"], "read")
    ln.connect(team.url("alice"))
    theirs = _save(tmp_path / "a.csv", "shared bytes", "a/data.csv", space="A")
    ln.connect(team.url("bob"))
    mine = _save(tmp_path / "b.csv", "shared bytes", "b/data.csv")
    assert mine.uid != theirs.uid and mine.space_id == 1
    assert ln.Artifact.get(theirs.uid).run_id == theirs.run_id, "A's record is untouched"



def test_doctor_run_by_a_member_keeps_the_objects_of_spaces_it_cannot_read(team, two_teams,
                                                                          tmp_path):
    from lineage.artifacts.doctor import run_doctor

    ln.connect(team.url("alice"))
    theirs = _save(tmp_path / "a.csv", "only in A", "a/data.csv", space="A")
    ln.connect(team.url("carol"))
    report = run_doctor(fix=True, grace_seconds=0)
    assert report.orphans == []
    ln.connect(team.url("alice"))
    assert Path(ln.Artifact.get(theirs.uid).cache()).read_text() == "only in A"


_WRITER = """
import sys, lineage as ln
from pathlib import Path
from lineage import lifecycle
url, space, folder = sys.argv[1], sys.argv[2], Path(sys.argv[3])
ln.connect(url)
transform = lifecycle.get_or_create_transform("writer.py", "same code", "script")
for i in range(15):
    run = lifecycle.start_run(transform, space=space, environment=False)
    token = lifecycle.activate(run)
    path = folder / f"{i}.csv"
    path.write_text(f"{space} {i}")
    ln.Artifact(path, key="results/out.csv").save()
    lifecycle.deactivate(token)
    lifecycle.finish_run(run)
print("ok")
"""


def test_concurrent_writers_in_different_spaces_never_conflict(team, two_teams, tmp_path):
    import subprocess
    import sys

    procs = []
    for who, space in (("alice", "A"), ("carol", "all")):
        folder = tmp_path / who
        folder.mkdir()
        procs.append(subprocess.Popen(
            [sys.executable, "-c", _WRITER, team.url(who), space, str(folder)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0 and out.strip() == "ok", err
    ln.connect(team.url("owner"))
    for space_id in (1, two_teams.id):
        versions = ln.Artifact.filter(key="results/out.csv", space_id=space_id)
        assert sorted(a.version for a in versions) == list(range(1, 16))
        assert versions.filter(is_latest=True).count() == 1
