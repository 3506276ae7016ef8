"""Files: annotations, files gone before they are hashed, one hash per file."""

from __future__ import annotations

import lineage as ln
from lineage import lifecycle

from snakemake_logger_plugin_lineage.files import Files, local_path


def test_annotations_and_remote_files():
    assert local_path("out/a.txt") == "out/a.txt"
    assert local_path("fifo.txt (pipe)") is None
    assert local_path("s3://bucket/key (send to storage)") is None
    assert local_path("data/x.txt (update)") == "data/x.txt"


def test_a_file_removed_before_it_is_hashed_is_listed_as_gone(lineage_instance, tmp_path):
    transform = lifecycle.file_transform(tmp_path / "Snakefile", "snakemake")
    run = lifecycle.engine_run(transform.transform, external_source="snakemake", external_id="w/1")
    (tmp_path / "kept.txt").write_text("kept\n")
    (tmp_path / "gone.txt").write_text("gone\n")
    (tmp_path / "gone.txt").unlink()
    files = Files(str(tmp_path))
    assert files.record(run, ["kept.txt", "gone.txt"], "output") == ["gone.txt"]
    assert ln.Artifact.get(key="kept.txt").run == run


def test_an_output_read_by_the_next_job_is_hashed_once(lineage_instance, tmp_path):
    transform = lifecycle.file_transform(tmp_path / "Snakefile", "snakemake").transform
    first = lifecycle.engine_run(transform, external_source="snakemake", external_id="w/1")
    second = lifecycle.engine_run(transform, external_source="snakemake", external_id="w/2")
    (tmp_path / "mid.txt").write_text("middle\n")
    files = Files(str(tmp_path))
    files.record(first, ["mid.txt"], "output")
    files.record(second, ["mid.txt"], "input")
    assert files.hashed == 1
    artifact = ln.Artifact.get(key="mid.txt")
    assert artifact.run == first and list(second.input_artifacts.all()) == [artifact]
    (tmp_path / "mid.txt").write_text("changed\n")  # a new content is hashed again
    files.record(second, ["mid.txt"], "input")
    assert files.hashed == 2
