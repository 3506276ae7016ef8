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
