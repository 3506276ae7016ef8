"""The JSON API under ``/api/``: one call behind every page of the UI.

Read-only. Records are named by uid (an unambiguous uid prefix works too).
Errors answer ``{"error": "<what was wrong and what to do>"}`` with 400 (bad
input) or 404 (no such record). The OpenAPI description is at
``/api/openapi.json``; docs/ui.md shows examples for scripts.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from lineage.ui.read import records

router = APIRouter(prefix="/api")


@router.get("/instance", summary="The instance: backend, counts, filter choices")
def get_instance() -> dict[str, Any]:
    """Backend, storage, record counts, statuses, transform keys, projects, features and
    param names seen in recent runs (the choices of the runs page's filters)."""
    from lineage.ui.read.summary import instance_summary

    return instance_summary()


@router.get("/runs", summary="Runs: search, filter, sort, paginate")
def list_runs(
    q: str = Query("", description="Text: uid prefix, or part of a transform key, entrypoint, "
                   "run name; or an external id."),
    transform: str | None = Query(None, description="Transform key."),
    status: list[str] = Query([], description="Statuses (repeat for several)."),
    project: str | None = Query(None, description="Project uid or name."),
    where: str = Query("", description='Filter: `params.lr > 0.01 and features.experiment = '
                       '"A"` (operators = != > >= < <= ~ ^; clauses joined by `and`).'),
    sort: str = Query("-started_at", description="started_at, finished_at, duration, status, "
                      "transform, entrypoint, name, params.<path>, features.<name>; "
                      "prefix - for descending."),
    offset: int = Query(0, ge=0),
    limit: int = Query(50, ge=1, le=500),
) -> dict[str, Any]:
    """A page of runs, newest first by default, with `total` matching runs (with a text
    search or a `where` filter counted up to 10,000: `total_exact` false means more),
    `more` (a next page exists) and the param and feature `columns` present on the page. Each run has `params` (nested
    params flattened to dotted names) and `features`."""
    from lineage.ui.read.runs_table import RunQuery, runs_page

    return runs_page(RunQuery(q=q, transform=transform, status=status, project=project,
                              where=where, sort=sort, offset=offset, limit=limit))


@router.get("/runs/{uid}", summary="One run with everything it captured")
def get_run(uid: str) -> dict[str, Any]:
    """Params, CLI args, features, environment with packages, git, error, report, inputs,
    outputs, re-created artifacts, the initiating run, initiated runs, projects and (for
    engine runs) attempts, details and upstream runs."""
    return records.run_detail(records.get_record("Run", uid))


@router.get("/compare", summary="Two or more runs side by side")
def compare_runs(
    runs: list[str] = Query(..., description="Run uids (repeat, or comma-separated)."),
) -> dict[str, Any]:
    """Rows of params, features, environment packages, git facts and inputs, one value per
    run, each row with `differs`: whether the runs disagree."""
    from lineage.ui.read.compare import compare

    return compare([u for item in runs for u in item.split(",") if u.strip()])


@router.get("/transforms/{uid}", summary="A transform: source, versions, runs")
def get_transform(uid: str) -> dict[str, Any]:
    """The stored source code, every version of the key (with run counts), recent runs
    and projects."""
    return records.transform_detail(records.get_record("Transform", uid))


@router.get("/transforms/{uid}/diff", summary="Source diff between two versions")
def diff_transform(uid: str, against: str | None = Query(
        None, description="Uid of the other version (default: the previous version).")
) -> dict[str, Any]:
    """A unified diff from `against` (old) to `uid` (new), as lines with their kind."""
    from lineage.ui.source import transform_diff

    return transform_diff(records.get_record("Transform", uid), against)


@router.get("/artifacts/{uid}", summary="An artifact: versions, runs, storage")
def get_artifact(uid: str) -> dict[str, Any]:
    """Content facts, storage location, the creating run, earlier creators, runs that
    used it, versions of its key, projects and labels."""
    return records.artifact_detail(records.get_record("Artifact", uid))


@router.get("/artifacts/{uid}/preview", summary="A preview of the content")
def preview_artifact(uid: str) -> dict[str, Any]:
    """`kind` is `text` (first 64 KiB), `table` (CSV or Parquet: columns and the first
    rows), `image` (use the download URL), `folder` (file list) or `none` (with `reason`)."""
    from lineage.ui.preview import preview

    return preview(records.get_record("Artifact", uid))


@router.get("/artifacts/{uid}/download", summary="The stored content")
def download_artifact(uid: str, inline: bool = Query(
        False, description="Show in the browser instead of saving.")) -> Any:
    """The file as stored (a folder cannot be downloaded). Not recorded as a run input."""
    from lineage.ui.preview import download

    return download(records.get_record("Artifact", uid), inline)


@router.get("/projects", summary="All projects with counts")
def list_projects() -> list[dict[str, Any]]:
    """Every project with its numbers of transforms, runs and artifacts."""
    return records.projects_list()


@router.get("/projects/{uid}", summary="A project: transforms, runs, artifacts")
def get_project(uid: str) -> dict[str, Any]:
    """The project's transforms, most recent runs and artifacts."""
    return records.project_detail(records.get_record("Project", uid))


@router.get("/graph/{uid}", summary="Lineage graph around a run or artifact")
def get_graph(
    uid: str,
    up: int = Query(2, ge=0, le=10_000, description="Hops upstream from the focus."),
    down: int = Query(2, ge=0, le=10_000, description="Hops downstream from the focus."),
    expand: list[str] = Query([], description="Node ids (`run:<uid>`, `artifact:<uid>`) whose "
                              "neighbours to add (repeat, or comma-separated)."),
    collapse: bool = Query(True, description="Merge groups of look-alike nodes."),
    open_groups: list[str] = Query([], alias="open", description="Member node ids whose "
                                   "group to show uncollapsed (repeat, or comma-separated)."),
    max_nodes: int = Query(1000, ge=1, le=5000, description="Node budget."),
) -> dict[str, Any]:
    """Nodes and edges (as in `ln.lineage_graph`, collapsed as in `view_lineage`), each node
    with `url` (its page) and `more_up`/`more_down` (lineage beyond what is shown)."""
    from fastapi.responses import Response

    from lineage.ui.graph_view import GraphQuery, graph_json

    # JSON text made once and kept (FastAPI's encoder takes ~50 ms on 1,000 nodes).
    return Response(graph_json(GraphQuery(uid, up, down, _split(expand), collapse,
                                          _split(open_groups), max_nodes)),
                    media_type="application/json")


@router.get("/graph/{uid}/svg", summary="The lineage graph drawn as SVG")
def get_graph_svg(
    uid: str, up: int = Query(2, ge=0, le=10_000), down: int = Query(2, ge=0, le=10_000),
    expand: list[str] = Query([]), collapse: bool = Query(True),
    open_groups: list[str] = Query([], alias="open"), max_nodes: int = Query(1000, ge=1, le=5000),
) -> Any:
    """The same graph as `/api/graph/{uid}` drawn by Graphviz; nodes link to their pages."""
    from fastapi.responses import Response

    from lineage.ui.graph_view import GraphQuery, graph_svg

    svg = graph_svg(GraphQuery(uid, up, down, _split(expand), collapse, _split(open_groups),
                               max_nodes))
    return Response(svg, media_type="image/svg+xml")


def _split(values: list[str]) -> list[str]:
    return [v for item in values for v in item.split(",") if v.strip()]
