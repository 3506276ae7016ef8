"""The JSON API of `lineage ui`, against a real server on an ephemeral port.

Answers are checked against the Python API on the same instance
(``ln.Run.filter(...)``), so the UI filters, sorts and counts as the
library does.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import quote

import pytest

import lineage as ln


@pytest.fixture
def same_instance(ui_data: tuple[str, dict[str, Any]]) -> None:
    """The test process connected to the instance the server shows (to compare)."""
    ln.connect(ui_data[0])


def uids(page: dict[str, Any]) -> list[str]:
    return [r["uid"] for r in page["runs"]]


def test_runs_newest_first_with_param_and_feature_columns(server, ids, same_instance):
    page = server.api("/api/runs")
    expected = [r.uid for r in ln.Run.filter().order_by("-started_at", "-id")[:50]]
    assert uids(page) == expected and page["total"] == ln.Run.filter().count() == 18
    assert {"lr", "model.depth", "tag"} <= set(page["columns"]["params"])
    assert page["columns"]["features"] == ["experiment"]
    train = next(r for r in page["runs"] if r["uid"] == ids["runs"][0])
    assert train["params"]["model.depth"] == 2 and train["features"] == {"experiment": "A"}
    assert train["transform"]["key"] == "train.py" and train["transform"]["version"] == 1


@pytest.mark.parametrize(("query", "lookups"), [
    ("status=errored", {"status": "errored"}),
    ("transform=train.py", {"transform__key": "train.py"}),
    ("where=" + quote("params.lr > 0.005"), {"params__lr__gt": 0.005}),
    ("where=" + quote('features.experiment = "A" and params.model.depth >= 4'),
     {"experiment": "A", "params__model__depth__gte": 4}),
    ("where=" + quote("params.tag ^ run-1"), {"params__tag__startswith": "run-1"}),
    ("status=completed&status=errored&transform=train.py",
     {"status__in": ["completed", "errored"], "transform__key": "train.py"}),
])
def test_filters_match_the_query_layer(server, same_instance, query, lookups):
    page = server.api(f"/api/runs?{query}&limit=500")
    expected = ln.Run.filter(**lookups)
    assert page["total"] == expected.count() > 0
    assert set(uids(page)) == {r.uid for r in expected}


def test_project_filter_by_name_or_uid(server, ids, same_instance):
    project = ln.Project.get(uid=ids["project"])
    by_uid = server.api(f"/api/runs?project={ids['project']}&limit=500")
    by_name = server.api("/api/runs?project=Demo&limit=500")
    assert set(uids(by_uid)) == set(uids(by_name)) == {r.uid for r in project.runs}


def test_search_by_uid_prefix_and_transform_key(server, ids):
    assert uids(server.api(f"/api/runs?q={ids['failed'][:6]}")) == [ids["failed"]]
    assert uids(server.api("/api/runs?q=PREPARE")) == [ids["prep"]]


@pytest.mark.parametrize("sort", ["params.lr", "-params.lr", "params.model.depth",
                                  "features.experiment", "-duration", "transform"])
def test_sorting_on_params_features_and_fields(server, sort):
    page = server.api(f"/api/runs?sort={sort}&limit=500")
    name = sort.lstrip("-")

    def value(run: dict[str, Any]) -> Any:
        if name.startswith("params."):
            return run["params"].get(name[7:])
        if name.startswith("features."):
            return run["features"].get(name[9:])
        return {"duration": run["duration_s"], "transform": run["transform"]["key"]}[name]

    values = [value(r) for r in page["runs"]]
    present = [v for v in values if v is not None]
    assert values == present + [None] * (len(values) - len(present)), "missing values sort last"
    assert present == sorted(present, reverse=sort.startswith("-")) and len(set(present)) > 1


def test_pages_are_slices_of_one_order(server):
    whole = uids(server.api("/api/runs?sort=params.tag&limit=500"))
    second = server.api("/api/runs?sort=params.tag&limit=4&offset=4")
    assert uids(second) == whole[4:8] and second["total"] == len(whole)


@pytest.mark.parametrize(("query", "words"), [
    ("where=" + quote("lr >"), "NAME OP VALUE"),
    ("where=" + quote("params.lr > 1 and nonsense"), "cannot read the filter clause"),
    ("where=" + quote("features.experiment > 1"), "features support = only"),
    ("where=" + quote("colour = red"), "unknown filter name"),
    ("sort=flavour", "cannot sort runs by"),
    ("limit=0", ""),
])
def test_bad_queries_answer_400_with_the_fix(server, query, words):
    reply = server.get(f"/api/runs?{query}")
    assert reply.status in (400, 422)
    if words:
        assert reply.status == 400 and words in reply.json()["error"]


def test_run_detail(server, ids, same_instance):
    last = server.api(f"/api/runs/{ids['runs'][-1]}")
    run = ln.Run.get(ids["runs"][-1])
    assert last["params"] == run.params and last["features"] == {"experiment": "B"}
    assert {a["uid"] for a in last["inputs"]["items"]} == {ids["text"], ids["table"]}
    assert [a["uid"] for a in last["outputs"]["items"]] == [ids["models"][-1]]
    assert [r["uid"] for r in last["initiated_runs"]["items"]] == [ids["report"]]
    assert last["environment"]["packages"] == run.environment.packages
    assert last["cli_args"] == ["train.py", "--lr=0.1"] and last["projects"][0]["name"] == "Demo"
    failed = server.api(f"/api/runs/{ids['failed'][:8]}")  # a uid prefix works
    assert failed["status"] == "errored" and "lr too large" in failed["error"]
    report = server.api(f"/api/runs/{ids['report']}")
    assert report["initiated_by"]["uid"] == ids["runs"][-1]


def test_transform_versions_and_diff(server, ids):
    detail = server.api(f"/api/transforms/{ids['train_v2']}")
    assert [(v["version"], v["runs"]) for v in detail["versions"]] == [(1, 6), (2, 7)]
    assert detail["source_code"].startswith("import lineage") and detail["runs"]["total"] == 7
    diff = server.api(f"/api/transforms/{ids['train_v2']}/diff")
    added = [line["text"] for line in diff["lines"] if line["kind"] == "added"]
    removed = [line["text"] for line in diff["lines"] if line["kind"] == "removed"]
    assert added == ["+def train(lr, epochs=3):", "+    return lr * epochs"]
    assert removed == ["-def train(lr):", "-    return lr * 2"]
    assert diff["old"]["version"] == 1 and not diff["identical"]
    first = server.get(f"/api/transforms/{ids['train_v1']}/diff")
    assert first.status == 400 and "no earlier version" in first.json()["error"]


def test_artifact_detail(server, ids):
    text = server.api(f"/api/artifacts/{ids['text']}")
    assert text["key"] == "data/notes.txt" and text["run"]["uid"] == ids["prep"]
    assert text["input_of_runs"]["total"] == 13
    model = server.api(f"/api/artifacts/{ids['models'][3]}")
    assert model["versions"]["total"] == 12 and model["version"] == 4 and not model["is_latest"]


@pytest.mark.parametrize(("name", "check"), [
    ("text", lambda p: p["kind"] == "text" and p["text"].startswith("hello from the notes")),
    ("table", lambda p: p["kind"] == "table" and p["columns"] == ["sample", "value"]
     and p["rows"] == [["s1", "1.5"], ["s2", "2.5"]]),
    ("frame", lambda p: p["kind"] == "table" and p["columns"] == ["a", "b"]
     and p["rows"][0] == ["1", "x"] and p["total_rows"] == 3),
    ("image", lambda p: p["kind"] == "image" and p["url"].endswith("download?inline=1")),
    ("folder", lambda p: p["kind"] == "folder" and p["files"] == ["one.txt", "two.txt"]),
])
def test_previews(server, ids, name, check):
    assert check(server.api(f"/api/artifacts/{ids[name]}/preview"))


def test_download_is_the_stored_content_and_no_run_input(server, ids, same_instance):
    from ui_data import png

    reply = server.get(f"/api/artifacts/{ids['image']}/download?inline=1")
    assert reply.status == 200 and reply.body == png()
    assert reply.headers["content-type"] == "image/png"
    assert reply.headers["content-security-policy"] == "sandbox"
    assert reply.headers["content-disposition"].startswith("inline")
    assert ln.Artifact.get(ids["image"]).input_of_runs.count() == 0
    folder = server.get(f"/api/artifacts/{ids['folder']}/download")
    assert folder.status == 400 and "folder" in folder.json()["error"]


def test_compare_highlights_differences(server, ids):
    first, last = ids["runs"][0], ids["runs"][-1]
    data = server.api(f"/api/compare?runs={first},{last}")
    assert [r["uid"] for r in data["runs"]] == [first, last]
    sections = {s["name"]: {row["name"]: row for row in s["rows"]} for s in data["sections"]}
    assert sections["Params"]["lr"]["values"] == [0.001, 0.1] and sections["Params"]["lr"]["differs"]
    assert sections["Features"]["experiment"]["differs"]
    assert not sections["Inputs"]["data/notes.txt"]["differs"]
    assert sections["Outputs"]["models/model.txt"]["differs"]  # v1 and v12
    assert sections["Run"]["transform"]["values"] == ["train.py v1", "train.py v2"]
    assert sections["Packages"] == {} and data["sections"][-1]["same"] > 0
    too_few = server.get(f"/api/compare?runs={first}")
    assert too_few.status == 400 and "2 to 20 runs" in too_few.json()["error"]


def test_projects(server, ids, same_instance):
    projects = server.api("/api/projects")
    project = ln.Project.get(uid=ids["project"])
    assert projects == [{**projects[0], "name": "Demo", "runs": project.runs.count(),
                         "artifacts": project.artifacts.count(),
                         "transforms": project.transforms.count()}]
    detail = server.api(f"/api/projects/{ids['project']}")
    assert detail["runs"]["total"] == project.runs.count()
    assert ({t["key"] for t in detail["transforms"]["items"]}
            == {t.key for t in project.transforms} >= {"prepare.py", "train.py"})


def test_graph_nodes_know_their_hidden_neighbours(server, ids):
    model = ids["models"][-1]
    data = server.api(f"/api/graph/{model}?up=1&down=1")
    nodes = {n["id"]: n for n in data["nodes"]}
    creator, report = f"run:{ids['runs'][-1]}", f"run:{ids['report']}"
    assert data["graph"]["focus"] == f"artifact:{model}"
    assert {creator, report, f"artifact:{model}"} <= set(nodes)
    assert nodes[creator]["url"] == f"/runs/{ids['runs'][-1]}"
    assert nodes[creator]["more_up"] == 2  # its two inputs are beyond one hop
    expanded = server.api(f"/api/graph/{model}?up=1&down=1&expand={creator}")
    assert {f"artifact:{ids['text']}", f"artifact:{ids['table']}"} <= {n["id"] for n in expanded["nodes"]}
    assert {n["id"]: n for n in expanded["nodes"]}[creator]["more_up"] == 0


def test_one_way_graph_nodes_know_their_hidden_neighbours_too(server, ids):
    # One direction is one read (graph and counts); both directions are composed.
    model = ids["models"][-1]
    focus, creator = f"artifact:{model}", f"run:{ids['runs'][-1]}"

    def stored(data):  # node -> (shown + more upstream, shown + more downstream)
        out = {}
        for node in data["nodes"]:
            def shown(end):
                return sum(1 for e in data["edges"]
                           if e[end] == node["id"] and e["relation"] != "version")
            out[node["id"]] = (shown("target") + node["more_up"],
                               shown("source") + node["more_down"])
        return out

    both = stored(server.api(f"/api/graph/{model}?up=1&down=1"))
    data = server.api(f"/api/graph/{model}?up=1&down=0")
    up = stored(data)
    assert {focus, creator} <= set(up) <= set(both) and all(up[n] == both[n] for n in up)
    nodes = {n["id"]: n for n in data["nodes"]}
    assert nodes[focus]["more_down"] == both[focus][1] >= 1 and nodes[focus]["truncated"]
    assert nodes[creator]["more_up"] == 2


def test_graph_groups_collapse_and_open(server, ids):
    collapsed = server.api(f"/api/graph/{ids['text']}?up=0&down=1")
    groups = [n for n in collapsed["nodes"] if n.get("collapsed")]
    assert groups and groups[0]["count"] >= 9 and groups[0]["url"] is None
    member = groups[0]["members"][0]
    opened = server.api(f"/api/graph/{ids['text']}?up=0&down=1&open={member}")
    assert not any(n.get("collapsed") for n in opened["nodes"])
    assert len(opened["nodes"]) == 14  # the text and the 13 runs that read it
    flat = server.api(f"/api/graph/{ids['text']}?up=0&down=1&collapse=false")
    assert {n["id"] for n in flat["nodes"]} == {n["id"] for n in opened["nodes"]}


def test_graph_svg_links_nodes_to_their_pages(server, ids):
    reply = server.get(f"/api/graph/{ids['report']}/svg?up=2&down=1")
    assert reply.status == 200 and reply.headers["content-type"].startswith("image/svg+xml")
    svg = html.unescape(reply.text)  # Graphviz writes "-" as &#45;
    assert f'id="node-run:{ids["report"]}"' in svg
    assert f'xlink:href="/artifacts/{ids["summary"]}"' in svg
    assert f'id="node-artifact:{ids["text"]}-more"' in svg  # 12 more runs read it


def test_every_page_links_an_api_call_that_answers(server, ids):
    pages = [
        "/runs", f"/runs/{ids['report']}", f"/transforms/{ids['train_v2']}",
        f"/artifacts/{ids['frame']}", "/projects", f"/projects/{ids['project']}",
        f"/compare?runs={ids['runs'][0]},{ids['runs'][1]}", f"/graph/{ids['summary']}", "/api",
    ]
    for page in pages:
        reply = server.get(page)
        assert reply.status == 200 and reply.headers["content-type"].startswith("text/html"), page
        link = reply.text.split('class="json" href="', 1)[1].split('"', 1)[0]
        assert server.get(link.replace("&amp;", "&")).status == 200, (page, link)


def test_openapi_describes_every_api_route(server):
    schema = server.api("/api/openapi.json")
    assert schema["openapi"].startswith("3.")
    assert {"/api/runs", "/api/runs/{uid}", "/api/compare", "/api/transforms/{uid}",
            "/api/transforms/{uid}/diff", "/api/artifacts/{uid}", "/api/artifacts/{uid}/preview",
            "/api/artifacts/{uid}/download", "/api/projects", "/api/projects/{uid}",
            "/api/graph/{uid}", "/api/graph/{uid}/svg", "/api/instance"} == set(schema["paths"])
    where = next(p for p in schema["paths"]["/api/runs"]["get"]["parameters"] if p["name"] == "where")
    assert "params.lr" in where["description"]


def test_unknown_records_are_404_and_writes_405(server):
    api = server.get("/api/runs/nosuchrun0000000")
    assert api.status == 404 and "no Run matches" in api.json()["error"]
    page = server.get("/artifacts/nosuchartifact000")
    assert page.status == 404 and "text/html" in page.headers["content-type"]
    post = server.get("/api/runs", method="POST")
    assert post.status == 405 and "read-only" in post.json()["error"]


def test_instance_summary_and_server_timing(server):
    reply = server.get("/api/instance")
    summary = reply.json()
    assert summary["backend"] == "SQLite" and summary["counts"]["runs"] == 18
    assert summary["transform_keys"] == ["flow.py", "prepare.py", "report.py", "train.py"]
    assert {"cached", "skipped"} <= set(summary["statuses"])
    assert {"lr", "model.depth", "tag"} <= set(summary["param_names"])
    assert reply.headers["server-timing"].startswith("app;dur=")


def test_engine_runs_show_attempts_details_and_upstream_runs(server, ids):
    first, second = ids["attempts"]
    retried = server.api(f"/api/runs/{second}")
    assert retried["attempt"] == 2 and retried["details"] == {"retries": 1}
    assert [(r["uid"], r["attempt"], r["status"]) for r in retried["attempts"]["items"]] == [
        (first, 1, "errored"), (second, 2, "completed")]
    assert [r["uid"] for r in retried["downstream_runs"]["items"]] == [ids["cached"]]
    cached = server.api(f"/api/runs/{ids['cached']}")
    assert cached["status"] == "cached"
    assert [r["uid"] for r in cached["upstream_runs"]["items"]] == [second]
    page = server.api("/api/runs?status=cached")
    assert [r["uid"] for r in page["runs"]] == [ids["cached"]]
    graph = server.api(f"/api/graph/{ids['cached']}?up=1&down=0")
    assert {"source": f"run:{second}", "target": f"run:{ids['cached']}", "relation": "data",
            "recreated": False, "count": 1} in graph["edges"]
    assert {n["id"]: n for n in graph["nodes"]}[f"run:{second}"]["more_up"] == 0
    html_page = server.get(f"/runs/{second}").text
    assert "Attempts" in html_page and "Downstream runs" in html_page
