"""``lineage save`` says what it did: saved, a new version, or an existing artifact returned."""

from __future__ import annotations

import lineage as ln


def test_save_says_when_it_returned_an_existing_artifact_under_another_key(
        instance, tmp_path, capsys, cli):
    path = tmp_path / "data.csv"
    path.write_text("a\n1\n")
    assert cli("save", str(path), "--key", "raw/data.csv") == 0
    first = ln.Artifact.get(key="raw/data.csv")
    assert capsys.readouterr().out.startswith(f"saved {first.uid}  key=raw/data.csv  version=1")

    assert cli("save", str(path), "--key", "copy/data.csv") == 0
    out = capsys.readouterr().out
    assert not out.startswith("saved")
    assert out.startswith(f"existing {first.uid}  key=raw/data.csv  version=1")
    assert f"{path} has the same content, so --key copy/data.csv was not applied" in out
    assert ln.Artifact.filter(key="copy/data.csv").count() == 0

    assert cli("save", str(path), "--key", "raw/data.csv") == 0
    out = capsys.readouterr().out
    assert out.startswith(f"already saved: {path} is {first.uid}  key=raw/data.csv  version=1")

    path.write_text("a\n2\n")
    assert cli("save", str(path), "--key", "raw/data.csv") == 0
    second = ln.Artifact.get(key="raw/data.csv")
    assert capsys.readouterr().out.startswith(f"saved {second.uid}  key=raw/data.csv  version=2")
