"""HTML pages: each is drawn from one API call (`lineage.ui.api`), linked as JSON.

Templates live in ``lineage/ui/templates`` (Jinja2, autoescaped); the few
scripts in ``lineage/ui/static`` are ours and load nothing from elsewhere.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from lineage.ui import api

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2

    from lineage.ui import formatting

    env = jinja2.Environment(loader=jinja2.PackageLoader("lineage.ui", "templates"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(formatting.FILTERS)
    env.globals.update(formatting.GLOBALS)
    return env


def compile_templates() -> int:
    """Compile every page template now (Jinja compiles each on first use: 10-65 ms a page).

    Returns:
        How many templates were compiled.
    """
    env = _environment()
    names = env.list_templates(extensions=["html"])
    for name in names:
        env.get_template(name)
    return len(names)


def render(template: str, **context: Any) -> str:
    """The HTML of `template` with `context`."""
    return _environment().get_template(template).render(**context)


def _page(template: str, request: Request, api_url: str, **context: Any) -> HTMLResponse:
    return HTMLResponse(render(template, request=request, api_url=api_url, **context))


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/runs", status_code=307)


@router.get("/runs")
def runs_page(request: Request, q: str = "", transform: str | None = None,
              status: list[str] = Query([]), project: str | None = None, where: str = "",
              sort: str = "-started_at", offset: int = Query(0, ge=0),
              limit: int = Query(50, ge=1, le=500)) -> HTMLResponse:
    transform = transform or None
    project = project or None
    status = [s for s in status if s]
    from lineage.ui.read.summary import facets as filter_choices

    facets = filter_choices()
    error = None
    try:
        page = api.list_runs(q=q, transform=transform, status=status, project=project,
                             where=where, sort=sort, offset=offset, limit=limit)
    except Exception as exc:  # a bad filter shows its message above an empty table
        from lineage.errors import LineageError

        if not isinstance(exc, LineageError):
            raise
        error = str(exc)
        page = {"total": 0, "offset": 0, "limit": limit, "sort": sort, "runs": [],
                "columns": {"params": [], "features": []}}
    state = {"q": q, "transform": transform, "status": status, "project": project,
             "where": where, "sort": sort, "limit": limit}
    return _page("runs.html", request, "/api/runs?" + _query(state, offset=offset),
                 title="Runs", page=page, facets=facets, state=state, error=error,
                 link=lambda **changes: "/runs?" + _query(state, **changes))


def _query(state: dict[str, Any], **changes: Any) -> str:
    merged = {**state, **changes}
    pairs: list[tuple[str, Any]] = []
    for key, value in merged.items():
        if value in (None, "", [], 0) and key != "sort":
            continue
        if key == "limit" and value == 50:
            continue
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, item))
    return urlencode(pairs)


@router.get("/runs/{uid}")
def run_page(request: Request, uid: str) -> HTMLResponse:
    run = api.get_run(uid)
    return _page("run.html", request, f"/api/runs/{run['uid']}", title=f"Run {run['uid']}",
                 run=run)


@router.get("/compare")
def compare_page(request: Request, runs: list[str] = Query([])) -> HTMLResponse:
    uids = [u for item in runs for u in item.split(",") if u.strip()]
    data = api.compare_runs(uids)
    return _page("compare.html", request, "/api/compare?runs=" + ",".join(uids),
                 title=f"Compare {len(uids)} runs", data=data)


@router.get("/transforms/{uid}")
def transform_page(request: Request, uid: str, diff: str | None = None) -> HTMLResponse:
    from lineage.ui.source import highlight

    transform = api.get_transform(uid)
    changes = None
    if diff is not None or len(transform["versions"]) > 1 and transform["version"] > 1:
        try:
            changes = api.diff_transform(transform["uid"], diff or None)
        except Exception:  # noqa: BLE001 - the page shows the source without a diff
            changes = None
    return _page("transform.html", request, f"/api/transforms/{transform['uid']}",
                 title=transform["key"], transform=transform, changes=changes,
                 source_html=highlight(transform["source_code"] or "", transform["key"]))


@router.get("/artifacts/{uid}")
def artifact_page(request: Request, uid: str) -> HTMLResponse:
    artifact = api.get_artifact(uid)
    shown = api.preview_artifact(artifact["uid"])
    return _page("artifact.html", request, f"/api/artifacts/{artifact['uid']}",
                 title=artifact["key"] or artifact["uid"], artifact=artifact, preview=shown)


@router.get("/projects")
def projects_page(request: Request) -> HTMLResponse:
    return _page("projects.html", request, "/api/projects", title="Projects",
                 projects=api.list_projects())


@router.get("/projects/{uid}")
def project_page(request: Request, uid: str) -> HTMLResponse:
    project = api.get_project(uid)
    return _page("project.html", request, f"/api/projects/{project['uid']}",
                 title=project["name"], project=project)


@router.get("/graph/{uid}")
def graph_page(request: Request, uid: str) -> HTMLResponse:
    from lineage.ui.read.records import get_record

    record = get_record("Artifact", uid) if _is_artifact(uid) else get_record("Run", uid)
    kind = "artifact" if type(record).__name__ == "Artifact" else "run"
    return _page("graph.html", request, f"/api/graph/{record.uid}",
                 title=f"Lineage of {getattr(record, 'key', None) or record.uid}",
                 focus={"uid": record.uid, "kind": kind,
                        "label": getattr(record, "key", None) or record.uid})


def _is_artifact(uid: str) -> bool:
    from lineage.artifact import Artifact

    return Artifact.objects_unhidden().filter(uid__startswith=uid).exists()


@router.get("/api")
def api_page(request: Request) -> HTMLResponse:
    schema = request.app.openapi()
    return _page("api.html", request, "/api/openapi.json", title="API", schema=schema)


@router.get("/highlight.css")
def highlight_css() -> Any:
    from fastapi.responses import Response

    from lineage.ui.source import stylesheet

    return Response(stylesheet(), media_type="text/css",
                    headers={"cache-control": "max-age=3600"})
