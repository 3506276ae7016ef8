"""Live emission: events reach a real HTTP endpoint; a dead or slow one never holds a step up."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from ol_schema import errors

import lineage as ln
from lineage.lifecycle import observers
from lineage.openlineage.emit import Emitter, HttpTransport, transport_config


class Recorder(ThreadingHTTPServer):
    """A real endpoint that keeps what is posted; `gate` (set = open) holds answers back."""

    daemon_threads = True

    def __init__(self):
        self.events: list[dict] = []
        self.gate = threading.Event()
        self.gate.set()
        self.waiting = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler):  # noqa: N802, N805
                body = handler.rfile.read(int(handler.headers["Content-Length"]))
                self.waiting.set()
                self.gate.wait(60)
                self.events.append({"path": handler.path, "auth": handler.headers.get(
                    "Authorization"), **json.loads(body)})
                handler.send_response(201)
                handler.send_header("Content-Length", "0")
                handler.end_headers()

            def log_message(handler, *args):  # noqa: N805
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def recorder():
    server = Recorder()
    yield server
    server.gate.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def no_openlineage_config(monkeypatch, tmp_path):
    """No OPENLINEAGE_* variable, no openlineage.yml here or in ~/.openlineage."""
    import os

    for name in list(os.environ):
        if name.startswith("OPENLINEAGE"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    observers.reset()
    yield monkeypatch
    for observer in list(observers._observers):
        owner = getattr(observer, "__self__", None)
        if owner is not None:
            owner.flush(10)
    observers.reset()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed on leaving: nothing listens there


def pipeline(folder, steps=3):
    @ln.step()
    def make(i: int) -> ln.Artifact:
        path = folder / f"part{i}.csv"
        path.write_text(f"i\n{i}\n")
        return ln.Artifact(path, key=f"parts/part{i}.csv").save()

    @ln.flow()
    def main(n: int) -> list:
        return [make(i) for i in range(n)]

    folder.mkdir(parents=True, exist_ok=True)
    return main(steps)


def emitter_of_process() -> Emitter:
    [observer] = observers._observers
    return observer.__self__


def test_transport_configuration_follows_the_openlineage_client(tmp_path):
    assert transport_config({}) is None
    assert transport_config({"OPENLINEAGE_URL": "http://m:5000", "OPENLINEAGE_API_KEY": "k"}) == {
        "type": "http", "url": "http://m:5000", "endpoint": "api/v1/lineage",
        "auth": {"type": "api_key", "apiKey": "k"}}
    assert transport_config({"OPENLINEAGE_URL": "http://m", "OPENLINEAGE_DISABLED": "true"}) is None
    yml = tmp_path / "ol.yml"
    yml.write_text("transport:\n  type: file\n  log_file_path: /tmp/x.jsonl\n")
    assert transport_config({"OPENLINEAGE_CONFIG": str(yml), "OPENLINEAGE_URL": "http://m"}) == {
        "type": "file", "log_file_path": "/tmp/x.jsonl"}


def test_nothing_is_sent_and_no_thread_runs_unless_configured(instance, tmp_path, recorder,
                                                              no_openlineage_config):
    pipeline(tmp_path / "work")
    assert observers._observers == []
    assert not [t for t in threading.enumerate() if t.name == "lineage-openlineage"]
    assert recorder.events == []


def test_runs_are_sent_as_they_start_and_finish(instance, tmp_path, recorder,
                                                no_openlineage_config):
    no_openlineage_config.setenv("OPENLINEAGE_URL", recorder.url)
    no_openlineage_config.setenv("OPENLINEAGE_API_KEY", "k3y")
    pipeline(tmp_path / "work", steps=2)
    assert emitter_of_process().flush(30)
    events = recorder.events
    assert {e["path"] for e in events} == {"/api/v1/lineage"}
    assert {e["auth"] for e in events} == {"Bearer k3y"}
    for e in events:
        e.pop("path"), e.pop("auth")
        assert errors(e) == []
    kinds = sorted((e["job"]["name"].rsplit(".", 1)[-1], e["eventType"]) for e in events)
    assert kinds == [("main", "COMPLETE"), ("main", "START"), ("make", "COMPLETE"),
                     ("make", "COMPLETE"), ("make", "START"), ("make", "START")]
    made = [e for e in events if e["eventType"] == "COMPLETE" and e["job"]["name"].endswith("make")]
    assert sorted(e["outputs"][0]["name"] for e in made) == ["parts/part0.csv", "parts/part1.csv"]
    flow = next(e for e in events if e["job"]["name"].endswith("main"))
    assert {e["run"]["facets"]["parent"]["run"]["runId"] for e in made} == {flow["run"]["runId"]}


def test_a_dead_endpoint_is_logged_once_and_the_pipeline_goes_on(instance, tmp_path, caplog,
                                                                 no_openlineage_config):
    emitter = Emitter(HttpTransport(f"http://127.0.0.1:{closed_port()}", timeout=2),
                      backoff=(0.01,))
    observers.add_observer(emitter.observe)
    with caplog.at_level(logging.WARNING, logger="lineage.openlineage"):
        parts = pipeline(tmp_path / "work", steps=3)
        assert emitter.flush(60)
    assert len(parts) == 3 and {r.status for r in ln.Run.filter()} == {"completed"}
    warnings = [r for r in caplog.records if r.name == "lineage.openlineage"]
    assert len(warnings) == 1 and "Connection refused" in warnings[0].getMessage()
    assert emitter.dropped == 8 and emitter.sent == 0


def test_a_slow_endpoint_never_holds_a_step_up(instance, tmp_path, recorder, no_openlineage_config):
    recorder.gate.clear()                                # the endpoint answers nothing for now
    emitter = Emitter(HttpTransport(recorder.url, timeout=60))
    observers.add_observer(emitter.observe)
    parts = pipeline(tmp_path / "work", steps=3)        # returns while the endpoint is stuck
    assert recorder.waiting.is_set() and recorder.events == []
    assert len(parts) == 3 and {r.status for r in ln.Run.filter()} == {"completed"}
    recorder.gate.set()
    assert emitter.flush(60)
    assert len(recorder.events) == 8 and emitter.dropped == 0


def test_a_full_queue_drops_events_with_one_warning(instance, tmp_path, recorder, caplog,
                                                    no_openlineage_config):
    recorder.gate.clear()
    emitter = Emitter(HttpTransport(recorder.url, timeout=60), queue_size=1)
    observers.add_observer(emitter.observe)
    with caplog.at_level(logging.WARNING, logger="lineage.openlineage"):
        pipeline(tmp_path / "work", steps=3)
    assert emitter.dropped >= 5
    assert len([r for r in caplog.records if "queue of 1 events is full" in r.getMessage()]) == 1
    recorder.gate.set()
    assert emitter.flush(60)
    assert 1 <= len(recorder.events) <= 3


def test_ingested_runs_are_not_sent_back(instance, recorder, no_openlineage_config):
    import uuid

    from test_openlineage_ingest import event

    from lineage.openlineage.ingest import ingest_event

    emitter = Emitter(HttpTransport(recorder.url))
    observers.add_observer(emitter.observe)
    run_id = str(uuid.uuid4())
    ingest_event(event("START", run_id))
    ingest_event(event("COMPLETE", run_id, at=2))
    assert emitter.flush(30) and recorder.events == []


SCRIPT = """
import sys
import lineage as ln
ln.init(storage={storage!r})
ln.track(params={{"password": sys.argv[1], "n": 1}})
print("done")
"""


@pytest.mark.parametrize("alive", [True, False])
def test_a_tracked_script_sends_its_finish_at_exit_or_exits_anyway(tmp_path, recorder, alive):
    import os

    script = tmp_path / "job.py"
    script.write_text(SCRIPT.format(storage=str(tmp_path / "inst")))
    url = recorder.url if alive else f"http://127.0.0.1:{closed_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENLINEAGE")}
    env.update(OPENLINEAGE_URL=url, HOME=str(tmp_path))
    done = subprocess.run([sys.executable, str(script), "hunter2"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "done", done.stderr
    if alive:
        assert [e["eventType"] for e in recorder.events] == ["START", "COMPLETE"]
        assert "hunter2" not in json.dumps(recorder.events)
    else:
        assert done.stderr.count("OpenLineage: an event was dropped") == 1


def test_live_emission_into_lineage_serve_of_another_instance(instance, tmp_path,
                                                              no_openlineage_config):
    import os

    other = tmp_path / "other"
    env = {**os.environ, "LINEAGE_INSTANCE": str(other)}
    env = {k: v for k, v in env.items() if not k.startswith("OPENLINEAGE")}
    subprocess.run([sys.executable, "-m", "lineage", "init", "--storage", str(other)], env=env,
                   check=True, capture_output=True, timeout=120)
    proc = subprocess.Popen([sys.executable, "-m", "lineage", "serve", "--port", "0",
                             "--token", "t0k"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        url = line.split(" at ", 1)[1].split("/api/v1/lineage")[0]
        no_openlineage_config.setenv("OPENLINEAGE_URL", url)
        no_openlineage_config.setenv("OPENLINEAGE_API_KEY", "t0k")
        pipeline(tmp_path / "work", steps=2)
        assert emitter_of_process().flush(60) and emitter_of_process().dropped == 0
        here = {r.uid: r for r in ln.Run.filter()}
    finally:
        proc.terminate()
        proc.wait(30)
    from lineage.openlineage.events import run_uuid

    observers.reset()
    observers._loaded = True  # the other instance must not send anything back
    ln.connect(other)
    there = {r.external_id: r for r in ln.Run.filter(external_source="openlineage")}
    assert set(there) == {run_uuid(uid) for uid in here}
    assert {r.status for r in there.values()} == {"completed"}
    outputs = ln.Artifact.filter(kind="reference").all()
    assert sorted(a.object_key for a in outputs) == ["parts/part0.csv", "parts/part1.csv"]
