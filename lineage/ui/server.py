"""Run the UI with uvicorn on a socket we bind ourselves (so port 0 works and is printed)."""

from __future__ import annotations

import socket
import sys
from typing import Any

from lineage.errors import LineageError
from lineage.ui.security import check_bind

#: What `serve` prints once the socket listens (tests read it).
READY = "lineage ui: serving {instance} at {url} (read-only{token}; Ctrl-C stops)"


def missing_dependencies() -> list[str]:
    """Distributions of the ``ui`` extra that are not installed."""
    import importlib.util

    wanted = {"fastapi": "fastapi", "uvicorn": "uvicorn", "jinja2": "jinja2",
              "pygments": "pygments"}
    return [dist for module, dist in wanted.items() if importlib.util.find_spec(module) is None]


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host`:`port` (IPv4 or IPv6).

    Raises:
        LineageError: The address is taken or cannot be bound, with the fix.
    """
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise LineageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}. Choose "
                           "another port with --port (0 picks a free one).") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(host: str = "127.0.0.1", port: int = 8000, token: str | None = None,
          log_level: str = "warning") -> None:
    """Serve the current instance until interrupted.

    Raises:
        ValidationError: A non-loopback `host` without a token.
    """
    import uvicorn

    from lineage.instance import current_instance
    from lineage.ui.app import create_app

    check_bind(host, token)
    instance = current_instance()
    app = create_app(token=token)
    preload()
    sock = bind(host, port)
    actual = sock.getsockname()[1]
    shown_host = f"[{host.strip('[]')}]" if ":" in host.strip("[]") else host
    url = f"http://{shown_host}:{actual}/"
    print(READY.format(instance=instance.slug, url=url,
                       token=", token required" if token else ""), flush=True)
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="off",
                            server_header=False)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        print("lineage ui: stopped", file=sys.stderr, flush=True)


def preload() -> None:
    """Import what the pages import on first use (networkx and the graph code: ~0.1 s),
    so the first request of a page does not pay for it."""
    import importlib

    for name in ("networkx", "graphviz", "lineage.graph.build", "lineage.graph.collapse",
                 "lineage.graph.render", "lineage.graph.dot", "lineage.ui.graph_view",
                 "lineage.ui.drawings", "lineage.ui.read.runs_table", "lineage.ui.read.records",
                 "lineage.ui.read.summary"):
        importlib.import_module(name)


def run_in_thread(host: str = "127.0.0.1", port: int = 0, token: str | None = None) -> Any:
    """Start the UI in a background thread (for notebooks and tests); returns a handle.

    The handle has ``url`` and ``stop()``.
    """
    import threading
    import time

    import uvicorn

    from lineage.ui.app import create_app

    check_bind(host, token)
    sock = bind(host, port)
    server = uvicorn.Server(uvicorn.Config(create_app(token=token), log_level="warning",
                                           access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    return _Running(server, thread, sock, f"http://{host}:{sock.getsockname()[1]}/")


class _Running:
    """A UI server running in a thread."""

    def __init__(self, server: Any, thread: Any, sock: socket.socket, url: str) -> None:
        self.server, self.thread, self.sock, self.url = server, thread, sock, url

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()
