"""S3 inlets and outlets under ``dag.test()``, against a moto server on loopback.

Existing objects become artifacts registered in place (hashed, not
copied); missing ones are references; an S3 error is logged once and never
fails the task.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import lineage as ln
import pytest

from lineage.testing import use_s3_endpoint
from test_dag_test import task_run

@pytest.fixture
def bucket(moto_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    import boto3

    use_s3_endpoint(monkeypatch, moto_server, AWS_MAX_ATTEMPTS="1")
    monkeypatch.setenv("LINEAGE_CACHE_DIR", str(tmp_path / "cache"))
    name = f"airflow-{uuid.uuid4().hex[:10]}"
    boto3.client("s3").create_bucket(Bucket=name)
    monkeypatch.setenv("LINEAGE_TEST_BUCKET", name)
    return name


@pytest.fixture
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget which failures were logged already (once per kind and process)."""
    from lineage.lifecycle import guard

    monkeypatch.setattr(guard, "_reported", set())


def test_an_s3_outlet_read_by_a_tracked_script_is_one_node(run_dag, bucket):
    dag_run = run_dag("s3_handoff")
    produce, count = task_run(dag_run, "produce"), task_run(dag_run, "count")
    assert (produce.status, count.status) == ("completed", "completed")
    rows = produce.output_artifacts.filter(kind="external").one()
    assert rows.hash == hashlib.sha256(b"x\n1\n2\n3\n").hexdigest() and rows.size == 8
    assert (rows.storage.root, rows.object_key, rows.is_owned) == (f"s3://{bucket}", "rows.csv", False)
    assert rows.source_etag
    later = produce.output_artifacts.filter(kind="reference").one()  # written by nobody yet
    assert later.object_key == "not-yet.csv"
    assert [a.id for a in count.input_artifacts.all()] == [rows.id]  # the inlet
    script = ln.Run.filter(initiated_by_run_id=count.id).one()
    assert script.status == "completed"
    assert [a.id for a in script.input_artifacts.all()] == [rows.id]
    graph = ln.lineage_graph(rows)
    artifacts = [n for n, d in graph.nodes(data=True)
                 if d["kind"] == "artifact" and d.get("uid") == rows.uid]
    run_uids = {d["uid"] for _, d in graph.nodes(data=True) if d["kind"] == "run"}
    assert len(artifacts) == 1 and {produce.uid, script.uid} <= run_uids


class _Failing(BaseHTTPRequestHandler):
    """An S3 endpoint whose every answer is 500 InternalError."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _fail(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = (b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>InternalError</Code>"
                b"<Message>injected by the test</Message></Error>")
        self.send_response(500)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = _fail


def test_an_s3_error_is_logged_once_and_never_fails_the_task(
        run_dag, bucket, monkeypatch, caplog, fresh_warnings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    caplog.set_level(logging.DEBUG, logger="lineage.airflow")
    try:
        use_s3_endpoint(monkeypatch, f"http://127.0.0.1:{server.server_address[1]}",
                        AWS_MAX_ATTEMPTS="1")
        dag_run = run_dag("s3_outlets")
    finally:
        server.shutdown()
        server.server_close()
    assert str(dag_run.state) == "success"
    publish = task_run(dag_run, "publish")
    assert publish.status == "completed"
    # Still named in the lineage: references, as for objects that do not exist.
    assert sorted(a.object_key for a in publish.output_artifacts.all()) == ["a.csv", "b.csv"]
    assert {a.kind for a in publish.output_artifacts.all()} == {"reference"}
    assert [a.object_key for a in publish.input_artifacts.all()] == ["in.csv"]
    failures = [r for r in caplog.records if "S3 inlet or outlet" in r.getMessage()]
    warnings = [r for r in failures if r.levelno == logging.WARNING]
    assert len(failures) == 3 and len(warnings) == 1  # three objects, one warning
    assert "Internal Server Error" in warnings[0].getMessage()


def test_existing_s3_inlets_and_outlets_become_artifacts_missing_ones_references(run_dag, bucket):
    import boto3

    client = boto3.client("s3")
    client.put_object(Bucket=bucket, Key="in.csv", Body=b"input")
    client.put_object(Bucket=bucket, Key="a.csv", Body=b"output a")
    publish = task_run(run_dag("s3_outlets"), "publish")
    outputs = {a.object_key: a for a in publish.output_artifacts.all()}
    assert (outputs["a.csv"].kind, outputs["b.csv"].kind) == ("external", "reference")
    assert outputs["a.csv"].hash == hashlib.sha256(b"output a").hexdigest()
    (inlet,) = publish.input_artifacts.all()
    assert (inlet.kind, inlet.hash) == ("external", hashlib.sha256(b"input").hexdigest())
    assert sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]) == [
        "a.csv", "in.csv"]  # nothing copied into the bucket
