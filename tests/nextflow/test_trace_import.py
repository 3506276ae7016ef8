"""`lineage nextflow import trace.txt`: trace files as Nextflow writes them (docs "tracing")."""

from __future__ import annotations


import pytest

import lineage as ln
from nextflow_data import a_run, post

#: The default columns, human-readable (the documentation's example rows; a retried task,
#: a cached one, a failed one, and "-" for values Nextflow did not get).
DEFAULT = """\
task_id\thash\tnative_id\tname\tstatus\texit\tsubmit\tduration\trealtime\t%cpu\tpeak_rss\tpeak_vmem\trchar\twchar
19\t45/ab752a\t2032\tblast (1)\tCOMPLETED\t0\t2014-10-23 16:33:16.288\t1m\t5s\t0.0%\t29.8 MB\t354 MB\t33.3 MB\t0
20\t72/db873d\t2033\tblast (2)\tFAILED\t137\t2014-10-23 16:34:17.211\t30s\t10s\t35.7%\t152.8 MB\t428.1 MB\t192.7 MB\t1 MB
28\tb4/0f9613\t2041\texonerate (1)\tCOMPLETED\t0\t2014-10-23 16:38:19.657\t1m 30s\t1m 11s\t94.3%\t611.6 MB\t693.8 MB\t961.2 GB\t6.1 GB
29\t5e/11aa02\t2042\tblast (2)\tCOMPLETED\t0\t2014-10-23 16:40:01.001\t30s\t352ms\t4.5%\t289.5 MB\t381.6 MB\t33.3 MB\t121 KB
30\t4f/1ad1f0\t-\tsimilarity (1)\tCACHED\t0\t2014-10-23 16:45:50.961\t10m 2s\t9m 16s\t95.5%\t706.2 MB\t764 MB\t1.6 TB\t172.4 GB
"""

#: Custom `trace.fields` with `trace.raw = true` (milliseconds, bytes, epoch milliseconds),
#: and a column this version of lineage does not know.
RAW = """\
task_id\thash\tname\tprocess\ttag\tstatus\texit\tattempt\tcontainer\tcpus\tmemory\ttime\tsubmit\tstart\tcomplete\tduration\trealtime\t%cpu\t%mem\trss\tworkdir\tfuture_metric
1\t01/000001\tmake_ot_config\tmake_ot_config\t-\tCOMPLETED\t0\t1\tnfcore/hlatyping:1.1.1\t2\t7516192768\t7200000\t1538912530498\t1538912530629\t1538912731599\t201101\t69\t12.5\t0.1\t10469376\t/work/01/000001aa\t42
2\t02/000002\trun_optitype (sample1)\trun_optitype\tsample1\tFAILED\t137\t1\t-\t2\t7516192768\t7200000\t1538912531498\t1538912531629\t1538912732599\t201101\t69\t99.0\t1.5\t10469376\t/work/02/000002bb\t7
3\t03/000003\trun_optitype (sample1)\trun_optitype\tsample1\tCOMPLETED\t0\t2\t-\t2\t7516192768\t7200000\t1538912741498\t1538912741629\t1538912931599\t190101\t60\t99.0\t1.5\t10469376\t/work/03/000003cc\t7
"""


def _tasks(workflow: ln.Run) -> dict[tuple[str, int], ln.Run]:
    found = ln.Run.filter(initiated_by_run_id=workflow.id).all()
    return {(r.name, r.attempt): r for r in found}


def _workflow(name: str) -> ln.Run:
    return ln.Run.get(name=name, external_source="nextflow", initiated_by_run_id__isnull=True)


def test_a_default_trace_file_with_human_readable_units(instance, tmp_path, cli):
    path = tmp_path / "trace.txt"
    path.write_text(DEFAULT)
    assert cli("nextflow", "import", str(path)) == 0
    workflow = _workflow("trace")
    assert workflow.status == "completed"  # the failed task's retry completed
    tasks = _tasks(workflow)
    assert set(tasks) == {("blast (1)", 1), ("blast (2)", 1), ("blast (2)", 2),
                          ("exonerate (1)", 1), ("similarity (1)", 1)}
    blast = tasks[("blast (1)", 1)].details
    assert (blast["duration"], blast["realtime"], blast["cpu_percent"]) == (60_000, 5_000, 0.0)
    assert (blast["peak_rss"], blast["wchar"]) == (round(29.8 * 1024**2), 0)
    assert blast["submit"].startswith("2014-10-23T16:33:16.288")
    assert (blast["hash"], blast["native_id"], blast["status"]) == ("45/ab752a", "2032", "COMPLETED")
    exonerate = tasks[("exonerate (1)", 1)].details
    assert exonerate["duration"] == 90_000 and exonerate["realtime"] == 71_000
    assert exonerate["rchar"] == round(961.2 * 1024**3)
    assert tasks[("blast (2)", 2)].details["realtime"] == 352
    failed = tasks[("blast (2)", 1)]
    assert failed.status == "errored" and "exit status 137" in failed.error
    assert tasks[("blast (2)", 2)].status == "completed"
    cached = tasks[("similarity (1)", 1)]
    assert cached.status == "cached" and cached.details["native_id"] is None
    assert cached.entrypoint == "similarity"


