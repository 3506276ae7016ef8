"""Live emission: OpenLineage events sent as runs start and finish, when configured.

Off unless configured the way the OpenLineage Python client is (nothing is
sent, no thread started, otherwise):

1. ``OPENLINEAGE_DISABLED=true`` turns it off whatever else is set;
2. an ``openlineage.yml`` (``OPENLINEAGE_CONFIG``, else ``./openlineage.yml``,
   else ``~/.openlineage/openlineage.yml``) with a ``transport`` of type
   ``http`` (``url``, ``endpoint``, ``timeout``, ``auth: {type: api_key,
   apiKey: ...}``), ``file`` (``log_file_path``) or ``console``;
3. else ``OPENLINEAGE_URL`` (with ``OPENLINEAGE_ENDPOINT``, default
   ``api/v1/lineage``, and ``OPENLINEAGE_API_KEY``, sent as a bearer token).

The lifecycle only puts ``(kind, run id)`` on a bounded queue (no wait: a
full queue drops the event); one background thread reads the run, builds
its event (`lineage.openlineage.events`) and sends it, retrying
`RETRIES` times. An endpoint that is down or slow never blocks or breaks
the pipeline: events that cannot be sent are dropped, with one warning per
process, and for `PAUSE_SECONDS` after such a failure events are dropped
without trying (a dead endpoint costs no retries per step). At exit, the queue gets `FLUSH_SECONDS` to drain. Runs that came in
as OpenLineage events (`lineage.openlineage.ingest`) are not sent back.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import queue
import sys
import threading
import time
from pathlib import Path
from typing import Any

logger = logging.getLogger("lineage.openlineage")

#: Events waiting to be sent at most; more are dropped.
QUEUE_SIZE = 10_000
#: Attempts per event beyond the first, with `BACKOFF` seconds before each.
RETRIES = 2
BACKOFF = (0.2, 1.0)
#: Seconds the exit waits for queued events.
FLUSH_SECONDS = 5.0
#: HTTP timeout when the configuration gives none.
TIMEOUT = 5.0
#: After an event is given up, later events are dropped unsent for this long.
PAUSE_SECONDS = 10.0


# --- configuration -------------------------------------------------------------------
def transport_config(environ: dict[str, str] | None = None) -> dict[str, Any] | None:
    """The transport configured as for the OpenLineage Python client, or None (off)."""
    env = os.environ if environ is None else environ
    if env.get("OPENLINEAGE_DISABLED", "").strip().lower() == "true":
        return None
    config = _yaml_config(env)
    if config is not None:
        transport = config.get("transport")
        return transport if isinstance(transport, dict) and transport.get("type") else None
    url = env.get("OPENLINEAGE_URL")
    if not url:
        return None
    transport: dict[str, Any] = {"type": "http", "url": url,
                                 "endpoint": env.get("OPENLINEAGE_ENDPOINT", "api/v1/lineage")}
    if env.get("OPENLINEAGE_API_KEY"):
        transport["auth"] = {"type": "api_key", "apiKey": env["OPENLINEAGE_API_KEY"]}
    return transport


def _yaml_config(env: Any) -> dict[str, Any] | None:
    candidates = [env.get("OPENLINEAGE_CONFIG"), os.path.join(os.getcwd(), "openlineage.yml"),
                  os.path.join(os.path.expanduser("~/.openlineage"), "openlineage.yml")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate):
            text = Path(candidate).read_text(encoding="utf-8")
            try:
                import yaml

                loaded = yaml.safe_load(text)
            except ImportError:  # YAML is a superset of JSON: a JSON file still works
                try:
                    loaded = json.loads(text)
                except ValueError:
                    logger.warning("%s needs PyYAML (pip install pyyaml); OpenLineage events "
                                   "are not sent", candidate)
                    return {}
            return loaded if isinstance(loaded, dict) else {}
    return None


def configured_observers() -> list[Any]:
    """``[emitter.observe]`` when a transport is configured, else ``[]``."""
    config = transport_config()
    if config is None:
        return []
    return [Emitter(make_transport(config)).observe]


# --- transports ------------------------------------------------------------------------
class HttpTransport:
    """POST each event as JSON to ``<url>/<endpoint>``."""

    def __init__(self, url: str, endpoint: str = "api/v1/lineage", timeout: float = TIMEOUT,
                 api_key: str | None = None) -> None:
        self.target = url.rstrip("/") + "/" + endpoint.lstrip("/") if endpoint else url
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"

    def __repr__(self) -> str:
        from lineage.capture.redact import redact_url

        return f"http transport to {redact_url(self.target)}"

    def send(self, event: dict[str, Any]) -> None:
        """Send one event; raises on a failure or an answer other than 2xx."""
        import urllib.request

        request = urllib.request.Request(self.target, data=json.dumps(event).encode(),
                                         headers=self.headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            response.read()


class FileTransport:
    """Append each event as one JSON line to a file."""

    def __init__(self, path: str) -> None:
        self.path = Path(path).expanduser()

    def __repr__(self) -> str:
        return f"file transport to {self.path}"

    def send(self, event: dict[str, Any]) -> None:
        """Append one event."""
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(event) + "\n")


class ConsoleTransport:
    """Write each event as one JSON line to standard error."""

    def __repr__(self) -> str:
        return "console transport"

    def send(self, event: dict[str, Any]) -> None:
        """Print one event."""
        sys.stderr.write(json.dumps(event) + "\n")


def make_transport(config: dict[str, Any]) -> Any:
    """The transport a configuration describes.

    Raises:
        ValidationError: An unknown type or a missing URL or path.
    """
    from lineage.errors import ValidationError

    kind = str(config.get("type", "")).lower()
    if kind == "http":
        if not config.get("url"):
            raise ValidationError("the OpenLineage http transport needs a url "
                                  "(OPENLINEAGE_URL or transport.url in openlineage.yml).")
        auth = config.get("auth") or {}
        key = auth.get("apiKey") or auth.get("api_key") or auth.get("apikey")
        return HttpTransport(config["url"], config.get("endpoint", "api/v1/lineage"),
                             float(config.get("timeout", TIMEOUT)), key)
    if kind == "file":
        path = config.get("log_file_path") or config.get("logFilePath")
        if not path:
            raise ValidationError("the OpenLineage file transport needs log_file_path.")
        return FileTransport(path)
    if kind == "console":
        return ConsoleTransport()
    raise ValidationError(f"OpenLineage transport type {kind!r} is not supported by lineage; "
                          "use http, file or console.")


# --- the emitter -----------------------------------------------------------------------
class Emitter:
    """Sends the events of runs from a background thread (see the module docstring).

    Attributes:
        transport: Where events go (``send(event)``).
        sent: Events sent so far; dropped: events given up.
    """

    def __init__(self, transport: Any, *, queue_size: int = QUEUE_SIZE,
                 retries: int = RETRIES, backoff: tuple[float, ...] = BACKOFF,
                 flush_seconds: float = FLUSH_SECONDS, pause_seconds: float = PAUSE_SECONDS) -> None:
        self.transport = transport
        self.pause_seconds = pause_seconds
        self._paused_until = 0.0
        self.retries = retries
        self.backoff = backoff
        self.flush_seconds = flush_seconds
        self.sent = 0
        self.dropped = 0
        self._queue_size = queue_size
        self._queue: queue.Queue[Any] = queue.Queue(queue_size)
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._warned = False
        self._exiting = False
        self._lock = threading.Lock()
        self._batches: dict[int, Any] = {}

    def observe(self, kind: str, run: Any) -> None:
        """The lifecycle observer: queue the event of `run` (never waits, never raises)."""
        from lineage.openlineage.events import OPENLINEAGE_SOURCE

        if run.external_source == OPENLINEAGE_SOURCE or run.id is None:
            return
        from lineage.instance import current_instance

        db = getattr(run, "_db", None) or current_instance().db
        item = (kind, run.id, db)
        if self._exiting:  # after the flush at exit: send now, within the timeout
            self._handle(item)
            return
        self._ensure_thread()
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self._give_up(f"the queue of {self._queue_size} events is full")

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until the queued events are sent or dropped; False on timeout."""
        deadline = time.monotonic() + (self.flush_seconds if timeout is None else timeout)
        while self._queue.unfinished_tasks:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self) -> None:
        """Flush (at most `flush_seconds`), then send later events directly (exit)."""
        self.flush()
        self._exiting = True

    # --- the worker -----------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is not None and self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's thread is not here
                self._queue = queue.Queue(self._queue_size)
                self._pid = os.getpid()
                self._thread = None
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="lineage-openlineage",
                                                daemon=True)
                self._thread.start()
                atexit.register(self.close)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                self._handle(item)
            finally:
                self._queue.task_done()

    def _handle(self, item: tuple[str, int, Any]) -> None:
        if time.monotonic() < self._paused_until:  # the endpoint just failed: do not knock
            self.dropped += 1
            return
        try:
            event = self._event(*item)
        except Exception as exc:  # noqa: BLE001 - the pipeline goes on
            self._give_up(f"its event could not be built ({type(exc).__name__}: {exc})")
            return
        if event is None:
            return
        for attempt in range(self.retries + 1):
            try:
                self.transport.send(event)
            except Exception as exc:  # noqa: BLE001 - retried, then dropped
                if attempt == self.retries or self._exiting:
                    self._paused_until = time.monotonic() + self.pause_seconds
                    self._give_up(f"{self.transport!r} failed: {type(exc).__name__}: {exc}")
                    return
                time.sleep(self.backoff[min(attempt, len(self.backoff) - 1)])
            else:
                self.sent += 1
                return

    def _event(self, kind: str, run_id: int, db: Any) -> dict[str, Any] | None:
        from lineage.models.run import Run
        from lineage.openlineage.events import run_events
        from lineage.openlineage.export import Batch, default_namespace

        rows = db.query(f"{Run.select_sql()} WHERE id = ?", [run_id])
        if not rows:
            return None
        run = Run.from_row(rows[0], db.dialect)
        batch = self._batches.get(id(db))
        if batch is None:
            batch = self._batches[id(db)] = Batch(_Instance(db), default_namespace())
        batch.load([run])
        events = run_events(run, batch)
        if kind == "start":
            return events[0] if events else None
        return events[-1] if len(events) > 1 else None

    def _give_up(self, why: str) -> None:
        self.dropped += 1
        if not self._warned:
            self._warned = True
            logger.warning("OpenLineage: an event was dropped because %s; the pipeline goes on "
                           "and further failures are not logged (sent %d so far)",
                           why, self.sent)


class _Instance:
    """What `Batch` needs of an instance: its database."""

    def __init__(self, db: Any) -> None:
        self.db = db
