"""``POST /api/v1/lineage``: an OpenLineage endpoint, as Marquez has, that records events.

A small threaded HTTP server from the standard library (no extra needed).
Each request body is one run event, or a JSON list of them; it answers

* 201 ``{"recorded": n, "runs": [uid, ...]}`` when every event was recorded,
* 400 ``{"error": ...}`` for a body that is not JSON or not run events
  (nothing of that body is recorded),
* 401 without the right ``Authorization: Bearer <token>`` when a token is set,
* 413 for a body over `MAX_BODY` bytes, 404 elsewhere,
* 503 when the instance's database cannot be reached (clients retry).

``GET /api/v1/health`` answers 200 ``{"status": "ok"}``.
"""

from __future__ import annotations

import hmac
import json
import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lineage.errors import LineageError, ValidationError

logger = logging.getLogger("lineage.openlineage.server")

#: Where events are posted (the OpenLineage HTTP transport's default endpoint).
ENDPOINT = "/api/v1/lineage"
#: Largest request body accepted, in bytes.
MAX_BODY = 16 * 1024 * 1024


class IngestServer(ThreadingHTTPServer):
    """The HTTP server; `token`, if set, is required on every POST."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], token: str | None = None) -> None:
        super().__init__(address, _Handler)
        self.token = token

    @property
    def url(self) -> str:
        """Base URL clients point ``OPENLINEAGE_URL`` at."""
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}:{port}"


def make_server(host: str = "127.0.0.1", port: int = 5000,
                token: str | None = None) -> IngestServer:
    """An `IngestServer` bound to `host`:`port` (0 picks a free port); call ``serve_forever()``."""
    return IngestServer((host, port), token)


class _Handler(BaseHTTPRequestHandler):
    server: IngestServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path.rstrip("/") == "/api/v1/health":
            self._answer(200, {"status": "ok"})
        else:
            self._answer(404, {"error": f"no such page {self.path}; POST events to {ENDPOINT}"})

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        if self.path.split("?")[0].rstrip("/") != ENDPOINT:
            self._drain()
            self._answer(404, {"error": f"POST events to {ENDPOINT}, not {self.path}"})
            return
        if not self._authorized():
            self._drain()
            self._answer(401, {"error": "missing or wrong token: send Authorization: Bearer "
                                        "<token> (OPENLINEAGE_API_KEY for OpenLineage clients)"})
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            self._answer(413, {"error": f"the body must be 0 to {MAX_BODY} bytes"})
            return
        body = self.rfile.read(length)
        try:
            events = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            self._answer(400, {"error": f"the body is not JSON: {exc}"})
            return
        self._record(events if isinstance(events, list) else [events])

    def _record(self, events: list[Any]) -> None:
        from lineage.openlineage.ingest import check, ingest_event

        try:
            for index, event in enumerate(events):
                try:
                    check(event)
                except ValidationError as exc:
                    where = f"event {index}: " if len(events) > 1 else ""
                    raise ValidationError(f"{where}{exc}") from None
            runs = [ingest_event(event).run_uid for event in events]
        except ValidationError as exc:
            self._answer(400, {"error": str(exc)})
            return
        except LineageError as exc:
            logger.warning("could not record OpenLineage events: %s", exc)
            self._answer(503, {"error": str(exc)})
            return
        except Exception as exc:  # noqa: BLE001 - the server goes on; the client may retry
            logger.exception("recording OpenLineage events failed")
            self._answer(500, {"error": f"{type(exc).__name__}: {exc}"})
            return
        self._answer(201, {"recorded": len(runs), "runs": runs})

    def _authorized(self) -> bool:
        token = self.server.token
        if not token:
            return True
        given = self.headers.get("Authorization") or ""
        scheme, _, value = given.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(),
                                                                  token.encode())

    def _drain(self) -> None:
        try:
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
        except ValueError:
            self.close_connection = True
            return
        self.rfile.read(length)

    def _answer(self, code: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        logger.debug("%s " + format, self.address_string(), *args)
