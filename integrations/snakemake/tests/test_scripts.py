"""A rule's ``script:`` that calls ``ln.track()`` is linked to the run of its job."""

from __future__ import annotations

import lineage as ln

from snakemake_helpers import runs_by_name


def test_tracked_scripts_of_parallel_jobs_link_to_their_own_jobs(snakemake):
    snakemake.copy("tracked_script")
    done = snakemake()
    assert "could not record" not in done.stderr
    workflow = ln.Run.get(external_source="snakemake", initiated_by_run_id=None)
    jobs = runs_by_name(workflow)
    assert {r.status for r in jobs.values()} == {"completed"}
    scripts = ln.Run.filter(transform__key="shout.py").all()
    assert len(scripts) == 2
    for script in scripts:
        word = script.params["word"]
        assert script.status == "completed"
        assert script.initiated_by_run == jobs[f"shout word={word}"]
    # the two jobs really ran side by side (else this test proves little)
    hello, world = jobs["shout word=hello"], jobs["shout word=world"]
    assert hello.started_at < world.finished_at and world.started_at < hello.finished_at


def test_the_script_of_each_attempt_links_to_that_attempt(snakemake):
    snakemake.copy("tracked_retry")
    done = snakemake("--retries", "1")
    assert "could not record" not in done.stderr
    attempts = ln.Run.filter(entrypoint="flaky").order_by("attempt").all()
    assert [(r.attempt, r.status) for r in attempts] == [(1, "errored"), (2, "completed")]
    scripts = {r.params["first"]: r for r in ln.Run.filter(transform__key="flaky.py").all()}
    assert scripts[True].status == "errored" and scripts[False].status == "completed"
    assert scripts[True].initiated_by_run == attempts[0]
    assert scripts[False].initiated_by_run == attempts[1]
