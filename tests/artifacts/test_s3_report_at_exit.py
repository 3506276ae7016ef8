"""A tracked script on S3 default storage that exits without `ln.finish()` keeps its report.

The upload happens at interpreter exit, where ``concurrent.futures`` has
already shut down the executor that aiobotocore needs; lineage finishes the
run at thread shutdown instead (issue 10, follow-up of item 8). Real moto
server, real interpreters.
"""

from __future__ import annotations

import os
import uuid

import pytest
from artifact_helpers import reconnect, run_child

import lineage as ln


@pytest.fixture(params=["postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """PostgreSQL only: an embedded (SQLite) instance refuses a bucket as its storage."""
    return request.param


def _child_env() -> dict[str, str]:
    return {name: os.environ[name] for name in os.environ if name.startswith("AWS_")}


def _last_run(instance) -> ln.Run:
    reconnect(instance)
    return ln.Run.filter().order_by("-id").first()


def test_report_of_a_script_without_finish_is_uploaded(s3_instance) -> None:
    marker = uuid.uuid4().hex
    proc = run_child(s3_instance, f"""
        import lineage as ln
        ln.track()
        print("printed by the script {marker}")
    """, env=_child_env())
    assert "was not saved" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr
    run = _last_run(s3_instance)
    assert run.status == "completed"
    assert run.report is not None, proc.stderr
    assert run.report.storage.root.startswith("s3://")
    assert f"printed by the script {marker}" in run.report.cache().read_text()


def test_output_of_a_thread_still_running_at_exit_is_in_the_report(s3_instance) -> None:
    marker = uuid.uuid4().hex
    proc = run_child(s3_instance, f"""
        import threading, time
        import lineage as ln
        ln.track()

        def late():
            time.sleep(1.0)
            print("printed by a thread {marker}", flush=True)

        threading.Thread(target=late).start()  # not joined: the interpreter waits for it
    """, env=_child_env())
    assert proc.returncode == 0, proc.stderr
    run = _last_run(s3_instance)
    assert run.status == "completed"
    assert run.report is not None, proc.stderr
    assert f"printed by a thread {marker}" in run.report.cache().read_text()
