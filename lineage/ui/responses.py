"""Errors as answers: 404 for unknown records, 400 for bad input, one line of text.

API paths answer ``{"error": "..."}``; pages answer an HTML page with the
same message.
"""

from __future__ import annotations

from typing import Any

from lineage.errors import (DoesNotExist, InstanceNotFound, LineageError,
                            MultipleResultsFound, ValidationError)


def status_of(exc: Exception) -> int:
    """The HTTP status for an error raised while answering."""
    if isinstance(exc, (DoesNotExist, InstanceNotFound, FileNotFoundError)):
        return 404
    if isinstance(exc, (ValidationError, MultipleResultsFound)):
        return 400
    return 500


def install_handlers(app: Any) -> None:
    """Answer lineage errors (and missing files) with their message."""
    from fastapi.responses import HTMLResponse, JSONResponse

    async def handle(request: Any, exc: Exception) -> Any:
        status = status_of(exc)
        message = str(exc) if isinstance(exc, LineageError) else f"{type(exc).__name__}: {exc}"
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message}, status_code=status)
        from lineage.ui.pages import render

        return HTMLResponse(render("error.html", request=request, api_url=None,
                                   title=f"Error {status}", status=status,
                                   message=message), status_code=status)

    app.add_exception_handler(LineageError, handle)
    app.add_exception_handler(FileNotFoundError, handle)
