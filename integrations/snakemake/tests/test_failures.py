"""Failing jobs, retries, an interrupted workflow run and its rerun, temp() outputs, dry runs."""

from __future__ import annotations

import sys

import lineage as ln

from snakemake_helpers import runs_by_name


def _workflow_runs():
    return ln.Run.filter(external_source="snakemake", initiated_by_run_id=None).order_by("id").all()


def test_a_failing_rule_with_retries(snakemake):
    snakemake.copy("failing")
    done = snakemake("--retries", "1", check=False)
    assert done.returncode == 1
    assert "could not record" not in done.stderr

    [workflow] = _workflow_runs()
    assert workflow.status == "errored"
    assert "At least one job did not complete successfully" in workflow.error
    runs = ln.Run.filter(initiated_by_run_id=workflow.id, entrypoint="broken").order_by("attempt").all()
    assert [(r.attempt, r.status) for r in runs] == [(1, "errored"), (2, "errored")]
    assert runs[0].external_id == runs[1].external_id
    for run in runs:
        assert "exit status 3" in run.error
        assert "log line 100" in run.error and "log line 61\n" in run.error
        assert "log line 60\n" not in run.error  # the tail only
        assert run.finished_at is not None
    jobs = runs_by_name(workflow)
    assert jobs["first"].status == "completed"
    assert jobs["side"].status == "completed"  # ran beside the failure, finished by Snakemake
    assert "all" not in jobs
    assert not ln.Run.filter(status="started").exists()


def test_dry_run_records_nothing(snakemake):
    snakemake.copy("three_rules")
    done = snakemake("-n")
    assert "make" in done.stdout + done.stderr
    assert ln.Run.filter().count() == 0
    assert ln.Transform.filter().count() == 0
    assert ln.Artifact.filter().count() == 0


def test_rerun_after_touching_then_changing_an_input(snakemake):
    workdir = snakemake.copy("three_rules")
    snakemake()
    data = ln.Artifact.get(key="data/a.txt")
    first_count = ln.Artifact.get(key="counts/a.tsv").run
    artifacts = ln.Artifact.filter().count()

    # Touched, same content: Snakemake 9 compares checksums and runs nothing.
    (workdir / "data" / "a.txt").touch()
    done = snakemake()
    assert "Nothing to be done" in done.stderr
    first, touched = _workflow_runs()
    assert touched.status == "completed" and touched.external_id != first.external_id
    assert runs_by_name(touched) == {}
    assert ln.Artifact.filter().count() == artifacts

    # Changed: the job it feeds and the merge run again; the file is a new version.
    (workdir / "data" / "a.txt").write_text("raw a 1\nraw a 2\nraw a 3\nraw a 4\n")
    snakemake()
    *_, changed = _workflow_runs()
    jobs = runs_by_name(changed)
    assert set(jobs) == {"count sample=a", "merge"}
    count = jobs["count sample=a"]
    assert count.attempt == 1 and count.status == "completed"
    [new_data] = count.input_artifacts.all()
    assert new_data.key == "data/a.txt" and new_data.id != data.id and new_data.is_latest
    assert ln.Artifact.get(key="counts/a.tsv").run == count
    assert (workdir / "summary.tsv").read_text() == "a\t4\nbb\t4\n"
    assert ln.Artifact.filter(key="summary.tsv").count() == 2  # two contents, two versions
    assert first_count.status == "completed"


def test_interrupted_job_rerun_later_is_its_next_attempt(snakemake):
    workdir = snakemake.copy("interrupted")
    done = snakemake("--config", "signal=INT", f"python={sys.executable}", check=False)
    assert done.returncode != 0
    [interrupted] = _workflow_runs()
    assert interrupted.status == "errored"
    [slow] = ln.Run.filter(initiated_by_run_id=interrupted.id).all()
    # aborted when Snakemake stopped before the job ended, errored when it reported the job failed
    assert (slow.entrypoint, slow.attempt) == ("slow", 1) and slow.status in ("aborted", "errored")

    (workdir / "go").touch()
    snakemake("--rerun-incomplete", "--config", "signal=INT", f"python={sys.executable}")
    _, rerun = _workflow_runs()
    assert rerun.status == "completed"
    again = ln.Run.get(initiated_by_run_id=rerun.id, entrypoint="slow")
    assert again.status == "completed"
    assert (again.external_id, again.attempt) == (slow.external_id, 2)
    assert [r.id for r in again.attempts] == [slow.id, again.id]
    slow = ln.Run.get(id=slow.id)
    assert slow.details["rerun_in"] == rerun.details["workflow_id"]
    assert ln.Artifact.get(key="slow.txt").run == again


def test_killed_workflow_rerun_later_aborts_the_dead_run(snakemake):
    workdir = snakemake.copy("interrupted")
    done = snakemake("--config", "signal=KILL", f"python={sys.executable}", check=False)
    assert done.returncode != 0
    [killed] = _workflow_runs()
    [slow] = ln.Run.filter(initiated_by_run_id=killed.id).all()
    assert slow.status == "started"  # nobody could say otherwise

    (workdir / "go").touch()
    snakemake("--unlock")
    snakemake("--rerun-incomplete", "--config", "signal=KILL", f"python={sys.executable}")
    again = ln.Run.get(entrypoint="slow", attempt=2)
    assert again.status == "completed" and again.external_id == slow.external_id
    slow = ln.Run.get(id=slow.id)
    assert slow.status == "aborted" and "ended without reporting" in slow.error


def test_temp_output_gone_before_it_is_hashed_is_no_error(snakemake):
    workdir = snakemake.copy("temp_output")
    done = snakemake()
    assert "could not record" not in done.stderr
    assert not (workdir / "middle.txt").exists()
    [workflow] = _workflow_runs()
    jobs = runs_by_name(workflow)
    assert {r.status for r in jobs.values()} == {"completed"}
    middle = jobs["middle"]
    artifact = ln.Artifact.filter(key="middle.txt").first()
    # Either hashed before Snakemake removed it, or listed as gone: never an error.
    assert (artifact is not None and artifact.run == middle) or (
        middle.details["outputs_gone"] == ["middle.txt"])
    assert ln.Artifact.get(key="last.txt").run == jobs["last"]


def test_a_job_that_succeeded_on_retry_is_rerun_as_a_new_job(snakemake):
    snakemake.copy("flaky")
    snakemake("--retries", "1")
    [first] = ln.Run.filter(entrypoint="flaky").order_by("attempt").all()[:1]
    attempts = [(r.attempt, r.status) for r in first.attempts]
    assert attempts == [(1, "errored"), (2, "completed")]

    snakemake("--forcerun", "flaky")  # a rerun of a job whose last attempt succeeded
    *_, forced = _workflow_runs()
    again = ln.Run.get(initiated_by_run_id=forced.id, entrypoint="flaky")
    assert again.status == "completed" and again.attempt == 1
    assert again.external_id != first.external_id
    assert [(r.attempt, r.status) for r in first.attempts] == attempts  # unchanged
