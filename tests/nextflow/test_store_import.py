"""`lineage nextflow import .lineage/`: Nextflow's lineage store, in both layouts."""

from __future__ import annotations

import hashlib
import json

import pytest

import lineage as ln
from nextflow_data import (MULTIQC, QUANT, STORE_RUN, STORE_SESSION, WF, event, lineage_store,
                           post, trace)

WORKFLOW_ID = f"{STORE_RUN}/{STORE_SESSION}"


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _state() -> dict:
    """Everything an import writes, to compare two imports."""
    runs = {r.uid: (r.external_id, r.attempt, r.status, r.params, r.details, r.transform_id,
                    sorted(a.uid for a in r.input_artifacts.all()),
                    sorted(a.uid for a in r.output_artifacts.all()))
            for r in ln.Run.filter().all()}
    artifacts = {a.uid: (a.hash, a.run_id) for a in ln.Artifact.filter().all()}
    return {"runs": runs, "artifacts": artifacts, "transforms": ln.Transform.filter().count()}


def _check(launch) -> None:
    workflow = ln.Run.get(external_source="nextflow", external_id=WORKFLOW_ID)
    assert workflow.status == "completed" and workflow.name == STORE_RUN
    assert workflow.transform.key == "nextflow-io/rnaseq-nf/main.nf"
    assert "QUANT(reads)" in workflow.transform.source_code
    assert workflow.params["reads"] == "data/ggal_gut_{1,2}.fq"
    assert workflow.params["api_key"] == "***"
    assert workflow.git["commit"] == "86165b8c81d43a1f57363964431395152e353e56"
    assert workflow.details["lid"] == f"lid://{WF}"
    assert workflow.details["config"]["process"] == {"executor": "local"}
    assert workflow.details["config"]["aws"] == {"accessKey": "***", "secretKey": "***"}
    assert "very-secret" not in repr((workflow.params, workflow.details))
    assert workflow.started_at.isoformat().startswith("2025-05-09T13:27:00")

    tasks = {r.name: r for r in ln.Run.filter(initiated_by_run_id=workflow.id).all()}
    assert set(tasks) == {"QUANT (ggal_gut)", "MULTIQC"}
    quant, multiqc = tasks["QUANT (ggal_gut)"], tasks["MULTIQC"]
    assert quant.entrypoint == "QUANT" and quant.status == "completed"
    assert quant.params == {"sample": "ggal_gut"}
    assert quant.details["lid"] == f"lid://{QUANT}"
    assert quant.details["hash"] == "ef/f88468" and quant.details["full_hash"] == QUANT
    assert quant.details["conda"] == "file:///conda/env-4a436c23"
    assert "salmon quant" in quant.details["script"]
    assert multiqc.details["container"] == "quay.io/multiqc:1.27"
    assert multiqc.finished_at.isoformat().startswith("2025-05-09T18:27:34.236")

    # files: hashed by lineage, the output of one task the input of the next
    reads = launch / "data" / "ggal_gut_1.fq"
    quant_sf = launch / "work" / QUANT[:2] / QUANT[2:] / "quant.sf"
    report = launch / "results" / "multiqc_report.html"
    [quant_in] = quant.input_artifacts.all()
    assert quant_in.hash == _sha256(reads)
    [quant_out] = quant.output_artifacts.all()
    assert quant_out.hash == _sha256(quant_sf)
    assert [a.uid for a in multiqc.input_artifacts.all()] == [quant_out.uid]
    [multiqc_out] = multiqc.output_artifacts.all()
    assert multiqc_out.hash == _sha256(report)  # the published copy is the same artifact
    assert multiqc_out.key == "multiqc_report.html"  # its path in the output folder
    assert not workflow.output_artifacts.all()
    assert ln.Artifact.filter().count() == 3


@pytest.mark.parametrize("layout", ["v1beta1", "old"])
def test_a_lineage_store_and_its_files(instance, tmp_path, cli, capsys, layout):
    launch = tmp_path / "launch"
    store = lineage_store(launch, layout=layout)
    assert cli("nextflow", "import", str(store)) == 0
    out = capsys.readouterr().out
    assert "2 task executions, 3 new runs, 3 files" in out
    _check(launch)


