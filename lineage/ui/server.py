"""Run the UI with uvicorn on a socket we bind ourselves (so port 0 works and is printed)."""

from __future__ import annotations

import gc
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
    from lineage.ui import dot_plugins
    from lineage.ui.app import create_app

    check_bind(host, token)
    instance = current_instance()
    app = create_app(token=token)
    preload()
    warm_landing_page()
    dot_plugins.environment()  # the small Graphviz plugin folder, made once before any drawing
    # What startup made lives as long as the server: keep it out of the
    # collector's full passes (one took 61 ms inside a graph request).
    gc.freeze()
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
    """Do before serving what the first request of each page would otherwise pay for.

    Imports networkx and the graph code (~0.1 s), compiles the page templates
    (10-65 ms each) and loads Pygments' Python lexer (~0.15 s on the first
    transform page).
    """
    import importlib

    for name in ("networkx", "graphviz", "lineage.graph.build", "lineage.graph.collapse",
                 "lineage.graph.render", "lineage.graph.dot", "lineage.ui.graph_view",
                 "lineage.ui.drawings", "lineage.ui.read.runs_table", "lineage.ui.read.records",
                 "lineage.ui.read.summary", "lineage.ui.read.stamp", "lineage.models",
                 "lineage.artifact", "lineage.graph.query", "lineage.graph.describe"):
        importlib.import_module(name)
    from lineage.ui import pages, source

    pages.compile_templates()
    source.highlight("import os\n", "warm_up.py")
    source.stylesheet()


def warm_landing_page() -> None:
    """Read what ``/runs`` (where ``/`` leads) shows first, so the first visit finds it kept.

    The filter choices and the newest runs are kept until the store changes
    (`lineage.ui.read.kept`); on a 100,000-run store reading them cold takes
    about 50 ms. A failure here is left for that first request to report.
    """
    from lineage.ui.read.runs_table import RunQuery, runs_page
    from lineage.ui.read.summary import facets

    try:
        facets()
        runs_page(RunQuery())  # the defaults of /runs
    except Exception:  # noqa: BLE001 - the page itself will show the error
        pass


def run_in_thread(host: str = "127.0.0.1", port: int = 0, token: str | None = None) -> Any:
    """Start the UI in a background thread (for notebooks and tests); returns a handle.

    The handle has ``url`` and ``stop()``.
    """
    import threading
    import time

    import uvicorn

    from lineage.ui import dot_plugins
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
