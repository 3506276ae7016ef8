"""Other tools' OpenLineage events recorded as runs: idempotent, any order, same graph back."""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from ol_data import build
from ol_graph import graph, other_instance
from ol_schema import errors

import lineage as ln
from lineage.errors import ValidationError
from lineage.openlineage.export import iter_events
from lineage.openlineage.ingest import ingest_event
from lineage.openlineage.validate import problems

T = datetime(2026, 12, 2, 6, 0, tzinfo=timezone.utc)
PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/integration/spark"


def event(event_type, run_id, *, at=0, job="etl.orders", namespace="spark://cluster", inputs=(),
          outputs=(), **run_facets):
    """A Spark-like run event (inputs/outputs: (namespace, name, version))."""
    def dataset(ns, name, version, output=False):
        d = {"namespace": ns, "name": name, "facets": {}}
        if version:
            d["facets"]["version"] = {"_producer": PRODUCER, "datasetVersion": version,
                                      "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/"
                                      "DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet"}
        if output:
            d["outputFacets"] = {"outputStatistics": {
                "_producer": PRODUCER, "rowCount": 10, "size": 2048,
                "_schemaURL": "https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutput"
                              "DatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet"}}
        return d
    return {
        "eventType": event_type, "eventTime": (T + timedelta(seconds=at)).isoformat(),
        "producer": PRODUCER, "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": run_id, "facets": run_facets},
        "job": {"namespace": namespace, "name": job, "facets": {}},
        "inputs": [dataset(*d) for d in inputs], "outputs": [dataset(*d, output=True) for d in outputs],
    }


def facet(name, version, **fields):
    return {"_producer": PRODUCER, **fields, "_schemaURL":
            f"https://openlineage.io/spec/facets/{version}/{name}.json#/$defs/{name}"}


@pytest.fixture
def spark_events():
    parent, child = str(uuid.uuid4()), str(uuid.uuid4())
    parent_facet = facet("ParentRunFacet", "1-2-0", run={"runId": parent},
                         job={"namespace": "airflow://prod", "name": "dag.orders"})
    orders = ("postgres://db:5432", "shop.public.orders", "17")
    daily = ("s3://warehouse", "marts/daily_orders", "v3")
    return parent, child, [
        event("START", parent, job="dag.orders", namespace="airflow://prod"),
        event("START", child, at=1, inputs=[orders], parent=parent_facet),
        event("RUNNING", child, at=2, inputs=[orders], parent=parent_facet),
        event("COMPLETE", child, at=3, inputs=[orders], outputs=[daily], parent=parent_facet),
        event("COMPLETE", parent, at=4, job="dag.orders", namespace="airflow://prod"),
    ]


def _counts():
    return ln.Run.filter().count(), ln.Artifact.filter().count(), ln.Transform.filter().count()


def test_foreign_events_become_runs_transforms_and_reference_artifacts(instance, spark_events):
    parent, child, events = spark_events
    for e in events:
        ingest_event(e)
    run = ln.Run.get(external_source="openlineage", external_id=child)
    assert run.status == "completed" and run.transform.key == "spark://cluster/etl.orders"
    assert run.started_at == T + timedelta(seconds=1)
    assert run.finished_at == T + timedelta(seconds=3)
    assert run.initiated_by_run.external_id == parent
    assert run.initiated_by_run.transform.key == "airflow://prod/dag.orders"
    [read] = run.input_artifacts.all()
    [wrote] = run.output_artifacts.all()
    assert (read.kind, read.storage.root, read.object_key, read.hash) == (
        "reference", "postgres://db:5432", "shop.public.orders", "17")
    assert (wrote.storage.root, wrote.object_key, wrote.hash, wrote.size) == (
        "s3://warehouse", "marts/daily_orders", "v3", 2048)
    assert wrote.run_id == run.id


def test_events_twice_and_in_any_order_give_the_same_records(instance, spark_events):
    _, child, events = spark_events
    for e in events:
        ingest_event(e)
    first = _counts()
    picture = graph(list(iter_events()))
    for e in events:  # again
        ingest_event(e)
    assert _counts() == first
    assert graph(list(iter_events())) == picture
    run = ln.Run.get(external_id=child)
    assert run.status == "completed" and run.input_artifacts.count() == 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shuffled_events_give_the_graph_of_ordered_ones(instance, spark_events, seed, tmp_path,
                                                        backend, request):
    _, child, events = spark_events
    for e in events:
        ingest_event(e)
    ordered, counts = graph(list(iter_events())), _counts()
    other_instance(backend, tmp_path, request)
    shuffled = events[:]
    random.Random(seed).shuffle(shuffled)
    for e in shuffled:
        ingest_event(e)
    assert graph(list(iter_events())) == ordered and _counts() == counts
    run = ln.Run.get(external_id=child)
    assert run.status == "completed" and run.started_at == T + timedelta(seconds=1)


