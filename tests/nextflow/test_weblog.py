"""`lineage nextflow weblog`: real HTTP requests with nf-weblog's payloads to a real receiver."""

from __future__ import annotations

import base64
import json
import random

import pytest

import lineage as ln
from nextflow_data import (RUN_NAME, SESSION, a_run, copies, event, metadata, post, task_events,
                           trace)

WORKFLOW_ID = f"{RUN_NAME}/{SESSION}"


def _runs() -> dict[tuple[str, int], ln.Run]:
    found = ln.Run.filter(external_source="nextflow").all()
    keys = [(r.external_id, r.attempt) for r in found]
    assert len(keys) == len(set(keys)), f"duplicate runs: {keys}"
    return dict(zip(keys, found))


def _send(url: str, payloads: list[dict]) -> None:
    for payload in payloads:
        status, answer = post(url, payload)
        assert status == 200, answer


def _check_the_run(runs: dict[tuple[str, int], ln.Run]) -> None:
    """What `a_run()` records, whatever the order and number of deliveries."""
    assert set(runs) == {(WORKFLOW_ID, 1), (f"{WORKFLOW_ID}/make_ot_config", 1),
                         (f"{WORKFLOW_ID}/run_optitype (sample1)", 1),
                         (f"{WORKFLOW_ID}/run_optitype (sample1)", 2)}
    workflow = runs[(WORKFLOW_ID, 1)]
    assert workflow.status == "completed"
    assert workflow.name == RUN_NAME
    assert workflow.transform.key == "nf-core/hlatyping/main.nf"
    assert workflow.transform.kind == "nextflow"
    assert workflow.params["reads"] == "data/test*{1,2}.fq.gz"
    assert workflow.params["beta"] == 0.009
    assert workflow.git["commit"] == "4bcced898ee23600bd8c249ff085f8f88db90e7c"
    assert workflow.git["remote"] == "https://github.com/nf-core/hlatyping.git"
    assert workflow.git["branch"] == "master"
    assert workflow.cli_args[:3] == ["nextflow", "run", "nf-core/hlatyping"]
    details = workflow.details
    assert details["session_id"] == SESSION
    assert details["nextflow_version"] == "19.03.0-edge"
    assert details["revision"] == "master"
    assert details["work_dir"] == "/home/nf/run/work"
    assert workflow.started_at.isoformat().startswith("2018-10-07T11:42:08")
    assert workflow.finished_at.isoformat().startswith("2018-10-07T11:50:00")

    task = runs[(f"{WORKFLOW_ID}/make_ot_config", 1)]
    assert task.status == "completed"
    assert task.initiated_by_run_id == workflow.id
    assert task.transform_id == workflow.transform_id
    assert task.entrypoint == "make_ot_config"
    assert task.name == "make_ot_config"
    assert task.cli_args == []
    d = task.details
    assert (d["task_id"], d["hash"], d["exit"], d["status"]) == (1, "01/000001", 0, "COMPLETED")
    assert d["workdir"].startswith("/home/nf/run/work/01/000001")
    assert d["container"] == "nfcore/hlatyping:1.1.1"
    assert "configbuilder --max-cpus 2" in d["script"]
    assert (d["cpus"], d["memory"], d["time"], d["duration"], d["realtime"]) == (
        1, 7516192768, 7200000, 201101, 69)
    assert (d["cpu_percent"], d["mem_percent"], d["peak_rss"], d["rchar"]) == (
        0.0, 0.1, 574972928, 7597)
    assert d["futureField"] == "kept"
    assert d["submit"].startswith("2018-10-07T11:42:10.498")
    assert task.started_at.isoformat().startswith("2018-10-07T11:42:10.498")
    assert task.finished_at.isoformat().startswith("2018-10-07T11:45:31.599")

    failed = runs[(f"{WORKFLOW_ID}/run_optitype (sample1)", 1)]
    assert failed.status == "errored"
    assert "exit status 137" in failed.error
    assert failed.entrypoint == "run_optitype"
    retry = runs[(f"{WORKFLOW_ID}/run_optitype (sample1)", 2)]
    assert retry.status == "completed" and retry.details["task_id"] == 3
    assert [r.attempt for r in retry.attempts] == [1, 2]


def test_a_run_and_its_tasks(receiver):
    url = receiver()
    _send(url, a_run())
    _check_the_run(_runs())


def test_every_event_twice_in_random_order_gives_the_same_runs(receiver):
    url = receiver()
    payloads = copies(a_run()) * 2
    random.Random(13).shuffle(payloads)
    _send(url, payloads)
    _check_the_run(_runs())


