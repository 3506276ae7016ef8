"""``lineage serve``: OpenLineage events over real HTTP, from the real openlineage-python client."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid

import pytest
from test_openlineage_ingest import event

import lineage as ln
from lineage.openlineage.server import make_server


@pytest.fixture
def server(instance):
    found = {}

    def start(token=None):
        srv = make_server("127.0.0.1", 0, token)
        thread = threading.Thread(target=srv.serve_forever, daemon=True)
        thread.start()
        found["server"] = (srv, thread)
        return srv

    yield start
    if "server" in found:
        srv, thread = found["server"]
        srv.shutdown()
        srv.server_close()
        thread.join(10)


def post(url, body, headers=None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_posted_events_are_recorded_and_answered_like_marquez(server):
    srv = server()
    run_id = str(uuid.uuid4())
    status, body = post(f"{srv.url}/api/v1/lineage", event("START", run_id,
                                                           inputs=[("s3://b", "raw/x", "1")]))
    assert status == 201 and body["recorded"] == 1
    batch = [event("COMPLETE", run_id, at=5, outputs=[("s3://b", "out/y", "2")])] * 2
    status, body = post(f"{srv.url}/api/v1/lineage/", batch)
    assert status == 201 and body["recorded"] == 2
    run = ln.Run.get(external_id=run_id)
    assert run.status == "completed" and body["runs"] == [run.uid, run.uid]
    assert run.input_artifacts.count() == 1 and run.output_artifacts.count() == 1
    with urllib.request.urlopen(f"{srv.url}/api/v1/health", timeout=30) as response:
        assert json.loads(response.read()) == {"status": "ok"}


def test_bad_requests_get_clear_errors_and_record_nothing(server):
    srv = server()
    status, body = post(f"{srv.url}/api/v1/lineage", b"{not json")
    assert status == 400 and "not JSON" in body["error"]
    bad = event("START", "42")
    status, body = post(f"{srv.url}/api/v1/lineage", [event("START", str(uuid.uuid4())), bad])
    assert status == 400
    assert body["error"].startswith("event 1: not a valid OpenLineage run event")
    assert "run.runId must be a UUID, got '42'" in body["error"]
    status, body = post(f"{srv.url}/api/v2/else", event("START", str(uuid.uuid4())))
    assert status == 404 and "/api/v1/lineage" in body["error"]
    assert ln.Run.filter().count() == 0


def test_a_token_is_required_when_set(server):
    srv = server(token="s3cret")
    e = event("START", str(uuid.uuid4()))
    assert post(f"{srv.url}/api/v1/lineage", e)[0] == 401
    assert post(f"{srv.url}/api/v1/lineage", e, {"Authorization": "Bearer wrong"})[0] == 401
    assert post(f"{srv.url}/api/v1/lineage", e, {"Authorization": "Bearer s3cret"})[0] == 201


def test_concurrent_posts_of_one_run_give_one_run(server):
    srv = server()
    run_id = str(uuid.uuid4())
    events = [event(t, run_id, at=i, inputs=[("pg://db", "t", "1")])
              for i, t in enumerate(["START", "RUNNING", "RUNNING", "COMPLETE"] * 3)]
    answers = []
    threads = [threading.Thread(target=lambda e=e: answers.append(post(
        f"{srv.url}/api/v1/lineage", e)[0])) for e in events]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert answers == [201] * len(events)
    assert ln.Run.filter(external_id=run_id).count() == 1
    assert ln.Run.get(external_id=run_id).status == "completed"
    assert ln.Artifact.filter(kind="reference").count() == 1


def test_the_openlineage_python_client_posts_to_lineage_serve(server):
    client_module = pytest.importorskip("openlineage.client")
    from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import error_message_run, parent_run
    from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport

    srv = server(token="k3y")
    client = client_module.OpenLineageClient(transport=HttpTransport(HttpConfig(
        url=srv.url, auth=ApiKeyTokenProvider({"apiKey": "k3y"}))))
    parent_id, run_id = str(uuid.uuid4()), str(uuid.uuid4())
    parent = parent_run.ParentRunFacet(
        run=parent_run.Run(runId=parent_id), job=parent_run.Job(namespace="airflow", name="dag"))
    job = Job(namespace="dbt://warehouse", name="models.orders")
    producer = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"
    source = [InputDataset(namespace="postgres://db:5432", name="raw.orders")]
    client.emit(RunEvent(eventType=RunState.START, eventTime="2026-12-02T06:00:00Z",
                         run=Run(runId=run_id, facets={"parent": parent}), job=job,
                         producer=producer, inputs=source))
    error = error_message_run.ErrorMessageRunFacet(message="relation does not exist",
                                                   programmingLanguage="SQL")
    client.emit(RunEvent(eventType=RunState.FAIL, eventTime="2026-12-02T06:01:00Z",
                         run=Run(runId=run_id, facets={"parent": parent, "errorMessage": error}),
                         job=job, producer=producer, inputs=source,
                         outputs=[OutputDataset(namespace="postgres://db:5432", name="marts.orders")]))
    run = ln.Run.get(external_source="openlineage", external_id=run_id)
    assert run.status == "errored" and "relation does not exist" in run.error
    assert run.transform.key == "dbt://warehouse/models.orders"
    assert run.initiated_by_run.external_id == parent_id
    assert [a.object_key for a in run.input_artifacts] == ["raw.orders"]
    assert [a.object_key for a in run.output_artifacts] == ["marts.orders"]


def test_lineage_openlineage_ingest_reads_files(instance, cli, tmp_path, capsys):
    run_id = str(uuid.uuid4())
    lines = [json.dumps(event("START", run_id)), "{broken", json.dumps(event("START", "7")),
             json.dumps(event("COMPLETE", run_id, at=3))]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert cli("openlineage", "ingest", str(path)) == 1
    captured = capsys.readouterr()
    assert "recorded 2 events, skipped 2 invalid" in captured.out
    assert f"{path}:2: not JSON" in captured.err and f"{path}:3: not a valid" in captured.err
    assert ln.Run.get(external_id=run_id).status == "completed"
    array = tmp_path / "events.json"
    array.write_text(json.dumps([event("START", run_id), event("COMPLETE", run_id, at=3)]))
    assert cli("openlineage", "ingest", str(array), str(path)) == 1
    assert ln.Run.filter(external_source="openlineage").count() == 1


def test_serve_refuses_to_listen_beyond_loopback_without_a_token(instance, cli, capsys):
    assert cli("serve", "--host", "0.0.0.0", "--port", "0") == 1
    assert "refusing to accept events on 0.0.0.0 without a token" in capsys.readouterr().err


def test_lineage_serve_runs_as_a_command(tmp_path):
    import os
    import subprocess
    import sys

    folder = tmp_path / "inst"
    env = {**os.environ, "LINEAGE_INSTANCE": str(folder)}
    subprocess.run([sys.executable, "-m", "lineage", "init", "--storage", str(folder)], env=env,
                   check=True, capture_output=True, timeout=120)
    proc = subprocess.Popen([sys.executable, "-m", "lineage", "serve", "--port", "0"], env=env,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        assert "recording OpenLineage events at http://127.0.0.1:" in line, line
        url = line.split(" at ", 1)[1].split("/api/v1/lineage")[0]
        run_id = str(uuid.uuid4())
        assert post(f"{url}/api/v1/lineage", event("COMPLETE", run_id))[0] == 201
    finally:
        proc.terminate()
        proc.wait(30)
    ln.connect(folder)
    assert ln.Run.get(external_id=run_id).status == "completed"
