"""Save and load round trips, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from artifact_helpers import all_rows, stored_keys, write

import lineage as ln
from lineage.errors import ValidationError


def test_csv_round_trip(instance, tmp_path: Path):
    path = write(tmp_path / "table.csv", "a,b\n1,x\n2,y\n")
    artifact = ln.Artifact(path, key="raw/table.csv", description="a table").save()
    assert artifact.id is not None and not artifact.storage_ongoing and artifact.is_latest
    assert (artifact.suffix, artifact.kind, artifact.size, artifact.hash_type) == (
        ".csv", "file", path.stat().st_size, "sha256")
    assert artifact.object_key == f"objects/{artifact.hash[:2]}/{artifact.hash}.csv"
    assert stored_keys() == [artifact.object_key]
    loaded = ln.Artifact.get(key="raw/table.csv")
    assert loaded.uid == artifact.uid and loaded.description == "a table"
    frame = loaded.load()
    pd.testing.assert_frame_equal(frame, pd.read_csv(path))


def test_dataframe_round_trip(instance):
    df = pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]})
    artifact = ln.Artifact.from_dataframe(df, key="analysis/df.parquet").save()
    assert artifact.otype == "DataFrame" and artifact.suffix == ".parquet"
    source = artifact._source
    assert not source.exists(), "the temporary parquet file is removed once stored"
    pd.testing.assert_frame_equal(ln.Artifact.get(key="analysis/df.parquet").load(), df)
    with pytest.warns(UserWarning, match="same content as the DataFrame"):
        again = ln.Artifact.from_dataframe(df.copy(), key="analysis/df.parquet")
    assert again.id == artifact.id, "the same frame is the same content"


def test_json_text_markdown_npy_round_trips(instance, tmp_path: Path):
    value = {"a": [1, 2, {"b": None}], "c": "é"}
    js = ln.Artifact(write(tmp_path / "v.json", json.dumps(value)), key="v.json").save()
    txt = ln.Artifact(write(tmp_path / "n.txt", "hello\nworld"), key="n.txt").save()
    md = ln.Artifact(write(tmp_path / "r.md", "# title"), key="r.md").save()
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.save(tmp_path / "a.npy", array)
    npy = ln.Artifact(tmp_path / "a.npy", key="a.npy").save()
    assert js.load() == value
    assert txt.load() == "hello\nworld"
    assert md.load() == "# title"
    np.testing.assert_array_equal(npy.load(), array)
    with txt.open() as f:
        assert f.read() == "hello\nworld"
    with npy.open("rb") as f:
        assert f.read(6) == b"\x93NUMPY"
    with pytest.raises(ValueError, match="read-only"):
        txt.open("w")


def test_folder_round_trip(instance, tmp_path: Path):
    folder = tmp_path / "folder"
    write(folder / "a.txt", "a")
    write(folder / "sub" / "b.bin", b"\x00\x01")
    artifact = ln.Artifact(folder, key="dirs/folder").save()
    assert (artifact.kind, artifact.n_files, artifact.size, artifact.suffix) == ("folder", 2, 3, "")
    cached = artifact.cache()
    assert (cached / "a.txt").read_text() == "a"
    assert (cached / "sub" / "b.bin").read_bytes() == b"\x00\x01"
    with pytest.raises(NotImplementedError, match="folder"):
        artifact.load()
    with pytest.raises(IsADirectoryError):
        artifact.open()


def test_load_of_unknown_suffix_names_it_and_suggests_cache(instance, tmp_path: Path):
    artifact = ln.Artifact(write(tmp_path / "seq.fasta", ">a\nACGT\n"), key="seq.fasta").save()
    with pytest.raises(NotImplementedError, match=r"'\.fasta'.*cache\(\)"):
        artifact.load()
    assert artifact.cache().read_text() == ">a\nACGT\n"


def test_suffixes_keep_compression_and_drop_odd_characters(instance, tmp_path: Path):
    gz = ln.Artifact(write(tmp_path / "t.csv.gz", b"x"), key="t.csv.gz")
    odd = ln.Artifact(write(tmp_path / "weird.na me", b"y"))
    none = ln.Artifact(write(tmp_path / "README", b"z"))
    assert (gz.suffix, odd.suffix, none.suffix) == (".csv.gz", "", "")


def test_unsaved_artifacts_cannot_be_read(instance, tmp_path: Path):
    artifact = ln.Artifact(write(tmp_path / "x.txt", "x"), key="x.txt")
    with pytest.raises(ValidationError, match="not saved"):
        artifact.load()
    assert all_rows() == []


def test_constructor_rejects_data_frames_by_path_and_other_types(instance):
    with pytest.raises(TypeError, match="from_dataframe"):
        ln.Artifact(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="needs the path"):
        ln.Artifact(key="only/a/key.txt")
    with pytest.raises(TypeError, match="unexpected argument"):
        ln.Artifact("x.txt", key="x.txt", size=3)
    with pytest.raises(TypeError, match="DataFrame"):
        ln.Artifact.from_dataframe([1, 2], key="x.parquet")
    df = pd.DataFrame({"a": [1]})
    artifact = ln.Artifact(df, key="direct.parquet").save()
    assert artifact.otype == "DataFrame"


def test_delete_removes_object_only_when_unreferenced(instance, tmp_path: Path):
    path = write(tmp_path / "x.txt", "shared")
    first = ln.Artifact(path, key="one.txt").save()
    ln.settings.upon_artifact_create_if_hash_exists = "warn_create_new"
    with pytest.warns(UserWarning, match="creating a new artifact"):
        second = ln.Artifact(path, key="two.txt")
    second.save()
    assert second.id != first.id and second.object_key == first.object_key
    assert second.dedup_hash is None
    first.delete()
    assert stored_keys() == [second.object_key], "still used by the second artifact"
    second.delete()
    assert stored_keys() == [] and all_rows() == []


def test_deleting_the_latest_version_makes_the_previous_one_latest(instance, tmp_path: Path):
    path = tmp_path / "v.txt"
    v1 = ln.Artifact(write(path, "1"), key="v.txt").save()
    v2 = ln.Artifact(write(path, "2"), key="v.txt").save()
    v2.delete()
    assert ln.Artifact.get(key="v.txt").uid == v1.uid
    assert ln.Artifact.filter(key="v.txt", is_latest=True).one().uid == v1.uid