def test_the_workflow_events_last_fill_in_a_run_its_tasks_created(receiver):
    url = receiver()
    payloads = a_run()
    _send(url, payloads[1:-1])  # `started` lost: tasks come first
    bare = _runs()[(WORKFLOW_ID, 1)]
    assert bare.status == "started" and bare.params is None
    _send(url, payloads[-1:])
    workflow = _runs()[(WORKFLOW_ID, 1)]
    assert workflow.status == "completed"
    assert workflow.params["reads"] == "data/test*{1,2}.fq.gz"
    assert workflow.details["nextflow_version"] == "19.03.0-edge"
    assert workflow.git["commit"].startswith("4bcced89")


def test_a_receiver_restarted_mid_run_records_each_run_once(receiver_process):
    payloads = a_run()
    first = receiver_process()
    _send(first.url, payloads[:5])  # started, task 1, the submission of task 2
    first.kill()
    second = receiver_process()
    _send(second.url, payloads[4:])  # the event the first one got, again, and the rest
    _check_the_run(_runs())
    uid = _runs()[(WORKFLOW_ID, 1)].uid
    assert first.printed(f"{RUN_NAME} started: run {uid} (started)")
    assert second.printed(f"{RUN_NAME} completed: run {uid} (completed)")


def test_a_task_end_after_the_workflow_end_corrects_the_closed_task(receiver):
    url = receiver()
    payloads = a_run()
    last_task_end = payloads.pop(-2)
    _send(url, payloads)
    closed = _runs()[(f"{WORKFLOW_ID}/run_optitype (sample1)", 2)]
    assert closed.status == "aborted"
    _send(url, [last_task_end])
    _check_the_run(_runs())
    [change] = [c for c in ln.RecordChange.filter(record_uid=closed.uid).all()
                if (c.previous or {}).get("status") == "aborted"]
    assert change.fields["status"] == "completed"


def test_a_failed_workflow_is_errored_with_nextflows_message(receiver):
    url = receiver()
    _send(url, [event("started", metadata=metadata("started")),
                event("completed", metadata=metadata(
                    "completed", success=False, error="Process `run_optitype` terminated "
                                                      "with an error exit status (137)"))])
    workflow = _runs()[(WORKFLOW_ID, 1)]
    assert workflow.status == "errored"
    assert "exit status (137)" in workflow.error


def test_the_older_params_key_and_an_error_event_without_a_trace(receiver):
    url = receiver()
    _send(url, [event("started", metadata=metadata("started", params_key="params")),
                event("error", trace=None)])
    assert _runs()[(WORKFLOW_ID, 1)].params["outdir"] == "results"


def test_secrets_are_redacted(receiver):
    url = receiver()
    _send(url, a_run())
    runs = _runs()
    workflow = runs[(WORKFLOW_ID, 1)]
    assert workflow.params["api_token"] == "***"
    assert workflow.params["db_password"] == "***"
    assert "tok-very-secret-123" not in " ".join(workflow.cli_args)
    task = runs[(f"{WORKFLOW_ID}/make_ot_config", 1)]
    assert "abc123secret" not in task.details["env"]
    for run in runs.values():
        stored = repr((run.params, run.details, run.cli_args, run.error))
        assert "tok-very-secret-123" not in stored and "hunter2" not in stored


@pytest.mark.parametrize(("body", "status", "message"), [
    (b"{not json", 400, "not JSON"),
    (b"[1, 2]", 400, "JSON object"),
    (b'{"runName": "x", "runId": "y"}', 400, "'event'"),
    (b'{"event": "started", "runId": "y"}', 400, "'runName'"),
    (b'{"event": "process_started", "runName": "x", "runId": "y"}', 400, "'trace'"),
    (b'{"event": "process_started", "runName": "x", "runId": "y", "trace": [1]}', 400,
     "JSON object"),
    (b'{"event": "process_started", "runName": "x", "runId": "y", '
     b'"trace": {"name": "a", "memory": "lots"}}', 400, "'memory'"),
    (b'{"event": "started", "runName": "x", "runId": "y", "utcTime": "yesterday"}', 400,
     "utcTime"),
    (b'{"event": "process_completed", "runName": "x", "runId": "y", '
     b'"trace": {"status": "COMPLETED", "exit": 0, "name": null}}', 400, "needs one of the fields"),
    (b'{"event": "process_exploded", "runName": "x", "runId": "y"}', 422, "unknown event"),
])
def test_a_bad_payload_is_refused_clearly_and_nothing_is_lost(receiver, body, status, message):
    url = receiver()
    payloads = a_run()
    _send(url, payloads[:4])
    before = sorted((r.external_id, r.attempt, r.status) for r in _runs().values())
    got, answer = post(url, None, raw=body)
    assert got == status
    assert message in answer["error"]
    after = sorted((r.external_id, r.attempt, r.status) for r in _runs().values())
    assert after == before
    _send(url, payloads[4:])  # the receiver goes on
    _check_the_run(_runs())


