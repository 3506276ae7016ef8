"""The private Snakemake APIs of `internals` against the pinned Snakemake (see that module)."""

from __future__ import annotations

from importlib.metadata import version

import importlib

from snakemake_logger_plugin_lineage import internals


def test_the_pinned_snakemake_is_installed():
    assert version("snakemake") == internals.PINNED_VERSION


def test_job_environment_wraps_subprocess_of_snakemake_shell_and_undoes():
    import subprocess

    shell = importlib.import_module("snakemake.shell")  # the package's `shell` attribute is the class
    assert shell.sp is subprocess
    undo = internals.add_job_environment(lambda jobid: {"X": str(jobid)})
    try:
        assert shell.sp is not subprocess
        assert shell.sp.PIPE == subprocess.PIPE  # the rest passes through
        assert internals.add_job_environment(lambda jobid: None) is None  # never twice
    finally:
        undo()
    assert shell.sp is subprocess


def test_the_job_id_is_found_in_a_caller():
    def popen():  # stands for the wrapped Popen: the search starts at its caller
        return internals._calling_job()

    def shell_new(jobid=None):  # shell.__new__ of a script job: jobid is None there
        return popen()

    def run_wrapper(jobid):
        return shell_new()

    assert run_wrapper(7) == 7
    assert shell_new() is None


def test_no_workflow_outside_snakemake():
    assert internals.current_workflow() is None
    assert internals.job_by_id(0) is None
    assert internals.workflow_config() is None
    assert internals.named_params(object()) is None


def test_records_are_watched_on_snakemakes_logger_where_they_are_logged():
    import logging
    import threading

    from snakemake.logging import logger  # the logger Snakemake logs its events on

    assert logger.name == internals.SNAKEMAKE_LOGGER
    seen = []
    undo = internals.watch_records(lambda record: seen.append(
        (getattr(record, "event", None), threading.current_thread().name)))
    try:
        logger.setLevel(logging.INFO)
        logger.info("Execute 1 jobs...", extra={"event": "job_started", "jobs": [3]})
    finally:
        undo()
    logger.info("not watched")
    assert seen == [("job_started", threading.current_thread().name)]
