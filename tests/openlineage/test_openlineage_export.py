"""Runs as OpenLineage run events: valid against the official schemas, stable, redacted."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from ol_data import T0, build
from ol_schema import errors

import lineage as ln
from lineage.openlineage.events import run_uuid
from lineage.openlineage.export import iter_events


@pytest.fixture
def data(instance, tmp_path):
    return build(tmp_path / "work")


def _by_run(events):
    out = {}
    for event in events:
        out.setdefault(event["run"]["runId"], []).append(event)
    return out


def test_every_event_and_facet_validates_against_the_official_schemas(data):
    events = list(iter_events())
    assert events
    for event in events:
        assert errors(event) == [], json.dumps(event, indent=1)[:2000]
    names = {n for e in events for n in [*e["run"]["facets"], *e["job"]["facets"]]}
    assert {"parent", "processing_engine", "errorMessage", "lineage", "sourceCode",
            "sourceCodeLocation", "jobType"} <= names


def test_each_status_gives_start_then_its_final_event(data):
    runs = data["runs"]
    events = _by_run(iter_events())
    expected = {"flow": "COMPLETE", "make": "COMPLETE", "use": "FAIL", "aborted": "ABORT",
                "cached": "OTHER", "skipped": "OTHER", "script": None}
    for name, final in expected.items():
        run = runs[name]
        types = [e["eventType"] for e in events[run_uuid(run.uid)]]
        assert types == (["START", final] if final else ["START"]), name
        last = events[run_uuid(run.uid)][-1]
        assert last["run"]["facets"]["lineage"]["status"] == run.status
    start, end = events[run_uuid(runs["flow"].uid)]
    assert start["eventTime"] == T0.isoformat().replace("+00:00", "Z")
    assert end["eventTime"].endswith("Z") and end["eventTime"] > start["eventTime"]


def test_run_ids_are_stable_and_parents_name_their_root(data):
    runs = data["runs"]
    first, second = list(iter_events()), list(iter_events())
    assert [e["run"]["runId"] for e in first] == [e["run"]["runId"] for e in second]
    assert first == second
    use = _by_run(first)[run_uuid(runs["use"].uid)][-1]
    parent = use["run"]["facets"]["parent"]
    assert parent["run"]["runId"] == run_uuid(runs["make"].uid)
    assert parent["job"] == {"namespace": "lineage", "name": "pipelines/etl.py:make"}
    assert parent["root"]["run"]["runId"] == run_uuid(runs["flow"].uid)
    assert parent["root"]["job"]["name"] == "pipelines/etl.py:main"
    assert use["job"]["facets"]["jobType"]["integration"] == "PREFECT"


def test_artifacts_are_datasets_with_version_and_statistics(data):
    runs, table = data["runs"], data["artifact"]
    events = _by_run(iter_events())
    make_end = events[run_uuid(runs["make"].uid)][-1]
    [out] = make_end["outputs"]
    assert out["namespace"].startswith("file://") and out["namespace"].endswith("/storage")
    assert out["name"] == "raw/raw.csv"
    assert out["facets"]["version"]["datasetVersion"] == table.hash
    assert out["facets"]["storage"]["fileFormat"] == "csv"
    assert out["outputFacets"]["outputStatistics"] == {
        **out["outputFacets"]["outputStatistics"], "size": table.size, "fileCount": 1}
    [read] = events[run_uuid(runs["use"].uid)][0]["inputs"]
    assert (read["namespace"], read["name"]) == (out["namespace"], out["name"])


def test_secrets_are_redacted_in_exported_events(data):
    text = "\n".join(json.dumps(e) for e in iter_events())
    for secret in ("hunter2", "s3cr3tpw", "pw123", "token=abc", "k-123"):
        assert secret not in text
    use = _by_run(iter_events())[run_uuid(data["runs"]["use"].uid)][-1]
    error = use["run"]["facets"]["errorMessage"]
    assert error["message"].startswith("ValueError: cannot reach") and "***" in error["message"]
    flow = _by_run(iter_events())[run_uuid(data["runs"]["flow"].uid)][0]
    location = flow["job"]["facets"]["sourceCodeLocation"]
    assert location["url"] == location["repoUrl"] == "https://bob:***@github.com/org/repo.git"
    assert location["version"] == "a" * 40 and location["branch"] == "main"


def test_batches_stream_the_same_events(data):
    assert list(iter_events(batch=2)) == list(iter_events())


def test_since_and_run_select_runs(data):
    runs = data["runs"]
    later = list(iter_events(since=ln.Run.get(runs["script"].uid).started_at))
    assert {e["run"]["runId"] for e in later} == {run_uuid(runs["script"].uid)}
    one = list(iter_events(run=runs["use"].uid))
    assert [e["eventType"] for e in one] == ["START", "FAIL"]


def test_the_cli_writes_json_lines(data, cli, tmp_path, capsys):
    target = tmp_path / "events.jsonl"
    assert cli("export", "openlineage", "-o", str(target)) == 0
    lines = target.read_text().splitlines()
    assert Counter(json.loads(line)["eventType"] for line in lines) == Counter(
        e["eventType"] for e in iter_events())
    assert f"wrote {len(lines)} events to {target}" in capsys.readouterr().err
    assert cli("openlineage", "export", "--run", data["runs"]["make"].uid, "--no-source") == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["eventType"] for e in printed] == ["START", "COMPLETE"]
    assert "sourceCode" not in printed[0]["job"]["facets"]
    assert cli("export", "openlineage", "--since", "yesterday") == 2
    assert "is not a date or time" in capsys.readouterr().err


def test_the_schema_check_finds_what_is_wrong(data):
    event = json.loads(json.dumps(next(iter_events())))
    event["run"]["facets"]["processing_engine"].pop("version")
    assert [e for e in errors(event) if e.startswith(
        "run.processing_engine: 'version' is a required property")]
    event["eventType"], event["run"]["runId"] = "DONE", "not-a-uuid"
    found = errors(event)
    assert any("'DONE' is not one of" in e for e in found)
    assert any("'not-a-uuid' is not a 'uuid'" in e for e in found)
