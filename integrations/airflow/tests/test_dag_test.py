"""DAGs run with ``dag.test()``: one process, no DAG-run start hook."""

from __future__ import annotations

import lineage as ln
import pytest

from lineage_airflow import ids


@pytest.fixture
def out(tmp_path, monkeypatch):
    folder = tmp_path / "out"
    folder.mkdir()
    monkeypatch.setenv("LINEAGE_TEST_OUT", str(folder))
    return folder


def task_run(dag_run, task_id, attempt=None):
    external_id = ids.task_external_id(dag_run.dag_id, dag_run.run_id, task_id)
    query = ln.Run.filter(external_source="airflow", external_id=external_id)
    if attempt is not None:
        return query.filter(attempt=attempt).one()
    return query.order_by("-attempt").first()


def test_two_tasks_are_runs_of_one_dag_run(run_dag, out):
    dag_run = run_dag("two_tasks")
    assert str(dag_run.state) == "success"

    dag_lineage = ln.Run.filter(external_source="airflow",
                                external_id=f"two_tasks/{dag_run.run_id}").one()
    assert dag_lineage.status == "completed"
    assert dag_lineage.transform.kind == "airflow"
    assert dag_lineage.transform.key.endswith("two_tasks.py")
    assert dag_lineage.params["rows"] == 4
    assert dag_lineage.params["logical_date"].startswith(str(dag_run.logical_date.date()))

    extract, load = task_run(dag_run, "extract"), task_run(dag_run, "load")
    for run in (extract, load):
        assert run.status == "completed"
        assert run.attempt == 1
        assert run.initiated_by_run_id == dag_lineage.id
        assert run.entrypoint == run.details["task_id"]
    # op_args bound to the function's signature; templates rendered (natively)
    assert extract.params["rows"] == 4 and extract.params["sep"] == ";"
    assert load.params["path"] == str(out / "table.csv")
    # the file is one artifact: the output of extract, the input of load
    table = extract.output_artifacts.one()
    assert [a.id for a in load.input_artifacts.all()] == [table.id]


def test_a_retried_task_has_one_run_per_try(run_dag, out):
    dag_run = run_dag("retry_once")
    assert str(dag_run.state) == "success"
    first, second = task_run(dag_run, "flaky", 1), task_run(dag_run, "flaky", 2)
    assert first.status == "errored"
    assert "ConnectionError: the warehouse did not answer" in first.error
    assert first.details["airflow_state"] == "up_for_retry"
    assert second.status == "completed" and second.error is None
    assert second.details["airflow_state"] == "success"
    assert first.external_id == second.external_id
    assert first.details["ti_id"] != second.details["ti_id"]  # Airflow's id is per try
    assert [r.id for r in second.attempts] == [first.id, second.id]
    assert first.initiated_by_run_id == second.initiated_by_run_id
    assert second.params == {"threshold": 7, "logical_date": second.params["logical_date"]}


def test_a_failed_task_keeps_its_error_and_its_downstream_is_skipped(run_dag, out):
    dag_run = run_dag("failure")
    assert str(dag_run.state) == "failed"
    validate = task_run(dag_run, "validate")
    assert validate.status == "errored"
    assert "ValueError: batch b-17 has 3 rows with a negative amount" in validate.error
    assert validate.details["airflow_state"] == "failed"
    assert validate.params["batch"] == "b-17"
    publish = task_run(dag_run, "publish")
    assert publish.status == "skipped"
    assert publish.details["airflow_state"] == "upstream_failed"
    dag_lineage = ln.Run.get(publish.initiated_by_run_id)
    assert dag_lineage.status == "errored" and "task_failure" in dag_lineage.error


def test_skipped_branches_and_self_skipping_tasks_are_skipped(run_dag, out):
    dag_run = run_dag("branch")
    assert task_run(dag_run, "choose").status == "completed"
    assert task_run(dag_run, "left").status == "completed"
    right = task_run(dag_run, "right")
    assert right.status == "skipped" and right.details["airflow_state"] == "skipped"
    nothing = task_run(dag_run, "nothing_to_do")
    assert nothing.status == "skipped"
    assert nothing.details["ti_id"]  # recorded by its own process: it did start
    children = ln.Run.filter(initiated_by_run_id=right.initiated_by_run_id).count()
    assert children == 4


