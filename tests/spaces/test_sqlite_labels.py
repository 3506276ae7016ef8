"""On SQLite there is one user and no roles: spaces are labels, and lineage says so."""

from __future__ import annotations

from pathlib import Path

import lineage as ln
from lineage import lifecycle


def test_spaces_label_records_on_sqlite_and_info_says_nothing_is_enforced(
        sqlite_instance, tmp_path: Path, cli, capsys):
    space = ln.Space(name="Our team space").save()
    assert ln.Space.get(name="all").id == 1 and space.id == 2
    assert not lifecycle.spaces.enforced()

    @ln.flow(space="Our team space")
    def make() -> ln.Artifact:
        path = tmp_path / "x.txt"
        path.write_text("x")
        return ln.Artifact(path, key="x.txt").save()

    artifact = make()
    assert artifact.space_id == space.id and artifact.run.space_id == space.id
    assert ln.Artifact.filter(space_id=space.id).count() == 1
    space.add_member("alice", "write")  # a label too: no roles to check
    assert space.members == [("alice", "write")]
    ln.Space.get(name="all").move_in(artifact)
    assert ln.Artifact.get(artifact.uid).space_id == 1
    capsys.readouterr()
    assert cli("info") == 0
    out = capsys.readouterr().out
    assert "labels only" in out and "nothing is enforced" in out
    assert cli("space", "members", "Our team space") == 0
    assert "alice\twrite" in capsys.readouterr().out
    assert cli("space", "show", "Our team space") == 0
    out = capsys.readouterr().out
    assert "enforced:    no (labels only" in out and "alice (write)" in out
    assert f"/spaces/{space.uid}/objects/" in out and "bucket policy applies to S3 only" in out