def test_importing_twice_changes_nothing(instance, tmp_path, cli, capsys):
    path = tmp_path / "trace.txt"
    path.write_text(DEFAULT)
    assert cli("nextflow", "import", str(path), "--run-name", "goofy_kilby") == 0
    first = {r.uid: (r.status, r.details, r.attempt) for r in ln.Run.filter().all()}
    assert "6 new runs" in capsys.readouterr().out
    assert cli("nextflow", "import", str(path), "--run-name", "goofy_kilby") == 0
    assert "0 new runs" in capsys.readouterr().out
    assert {r.uid: (r.status, r.details, r.attempt) for r in ln.Run.filter().all()} == first


def test_raw_custom_fields_with_attempts_and_an_unknown_column(instance, tmp_path, cli):
    path = tmp_path / "trace-raw.txt"
    path.write_text(RAW)
    assert cli("nextflow", "import", str(path), "--run-name", "raw_run") == 0
    tasks = _tasks(_workflow("raw_run"))
    assert set(tasks) == {("make_ot_config", 1), ("run_optitype (sample1)", 1),
                          ("run_optitype (sample1)", 2)}
    task = tasks[("make_ot_config", 1)]
    d = task.details
    assert (d["memory"], d["time"], d["duration"], d["cpu_percent"], d["cpus"]) == (
        7516192768, 7200000, 201101, 12.5, 2)
    assert d["future_metric"] == "42" and d["tag"] is None
    assert d["workdir"] == "/work/01/000001aa" and d["container"] == "nfcore/hlatyping:1.1.1"
    assert task.started_at.isoformat().startswith("2018-10-07T11:42:10.498")
    assert task.finished_at.isoformat().startswith("2018-10-07T11:45:31.599")
    retry = tasks[("run_optitype (sample1)", 2)]
    assert [r.attempt for r in retry.attempts] == [1, 2]
    assert tasks[("run_optitype (sample1)", 1)].status == "errored"


def test_a_trace_of_a_run_the_weblog_recorded_adds_to_the_same_runs(receiver, tmp_path, cli):
    url = receiver()
    for payload in a_run():
        assert post(url, payload)[0] == 200
    before = {r.uid for r in ln.Run.filter().all()}
    path = tmp_path / "trace.txt"
    path.write_text(RAW)
    assert cli("nextflow", "import", str(path), "--run-name", "friendly_pesquet") == 0
    workflow = _workflow("friendly_pesquet")
    assert set(_tasks(workflow)) >= {("make_ot_config", 1), ("run_optitype (sample1)", 2)}
    # same names, task ids and attempts as the weblog's events: the same runs, no new one
    assert {r.uid for r in ln.Run.filter().all()} == before
    assert _tasks(workflow)[("make_ot_config", 1)].details["future_metric"] == "42"
    assert workflow.transform.key == "nf-core/hlatyping/main.nf"


@pytest.mark.parametrize(("text", "message"), [
    ("", "is empty"),
    ("a\tb\tc\n1\t2\t3\n", "not a Nextflow trace file"),
    ("task_id\tname\tstatus\n1\tx\n", "line 2: 2 values for 3 columns"),
    ("task_id\tname\tduration\n1\tx\tlong\n", "line 2: trace field 'duration'"),
    ("task_id\tname\tstatus\n1\tx\tCOMPLETED\n-\t-\tCOMPLETED\n",
     "line 3: a task record needs one of the fields"),
    (DEFAULT + "31\t1a/2b3c4d\t-\tblast (9)\tCOMPLETED\t0\t-\t-\t-\tmuch\t-\t-\t-\t-\n",
     "line 7: trace field '%cpu'"),
])
def test_a_bad_trace_file_is_refused_and_imports_nothing(instance, tmp_path, cli, capsys,
                                                          text, message):
    path = tmp_path / "trace.txt"
    path.write_text(text)
    assert cli("nextflow", "import", str(path)) == 1
    assert message in capsys.readouterr().err
    assert ln.Run.filter(external_source="nextflow").count() == 0


def test_a_comma_separated_trace(instance, tmp_path):
    from lineage.nextflow.trace import import_trace

    path = tmp_path / "trace.csv"
    path.write_text(DEFAULT.replace("\t", ","))
    summary = import_trace(path)
    assert summary.tasks == 5 and summary.new_runs == 6