def test_xcom_values_passed_between_tasks_are_run_dependencies(run_dag, out):
    dag_run = run_dag("taskflow")
    extract, transform, total = (task_run(dag_run, t) for t in ("extract", "transform", "total"))
    assert transform.params["data"] == {"a": 1, "b": 2}  # the XCom value it received
    assert transform.params["factor"] == 5
    assert [r.id for r in transform.upstream_runs.all()] == [extract.id]
    squares = ln.Run.filter(external_source="airflow",
                            external_id__startswith=f"taskflow/{dag_run.run_id}/square[").all()
    assert sorted(r.details["map_index"] for r in squares) == [0, 1, 2]
    assert sorted(r.params["x"] for r in squares) == [1, 2, 3]
    numbers = task_run(dag_run, "numbers")
    assert all([u.id for u in r.upstream_runs.all()] == [numbers.id] for r in squares)
    assert {r.id for r in total.upstream_runs.all()} == {transform.id} | {r.id for r in squares}
    assert extract.upstream_runs.count() == 0


def test_outlets_and_hook_lineage_assets_become_artifacts(run_dag, out, moto_server, monkeypatch):
    from lineage.testing import use_s3_endpoint

    use_s3_endpoint(monkeypatch, moto_server, AWS_MAX_ATTEMPTS="1")  # where S3 outlets are looked up (no bucket there)
    dag_run = run_dag("assets")
    write, convert = task_run(dag_run, "write"), task_run(dag_run, "convert")
    assert write.params["bash_command"].startswith("printf")
    raw = write.output_artifacts.filter(kind="file").one()
    assert raw.hash and raw.size == (out / "raw.csv").stat().st_size
    # an s3 outlet that cannot be read (here: no such bucket) is listed and a reference
    assert write.details["outlets"] == [f"file://{out}/raw.csv", "s3://bucket/never-written.csv"]
    never = write.output_artifacts.filter(kind="reference").one()
    assert (never.storage.root, never.object_key) == ("s3://bucket", "never-written.csv")
    # ObjectStoragePath reads and writes reach Airflow's hook-lineage collector
    assert [a.id for a in convert.input_artifacts.all()] == [raw.id]
    clean = convert.output_artifacts.one()
    assert clean.size == (out / "clean.csv").stat().st_size
    assert convert.details["written"] == [f"file://{out}/clean.csv"]


def test_secrets_rendered_into_arguments_never_reach_the_database(run_dag, out, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", "postgresql://loader:pw-Xq93kd@db.internal:5432/dw")
    monkeypatch.setenv("AIRFLOW_VAR_SERVICE_API_KEY", "key-7781fa")
    dag_run = run_dag("secrets")
    run = task_run(dag_run, "connect")
    assert run.status == "completed"
    assert run.params["host"] == "db.internal"
    stored = repr(run.params) + repr(run.details) + repr(ln.Run.get(run.initiated_by_run_id).params)
    assert "pw-Xq93kd" not in stored and "key-7781fa" not in stored
    assert run.params["credential"] == "***" and run.params["api"] == "***"


def test_a_file_written_by_a_task_and_read_by_a_tracked_script_is_one_node(run_dag, out):
    dag_run = run_dag("handoff")
    produce, count = task_run(dag_run, "produce"), task_run(dag_run, "count")
    assert count.status == "completed"
    rows = produce.output_artifacts.one()
    script = ln.Run.filter(initiated_by_run_id=count.id).one()  # started inside the Bash task
    assert script.transform.key.endswith("count_rows.py") and script.status == "completed"
    assert [a.id for a in script.input_artifacts.all()] == [rows.id]
    graph = ln.lineage_graph(rows)
    artifact_nodes = [n for n, d in graph.nodes(data=True) if d["kind"] == "artifact"]
    run_uids = {d["uid"] for _, d in graph.nodes(data=True) if d["kind"] == "run"}
    assert artifact_nodes == [f"artifact:{rows.uid}"] or len(artifact_nodes) == 1
    assert {produce.uid, script.uid} <= run_uids
