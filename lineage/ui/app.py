"""The ASGI application: JSON API under ``/api/``, HTML pages, static files.

`create_app` builds it for the current instance (`lineage.instance`).
Every response carries a ``Server-Timing: app;dur=<ms>`` header: the time
spent in the server, which the benchmark reads.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

STATIC = Path(__file__).parent / "static"


def create_app(token: str | None = None) -> Any:
    """The FastAPI application serving the current instance, read-only.

    Args:
        token: If set, every request must carry it (see `lineage.ui.security`).
    """
    from fastapi import FastAPI
    from fastapi.staticfiles import StaticFiles

    from lineage import __version__
    from lineage.ui import api, pages
    from lineage.ui.responses import install_handlers
    from lineage.ui.security import Guard

    app = FastAPI(
        title="lineage UI API", version=__version__,
        description=("Read-only JSON API of a lineage instance: runs, transforms, artifacts, "
                     "projects, comparisons and lineage graphs. Every page of the UI is "
                     "drawn from one of these calls."),
        openapi_url="/api/openapi.json", docs_url=None, redoc_url=None,
    )
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    install_handlers(app)
    app.add_middleware(Guard, token=token)
    app.add_middleware(ServerTiming)
    return app


class ServerTiming:
    """ASGI middleware adding ``Server-Timing: app;dur=<ms>`` to every response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def timed_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                ms = (time.perf_counter() - start) * 1000
                message = dict(message, headers=[*message.get("headers", []),
                                                 (b"server-timing", f"app;dur={ms:.2f}".encode())])
            await send(message)

        await self.app(scope, receive, timed_send)
