"""A three-rule workflow with wildcards on two cores: runs, params, files, one artifact per file."""

from __future__ import annotations

import lineage as ln

from snakemake_helpers import runs_by_name


def test_three_rules_with_wildcards(snakemake):
    workdir = snakemake.copy("three_rules")
    done = snakemake()
    assert "could not record" not in done.stderr

    workflow = ln.Run.get(external_source="snakemake", initiated_by_run_id=None)
    assert workflow.status == "completed" and workflow.finished_at is not None
    assert workflow.transform.key == "Snakefile" and workflow.transform.kind == "snakemake"
    assert "rule merge:" in workflow.transform.source_code
    assert workflow.params == {"samples": ["a", "bb"]}
    assert "--logger" in workflow.cli_args
    assert workflow.details["snakemake_version"].startswith("9.")
    assert workflow.details["configfiles"] == ["config.yaml"]

    jobs = runs_by_name(workflow)
    assert set(jobs) == {"make sample=a", "make sample=bb", "count sample=a", "count sample=bb",
                         "merge"}
    assert {r.status for r in jobs.values()} == {"completed"}
    assert {r.attempt for r in jobs.values()} == {1}
    assert all(r.external_id.startswith(workflow.external_id + "/") for r in jobs.values())

    make = jobs["make sample=bb"]
    assert make.entrypoint == "make" and make.transform_id == workflow.transform_id
    assert make.params == {"lines": 4, "label": "raw"}
    assert make.details["wildcards"] == {"sample": "bb"}
    assert make.details["shellcmd"].startswith("for i in $(seq 4)")
    count = jobs["count sample=a"]
    assert count.details["threads"] == 2
    assert count.details["resources"]["mem_mb"] == 20
    assert count.details["log"] == ["logs/count_a.log"]

    # Each file is one artifact: written by one job, read by the next.
    summary = ln.Artifact.get(key="summary.tsv")
    assert summary.run == jobs["merge"]
    for sample in ("a", "bb"):
        data = ln.Artifact.get(key=f"data/{sample}.txt")
        counts = ln.Artifact.get(key=f"counts/{sample}.tsv")
        assert data.run == jobs[f"make sample={sample}"]
        assert counts.run == jobs[f"count sample={sample}"]
        assert {a.id for a in jobs[f"count sample={sample}"].input_artifacts.all()} == {data.id}
        assert ln.Artifact.filter(key=f"data/{sample}.txt").count() == 1
    assert {a.key for a in jobs["merge"].input_artifacts.all()} == {"counts/a.tsv", "counts/bb.tsv"}
    assert (workdir / "summary.tsv").read_text() == "a\t3\nbb\t4\n"