def test_a_token_is_required_when_set(receiver):
    url = receiver(token="nf:s3cret")
    payload = event("started", metadata=metadata("started"))
    status, answer = post(url, payload)
    assert status == 401 and "basicToken" in answer["error"]
    assert not _runs()
    good = {"Authorization": "Basic " + base64.b64encode(b"nf:s3cret").decode()}
    assert post(url, payload, headers=good)[0] == 200
    assert len(_runs()) == 1


def test_a_cached_task_and_a_trace_without_attempts(receiver):
    url = receiver()
    cached = trace(7, name="index (ref)", status="CACHED", attempt=1)
    plain = trace(8, name="quant", status="COMPLETED")
    del plain["attempt"], plain["status"]
    plain["exit"] = 2
    _send(url, [event("process_completed", trace=cached), event("process_completed", trace=plain)])
    runs = _runs()
    assert runs[(f"{WORKFLOW_ID}/index (ref)", 1)].status == "cached"
    assert runs[(f"{WORKFLOW_ID}/quant", 1)].status == "errored"


def test_binding_beyond_loopback_needs_a_token():
    from lineage.errors import ValidationError
    from lineage.nextflow.weblog import check_bind

    with pytest.raises(ValidationError, match="--token"):
        check_bind("0.0.0.0", None)
    check_bind("0.0.0.0", "nf:s3cret")
    check_bind("127.0.0.1", None)


def test_task_events_alone_repeat_into_the_same_runs(receiver):
    url = receiver()
    _send(url, task_events(1, "a") * 3)
    assert set(_runs()) == {(WORKFLOW_ID, 1), (f"{WORKFLOW_ID}/a", 1)}


def test_a_database_that_cannot_be_written_answers_503_and_the_receiver_goes_on(
        sqlite_instance, caplog):
    import subprocess
    import threading
    from pathlib import Path

    from lineage.instance import DB_FILE
    from lineage.nextflow.weblog import WeblogServer

    server = WeblogServer(("127.0.0.1", 0))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    payloads = a_run()
    database = Path(sqlite_instance.root) / DB_FILE
    frozen = [database, database.with_name(database.name + "-wal")]  # not -shm (mapped)
    try:
        _send(server.url, payloads[:1])
        for path in frozen:
            subprocess.run(["chattr", "+i", str(path)], check=True)
        status, answer = post(server.url, payloads[1])
        assert status == 503 and "could not record the event" in answer["error"]
        assert "could not record a Nextflow 'process_submitted' event" in caplog.text
    finally:
        for path in frozen:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    _send(server.url, payloads[1:])
    server.shutdown()
    server.server_close()
    _check_the_run(_runs())


def test_a_chunked_body_and_one_without_length(receiver):
    import http.client
    import json
    from urllib.parse import urlsplit

    url = urlsplit(receiver())
    body = json.dumps(event("started", metadata=metadata("started"))).encode()
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.request("POST", "/", body=iter([body[:100], body[100:]]),
                 headers={"Content-Type": "application/json"}, encode_chunked=True)
    response = conn.getresponse()
    assert response.status == 200, response.read()
    response.read()
    conn.close()
    assert len(_runs()) == 1
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.putrequest("POST", "/")
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 411 and b"Content-Length" in response.read()
    conn.close()


def test_binding_beyond_loopback_without_a_token_is_refused_by_the_command(instance, cli, capsys):
    assert cli("nextflow", "weblog", "--host", "0.0.0.0", "--port", "0") == 1
    assert "--token" in capsys.readouterr().err


def test_a_local_pipeline_a_latin1_body_and_metadata_times_of_another_shape(receiver, tmp_path):
    """Nextflow's client writes each character's low byte; paths may come as file:// URIs."""
    url = receiver()
    script = tmp_path / "my-pipeline" / "main.nf"
    script.parent.mkdir()
    script.write_text("process hello { 'echo hello' }\nworkflow { hello() }\n")
    started = metadata("started")
    info = started["workflow"]
    info.update(scriptFile=f"file://{script}", manifest={}, repository=None, commitId=None,
                start={"epochSecond": 1538912528, "nano": 0})
    started["parameters"]["sample"] = "échantillon"
    body = json.dumps(event("started", metadata=started), ensure_ascii=False).encode("latin-1")
    status, answer = post(url, None, raw=body)
    assert status == 200, answer
    workflow = _runs()[(WORKFLOW_ID, 1)]
    assert workflow.params["sample"] == "échantillon"
    assert workflow.transform.key == "my-pipeline/main.nf"
    assert "workflow { hello() }" in workflow.transform.source_code
    assert workflow.started_at.isoformat().startswith("2018-10-07T11:45:30")  # the utcTime


def test_a_get_answers_how_many_events_were_recorded(receiver):
    import urllib.request

    url = receiver()
    _send(url, a_run()[:3])
    with urllib.request.urlopen(url, timeout=30) as response:
        assert json.loads(response.read()) == {"service": "lineage nextflow weblog", "received": 3}
