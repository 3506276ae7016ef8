"""Who may talk to the UI: loopback by default, a token for anything else.

* `check_bind`: a host other than loopback is refused unless a token is set.
* `Guard`: ASGI middleware. Only GET and HEAD pass (the UI is read-only).
  With a token, every request must carry it: ``Authorization: Bearer
  <token>``, the ``lineage_ui_token`` cookie, or once ``?token=<token>``
  (which sets the cookie and redirects to the same URL without it). Without
  a token (loopback only), the ``Host`` header must name a loopback address,
  so a web page elsewhere cannot reach the UI through DNS rebinding.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

from lineage.errors import ValidationError

COOKIE = "lineage_ui_token"
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address) means this machine only."""
    name = host.strip("[]").lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to serve on a non-loopback `host` without a token.

    Raises:
        ValidationError: `host` is reachable from other machines and no token is set.
    """
    if is_loopback(host) or token:
        return
    raise ValidationError(
        f"refusing to serve on {host}: it is reachable from other machines and the UI has no "
        "login. Keep the default --host 127.0.0.1 (and use an SSH tunnel), or set a token: "
        "--token SECRET or LINEAGE_UI_TOKEN=SECRET (every request must then carry it)."
    )


class Guard:
    """ASGI middleware enforcing read-only methods, the token and loopback Host headers."""

    def __init__(self, app: Any, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if scope["method"] not in ("GET", "HEAD"):
            await _refuse(send, 405, "the lineage UI is read-only: only GET and HEAD requests.",
                          [(b"allow", b"GET, HEAD")])
            return
        if self.token is None:
            host = headers.get("host", "")
            if not is_loopback(_host_name(host)):
                await _refuse(send, 403, f"Host {host!r} is not a loopback address; open the "
                              "UI at http://127.0.0.1:<port>/.")
                return
        else:
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            if self._matches(query.get("token")):
                await _redirect_with_cookie(send, scope, query, self.token)
                return
            if not (self._matches(_bearer(headers)) or self._matches(_cookie(headers))):
                await _refuse(send, 401, "this lineage UI needs its token: open "
                              "/?token=<token> once, or send 'Authorization: Bearer <token>'.")
                return
        await self.app(scope, receive, send)

    def _matches(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())


def _host_name(host: str) -> str:
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _bearer(headers: dict[str, str]) -> str | None:
    value = headers.get("authorization", "")
    return value[7:].strip() if value.lower().startswith("bearer ") else None


def _cookie(headers: dict[str, str]) -> str | None:
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:  # noqa: BLE001 - a malformed cookie header is no token
        return None
    morsel = cookie.get(COOKIE)
    return None if morsel is None else morsel.value


async def _refuse(send: Any, status: int, message: str,
                  extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        *(extra or [])]})
    await send({"type": "http.response.body", "body": body})


async def _redirect_with_cookie(send: Any, scope: dict[str, Any], query: dict[str, str],
                                token: str) -> None:
    query.pop("token", None)
    location = scope.get("root_path", "") + scope["path"] + (f"?{urlencode(query)}" if query else "")
    cookie = f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
    await send({"type": "http.response.start", "status": 303, "headers": [
        (b"location", location.encode("latin-1")), (b"set-cookie", cookie.encode("latin-1")),
        (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})