def test_importing_a_store_twice_changes_nothing(instance, tmp_path, cli, capsys):
    store = lineage_store(tmp_path / "launch")
    assert cli("nextflow", "import", str(store)) == 0
    first = _state()
    assert cli("nextflow", "import", str(store)) == 0
    assert "0 new runs" in capsys.readouterr().out
    assert _state() == first


def test_a_store_of_a_run_the_weblog_recorded_adds_to_the_same_runs(receiver, tmp_path, cli):
    url = receiver()
    started = event("started", run_name=STORE_RUN, session=STORE_SESSION,
                    metadata={"parameters": {"reads": "data/ggal_gut_{1,2}.fq"},
                              "workflow": {"sessionId": STORE_SESSION, "scriptName": "main.nf",
                                           "repository": "https://github.com/nextflow-io/rnaseq-nf",
                                           "commitId": "86165b8c81d43a1f57363964431395152e353e56",
                                           "commandLine": "nextflow run rnaseq-nf"}})
    done = event("process_completed", run_name=STORE_RUN, session=STORE_SESSION,
                 trace=trace(4, name="QUANT (ggal_gut)", status="COMPLETED", hash="ef/f88468"))
    for payload in (started, done):
        assert post(url, payload)[0] == 200
    before = {r.uid for r in ln.Run.filter().all()}
    assert cli("nextflow", "import", str(lineage_store(tmp_path / "launch"))) == 0
    after = {r.uid: r for r in ln.Run.filter().all()}
    assert before <= set(after) and len(after) == len(before) + 1  # only MULTIQC is new
    quant = ln.Run.get(name="QUANT (ggal_gut)")
    assert quant.details["task_id"] == 4 and quant.details["lid"] == f"lid://{QUANT}"
    assert quant.output_artifacts.count() == 1


def test_a_malformed_record_is_refused_and_nothing_is_written(instance, tmp_path, cli, capsys):
    store = lineage_store(tmp_path / "launch")
    bad = store / ".meta" / MULTIQC / ".data.json"
    bad.write_text("{not json")
    assert cli("nextflow", "import", str(store)) == 1
    err = capsys.readouterr().err
    assert str(bad) in err and "not JSON" in err
    assert ln.Run.filter().count() == 0 and ln.Artifact.filter().count() == 0


def test_a_task_of_a_workflow_missing_from_the_store_is_refused(instance, tmp_path, cli, capsys):
    store = lineage_store(tmp_path / "launch")
    path = store / ".meta" / QUANT / ".data.json"
    data = json.loads(path.read_text())
    data["spec"]["workflowRun"] = "lid://0000000000000000000000000000dead"
    path.write_text(json.dumps(data))
    assert cli("nextflow", "import", str(store)) == 1
    assert "not in" in capsys.readouterr().err and ln.Run.filter().count() == 0


def test_a_folder_without_records(instance, tmp_path, cli, capsys):
    (tmp_path / "empty").mkdir()
    assert cli("nextflow", "import", str(tmp_path / "empty")) == 1
    assert "holds no Nextflow lineage record" in capsys.readouterr().err


def test_a_launch_record_and_the_run_record_that_ends_it(instance, tmp_path, cli):
    """Stores where a WorkflowLaunch starts the run and a WorkflowRun records its end."""
    store = lineage_store(tmp_path / "launch")
    path = store / ".meta" / WF / ".data.json"
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "kind": "WorkflowLaunch"}))
    end = store / ".meta" / "5e1f00aa5e1f00aa5e1f00aa5e1f00aa" / ".data.json"
    end.parent.mkdir()
    end.write_text(json.dumps({"version": "lineage/v1beta1", "kind": "WorkflowRun", "spec": {
        "createdAt": "2025-05-09T13:30:00Z", "launch": f"lid://{WF}", "status": "FAILED",
        "outputs": []}}))
    assert cli("nextflow", "import", str(store)) == 0
    workflow = ln.Run.get(external_source="nextflow", external_id=WORKFLOW_ID)
    assert workflow.status == "errored"
    assert ln.Run.filter(initiated_by_run_id=workflow.id).count() == 2