def test_a_later_final_event_corrects_the_status_an_older_one_does_not(instance, spark_events):
    _, child, events = spark_events
    for e in events:
        ingest_event(e)
    error = facet("ErrorMessageRunFacet", "1-0-1", message="Job aborted: disk full",
                  programmingLanguage="JAVA", stackTrace="java.io.IOException: disk full")
    stale = ingest_event(event("FAIL", child, at=2.5, errorMessage=error))
    assert stale.status == "completed" and not stale.corrected
    later = ingest_event(event("FAIL", child, at=60, errorMessage=error))
    assert later.corrected and later.status == "errored"
    run = ln.Run.get(external_id=child)
    assert run.status == "errored" and "disk full" in run.error
    change = ln.RecordChange.filter(record_uid=run.uid).order_by("-id").first()
    assert change.previous["status"] == "completed"


def test_a_child_before_its_parent_waits_as_a_scheduled_parent(instance, spark_events):
    parent, child, events = spark_events
    ingest_event(events[3])                              # the child's COMPLETE comes first
    waiting = ln.Run.get(external_id=parent)
    assert waiting.status == "scheduled"
    ingest_event(events[0])
    assert ln.Run.get(external_id=parent).status == "started"
    ingest_event(events[4])
    assert ln.Run.get(external_id=parent).status == "completed"
    assert ln.Run.filter(external_source="openlineage").count() == 2


def test_export_then_ingest_elsewhere_gives_the_same_graph(instance, tmp_path, backend, request):
    build(tmp_path / "work")
    exported = list(iter_events())
    other_instance(backend, tmp_path, request)
    for e in reversed(exported):
        ingest_event(e)
    again = list(iter_events())
    assert graph(again) == graph(exported)
    for e in exported:                                   # and once more: nothing new
        ingest_event(e)
    assert graph(list(iter_events())) == graph(exported)
    statuses = {e["run"]["facets"]["lineage"]["status"] for e in again}
    assert {"completed", "errored", "aborted", "cached", "skipped", "started"} <= statuses
    assert "hunter2" not in json.dumps(again)


def test_secrets_in_foreign_events_are_redacted(instance):
    own = {"_producer": PRODUCER, "_schemaURL": "https://example.com/x.json",
           "uid": "x", "status": "started", "params": {"password": "hunter2", "n": 1}}
    e = event("START", str(uuid.uuid4()), lineage=own)
    e["job"]["facets"]["sourceCodeLocation"] = facet(
        "SourceCodeLocationJobFacet", "1-1-0", type="git", url="https://u:tok123@git.example/r",
        repoUrl="https://u:tok123@git.example/r.git")
    recorded = ingest_event(e)
    run = ln.Run.get(recorded.run_uid)
    assert run.params == {"password": "***", "n": 1}
    assert "tok123" not in json.dumps(run.git)


def test_reference_artifacts_are_left_alone_by_the_doctor(instance, spark_events):
    from lineage.artifacts.doctor import run_doctor

    for e in spark_events[2]:
        ingest_event(e)
    report = run_doctor()
    assert not report.errors and not report.missing and not report.orphans


BROKEN = [
    ("not an object", []),
    ("no eventTime", lambda e: e.pop("eventTime")),
    ("bad time", lambda e: e.update(eventTime="yesterday")),
    ("bad type", lambda e: e.update(eventType="DONE")),
    ("no run", lambda e: e.pop("run")),
    ("bad run id", lambda e: e["run"].update(runId="42")),
    ("no job name", lambda e: e["job"].pop("name")),
    ("dataset without name", lambda e: e["inputs"].append({"namespace": "x"})),
    ("facet without _producer", lambda e: e["run"]["facets"].update(x={"_schemaURL": "https://a/b"})),
    ("inputs not a list", lambda e: e.update(inputs={})),
]


@pytest.mark.parametrize(("what", "change"), BROKEN, ids=[b[0] for b in BROKEN])
def test_invalid_events_are_refused_as_the_official_schema_refuses_them(instance, what, change):
    good = event("START", str(uuid.uuid4()), inputs=[("a", "b", None)])
    assert problems(good) == [] and errors(good) == []
    if callable(change):
        bad = json.loads(json.dumps(good))
        change(bad)
    else:
        bad = change
    if isinstance(bad, dict):
        assert errors(bad), f"the official schema accepts {what}"
    assert problems(bad), what
    with pytest.raises(ValidationError, match="not a valid OpenLineage run event"):
        ingest_event(bad)
    assert ln.Run.filter().count() == 0


def test_a_reference_says_it_has_no_content(instance, spark_events):
    from lineage.ui.preview import download, preview

    for e in spark_events[2]:
        ingest_event(e)
    reference = ln.Artifact.get(kind="reference", object_key="marts/daily_orders")
    for action in (reference.cache, reference.load, reference.open):
        with pytest.raises(ValidationError, match="is a reference to 'marts/daily_orders'"):
            action()
    assert preview(reference)["kind"] == "none"
    assert "no content" in preview(reference)["reason"]
    with pytest.raises(ValidationError, match="no content to download"):
        download(reference)
