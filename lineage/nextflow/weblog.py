"""``lineage nextflow weblog``: an HTTP receiver of Nextflow's ``-with-weblog`` events.

Nextflow (nf-weblog) POSTs one JSON object per event::

    {"runName": "friendly_pesquet", "runId": "<session uuid>", "event": "process_completed",
     "utcTime": "2018-10-07T11:45:30Z", "trace": {...}}            # or "metadata": {...}

``started`` and ``completed`` carry ``metadata`` (``parameters`` or
``params``, and ``workflow``: command line, repository, commit, revision,
session id, Nextflow version, ...); ``process_submitted``,
``process_started``, ``process_completed`` and ``error`` carry a task's
``trace`` (``error``'s may be null). `Receiver.handle` checks a payload
completely before it writes anything, so a bad payload is refused (4xx,
its reason in the answer) and changes nothing, and records it through
`lineage.nextflow.record`. State lives in the database only: events twice,
out of order or to a restarted receiver land on the same runs.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from lineage.nextflow import fields

if TYPE_CHECKING:
    from lineage.models.run import Run
    from lineage.nextflow.record import Workflow

logger = logging.getLogger("lineage.nextflow")

#: Events of the weblog, and the task status each implies when its trace has none.
TASK_EVENTS = {"process_submitted": "scheduled", "process_started": "started",
               "process_completed": "completed", "error": "errored"}
WORKFLOW_EVENTS = ("started", "completed")
EVENTS = (*WORKFLOW_EVENTS, *TASK_EVENTS)
#: Largest body accepted (a task's script and environment can be long).
MAX_BODY = 32 * 1024 * 1024
#: What `serve` prints once it listens (``{url}`` is where to point ``-with-weblog``).
READY = "lineage nextflow weblog: listening at {url} (nextflow run ... -with-weblog {url})"


class PayloadError(ValueError):
    """A weblog payload that cannot be recorded; the message says why and what to send.

    Attributes:
        status: The HTTP status of the answer (400, or 422 for an unknown event).
    """

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Event:
    """A checked weblog payload, ready to be recorded."""

    name: str
    run_name: str
    run_id: str
    when: datetime | None
    workflow: Workflow | None = None
    trace: dict[str, Any] | None = None
    success: bool | None = None
    error: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


def _text(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value.strip():
        raise PayloadError(f"the payload needs {name!r} as a non-empty string, got {value!r}.")
    return value


def _object(payload: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    value = payload.get(name)
    if value is not None and not isinstance(value, dict):
        raise PayloadError(f"{name!r} must be a JSON object, got {type(value).__name__}.")
    return value


def _time(value: Any, what: str) -> datetime | None:
    try:
        return fields.timestamp(value)
    except (TypeError, ValueError):
        raise PayloadError(f"{what} is not a time: {value!r} (ISO 8601 or epoch milliseconds)."
                           ) from None


def _lenient_time(value: Any) -> datetime | None:
    """A workflow time, or None when Nextflow wrote it in a shape not known here (the
    event's ``utcTime`` stands in): a run is never refused for its metadata's shape."""
    try:
        return fields.timestamp(value)
    except (TypeError, ValueError):
        return None


def parse(payload: Any) -> Event:
    """Check a decoded payload and read what will be recorded.

    Raises:
        PayloadError: It is not an object, lacks ``event``, ``runName`` or
            ``runId``, names an unknown event, or holds a value of the wrong kind.
    """
    if not isinstance(payload, dict):
        raise PayloadError(f"the payload must be a JSON object, got {type(payload).__name__}.")
    name = _text(payload, "event")
    if name not in EVENTS:
        raise PayloadError(f"unknown event {name!r}: expected one of {', '.join(EVENTS)}.", 422)
    event = Event(name, _text(payload, "runName"), _text(payload, "runId"),
                  _time(payload.get("utcTime"), "'utcTime'"))
    if name in WORKFLOW_EVENTS:
        metadata = _object(payload, "metadata") or {}
        _workflow_of(event, metadata)
        return event
    trace = _object(payload, "trace")
    if trace is None and name != "error":
        raise PayloadError(f"a {name!r} event needs its task's 'trace' object.")
    if trace is not None:
        try:
            event.trace = fields.normalize(trace)
            fields.check_named(event.trace)
        except ValueError as exc:
            raise PayloadError(str(exc)) from None
    return event


def _workflow_of(event: Event, metadata: dict[str, Any]) -> None:
    """Fill `event` from a ``started``/``completed`` payload's metadata."""
    from lineage.nextflow.record import Workflow

    info = metadata.get("workflow") or {}
    if not isinstance(info, dict):
        raise PayloadError("'metadata.workflow' must be a JSON object.")
    params = metadata.get("parameters", metadata.get("params"))
    if params is not None and not isinstance(params, dict):
        raise PayloadError("'metadata.parameters' must be a JSON object of the pipeline's params.")

    def get(key: str) -> Any:  # the README's examples put some keys beside 'workflow'
        return info.get(key, metadata.get(key))

    manifest = get("manifest") if isinstance(get("manifest"), dict) else {}
    nextflow = get("nextflow") if isinstance(get("nextflow"), dict) else {}
    details = {
        "nextflow_version": nextflow.get("version"), "nextflow_build": nextflow.get("build"),
        "profile": get("profile"), "work_dir": get("workDir"), "launch_dir": get("launchDir"),
        "project_dir": get("projectDir"), "container": get("container"),
        "container_engine": get("containerEngine"), "config_files": get("configFiles"),
        "script_id": get("scriptId"), "user_name": get("userName"), "resume": get("resume"),
        "manifest": manifest or None, "exit_status": get("exitStatus"),
        "duration_ms": get("duration"), "stats": get("stats"), "run_id": event.run_id,
    }
    session = get("sessionId") or event.run_id
    event.workflow = Workflow(
        run_name=event.run_name, session_id=str(session), script_file=get("scriptFile"),
        script_name=get("scriptName"), pipeline=manifest.get("name") if manifest else None,
        repository=get("repository"), commit_id=get("commitId"), revision=get("revision"),
        command_line=get("commandLine"), params=params,
        details={k: v for k, v in details.items() if v is not None})
    event.started_at = _lenient_time(get("start"))
    event.finished_at = _lenient_time(get("complete"))
    success = get("success")
    event.success = success if isinstance(success, bool) else None
    message = "\n\n".join(str(v) for v in (get("errorMessage"), get("errorReport")) if v)
    event.error = message or None


class Receiver:
    """Records weblog events; one event at a time, the state in the database only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parents: dict[str, Run] = {}
        self.received = 0

    def handle(self, payload: Any) -> dict[str, Any]:
        """Record one decoded payload; the answer names the runs it touched.

        Raises:
            PayloadError: The payload is refused (nothing was written).
        """
        event = parse(payload)
        with self._lock:
            answer = self._record(event)
            self.received += 1
        return answer

    def _record(self, event: Event) -> dict[str, Any]:
        from lineage.nextflow import record

        if event.workflow is not None:
            final = event.name == "completed"
            status = ("completed" if event.success or event.success is None and not event.error
                      else "errored") if final else "started"
            run = record.workflow_run(
                event.workflow, status=status, started_at=event.started_at or event.when,
                finished_at=(event.finished_at or event.when) if final else None,
                error=(event.error or "The Nextflow workflow failed.")
                if status == "errored" else None)
            self._parents[run.external_id] = run
            closed = record.close_open_tasks(run, event.finished_at or event.when) if final else []
            logger.info("%s %s: run %s (%s)%s", event.run_name, event.name, run.uid, run.status,
                        f", {len(closed)} task(s) left open closed as aborted" if closed else "")
            return {"event": event.name, "run": run.uid}
        parent = self._parent(event)
        if event.trace is None:  # an `error` event without a task
            return {"event": event.name, "run": parent.uid}
        task = record.task_run(parent, event.trace, default_status=TASK_EVENTS[event.name],
                               when=event.when)
        return {"event": event.name, "run": parent.uid, "task": task.uid}

    def _parent(self, event: Event) -> Run:
        """The workflow run of a task event (created bare when its own event is not in yet)."""
        from lineage import lifecycle
        from lineage.nextflow import record

        external_id = record.Workflow(event.run_name, event.run_id).external_id
        run = self._parents.get(external_id) or lifecycle.find_engine_run(
            record.SOURCE, external_id, 1)
        if run is None:
            run = record.workflow_run(record.Workflow(event.run_name, event.run_id),
                                      started_at=event.when)
        self._parents[external_id] = run
        return run


def _decoded(body: bytes) -> str:
    """The body as text: UTF-8, else Latin-1 (Nextflow's client writes each character's low
    byte, so a non-ASCII character that its JSON writer did not escape arrives that way)."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("latin-1")


class _Handler(BaseHTTPRequestHandler):
    server: WeblogServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms delayed ACK

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if not self._authorized():
            return
        self._answer(200, {"service": "lineage nextflow weblog",
                           "received": self.server.receiver.received})

    def do_POST(self) -> None:  # noqa: N802
        if not self._authorized():
            return
        body = self._body()
        if body is None:
            return
        try:
            payload = json.loads(_decoded(body))
        except ValueError as exc:
            self._answer(400, {"error": f"the body is not JSON ({exc}); Nextflow's weblog "
                                        "sends one JSON object per event."})
            return
        try:
            answer = self.server.receiver.handle(payload)
        except PayloadError as exc:
            self._answer(exc.status, {"error": str(exc)})
            return
        except Exception as exc:  # noqa: BLE001 - the receiver keeps serving
            logger.warning("could not record a Nextflow %r event: %s: %s",
                           payload.get("event"), type(exc).__name__, exc, exc_info=exc)
            self._answer(503, {"error": f"could not record the event: {type(exc).__name__}: "
                                        f"{exc}"})
            return
        self._answer(200, answer)

    def _body(self) -> bytes | None:
        """The request body (Content-Length or chunked), or None once refused."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, size = [], 0
            while True:
                line = self.rfile.readline(1024).split(b";", 1)[0].strip()
                try:
                    length = int(line, 16)
                except ValueError:
                    self.close_connection = True
                    self._answer(400, {"error": "a malformed chunked body."})
                    return None
                if length == 0:
                    while self.rfile.readline(1024).strip():  # trailers
                        pass
                    return b"".join(chunks)
                size += length
                if size > MAX_BODY:
                    return self._too_large()
                chunks.append(self.rfile.read(length))
                self.rfile.readline(1024)  # the CRLF after each chunk
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.close_connection = True
            self._answer(411, {"error": "send the body with a Content-Length header (or "
                                        "chunked)."})
            return None
        if int(length) > MAX_BODY:
            return self._too_large()
        return self.rfile.read(int(length))

    def _too_large(self) -> None:
        self.close_connection = True
        self._answer(413, {"error": f"the body is over {MAX_BODY} bytes."})
        return None

    def _authorized(self) -> bool:
        token = self.server.token
        if token is None:
            return True
        expected = "Basic " + base64.b64encode(token.encode()).decode()
        given = self.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), expected.encode()):
            return True
        self._answer(401, {"error": "missing or wrong credentials: set weblog.basicToken "
                                    "in nextflow.config to the receiver's --token."})
        return False

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        logger.debug("%s %s", self.address_string(), format % args)


class WeblogServer(ThreadingHTTPServer):
    """A `ThreadingHTTPServer` with its `Receiver` and optional token."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], token: str | None = None,
                 receiver: Receiver | None = None) -> None:
        super().__init__(address, _Handler)
        self.token = token
        self.receiver = receiver or Receiver()

    @property
    def url(self) -> str:
        """``http://host:port``."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen beyond this machine without a token.

    Raises:
        ValidationError: `host` is not a loopback address and `token` is None.
    """
    from lineage.errors import ValidationError
    from lineage.ui.security import is_loopback

    if not is_loopback(host) and token is None:
        raise ValidationError(
            f"listening on {host} lets other machines write runs: pass --token USER:PASSWORD "
            "(and set weblog.basicToken to the same in nextflow.config), or use 127.0.0.1.")


def serve(host: str = "127.0.0.1", port: int = 0, token: str | None = None) -> None:
    """Listen until interrupted, printing `READY` once the socket is bound."""
    check_bind(host, token)
    server = WeblogServer((host, port), token)
    if not logger.handlers:  # one line per workflow start and end, on stderr
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("lineage nextflow weblog: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    print(READY.format(url=server.url), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        print("lineage nextflow weblog: stopped", file=sys.stderr, flush=True)
