"""The engine lifecycle: runs found by the engine's id, attempts, corrections, run edges."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest

import lineage as ln
from lineage import lifecycle
from lineage.errors import ValidationError


@pytest.fixture
def workflow(instance):
    return lifecycle.get_or_create_transform("workflow.py", "def main(): ...", "prefect")


def _engine(workflow, external_id="task-1", **kwargs):
    return lifecycle.engine_run(workflow, external_source="prefect", external_id=external_id,
                                **kwargs)


def test_the_same_event_twice_gives_one_run(workflow):
    first = _engine(workflow, params={"n": 1}, entrypoint="extract")
    again = _engine(workflow, params={"n": 1}, entrypoint="extract")
    assert again.id == first.id and again.uid == first.uid
    assert ln.Run.filter(external_id="task-1").count() == 1
    assert again.params == {"n": 1} and again.entrypoint == "extract"
    assert again.attempt == 1 and again.external_source == "prefect"


def test_a_finish_that_arrives_before_the_start_keeps_its_status(workflow):
    start = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
    end = start + timedelta(minutes=5)
    finished = _engine(workflow, status="completed", finished_at=end,
                       details={"exit": 0})
    assert finished.status == "completed" and finished.finished_at == end
    started = _engine(workflow, status="started", started_at=start, params={"day": "monday"},
                      entrypoint="load", details={"workdir": "/w/ab"})
    assert started.id == finished.id
    run = ln.Run.get(started.uid)
    assert run.status == "completed"                      # never moved back to started
    assert run.finished_at == end and run.started_at == start
    assert run.params == {"day": "monday"} and run.entrypoint == "load"
    assert run.details == {"exit": 0, "workdir": "/w/ab"}  # merged


def test_an_open_run_is_finished_by_a_later_event_with_a_final_status(workflow):
    _engine(workflow, status="scheduled")
    assert ln.Run.get(external_id="task-1").status == "scheduled"
    _engine(workflow, status="started")
    assert ln.Run.get(external_id="task-1").status == "started"
    _engine(workflow, status="errored", error="Traceback ...\nValueError: boom")
    run = ln.Run.get(external_id="task-1")
    assert run.status == "errored" and "boom" in run.error and run.finished_at is not None
    _engine(workflow, status="started")                   # a late duplicate start
    assert ln.Run.get(external_id="task-1").status == "errored"


def test_first_writer_wins_for_fields_already_set(workflow):
    _engine(workflow, params={"n": 1}, entrypoint="a")
    run = _engine(workflow, params={"n": 2}, entrypoint="b")
    assert run.params == {"n": 1} and run.entrypoint == "a"


def test_each_attempt_is_its_own_run_and_attempts_lists_them(workflow):
    first = _engine(workflow, attempt=1)
    lifecycle.finish_run(first, "errored", "ValueError: flaky")
    second = _engine(workflow, attempt=2)
    lifecycle.finish_run(second, "completed")
    assert first.id != second.id
    assert [(r.attempt, r.status) for r in second.attempts] == [(1, "errored"), (2, "completed")]
    assert [r.attempt for r in first.attempts] == [1, 2]
    assert "flaky" in ln.Run.get(first.uid).error
    assert lifecycle.find_engine_run("prefect", "task-1").id == second.id
    assert lifecycle.find_engine_run("prefect", "task-1", attempt=1).id == first.id
    assert lifecycle.find_engine_run("prefect", "nope") is None


def test_a_run_without_an_external_id_is_its_only_attempt(workflow):
    run = lifecycle.start_run(workflow)
    assert run.attempt == 1
    assert [r.id for r in ln.Run.get(run.uid).attempts] == [run.id]


def test_same_external_id_from_two_engines_are_two_runs(workflow):
    a = lifecycle.engine_run(workflow, external_source="prefect", external_id="42")
    b = lifecycle.engine_run(workflow, external_source="dagster", external_id="42")
    assert a.id != b.id


@pytest.mark.parametrize("status", ["cached", "skipped"])
def test_cached_and_skipped_are_final(workflow, status):
    run = _engine(workflow)
    assert lifecycle.finish_run(run, status)
    assert not lifecycle.finish_run(run, "completed")
    assert ln.Run.get(run.uid).status == status
    assert ln.Run.filter(status=status).count() == 1


def test_correcting_a_final_status_keeps_the_earlier_value(workflow):
    run = _engine(workflow)
    lifecycle.finish_run(run, "errored", "RuntimeError: disk full")
    assert lifecycle.correct_status(run, "completed", reason="marked success by an operator")
    stored = ln.Run.get(run.uid)
    assert stored.status == "completed" and stored.error is None
    change = ln.RecordChange.get(registry="Run", record_id=run.id)
    assert change.fields["status"] == "completed"
    assert change.fields["reason"] == "marked success by an operator"
    assert change.previous["status"] == "errored"
    assert "disk full" in change.previous["error"]
    assert not lifecycle.correct_status(run, "completed")  # no change, no second record
    assert ln.RecordChange.filter(registry="Run", record_id=run.id).count() == 1


def test_correcting_an_open_run_simply_finishes_it(workflow):
    run = _engine(workflow)
    assert lifecycle.correct_status(run, "skipped")
    assert ln.Run.get(run.uid).status == "skipped"
    assert ln.RecordChange.filter(registry="Run", record_id=run.id).count() == 0


def test_upstream_runs_are_run_to_run_edges(workflow):
    a = _engine(workflow, "a")
    b = _engine(workflow, "b")
    c = _engine(workflow, "c")
    lifecycle.record_upstream(c, a, b, a, c)  # duplicates and a self-edge are ignored
    lifecycle.record_upstream(c, a)
    assert sorted(r.external_id for r in ln.Run.get(c.uid).upstream_runs) == ["a", "b"]
    assert [r.external_id for r in ln.Run.get(a.uid).downstream_runs] == ["c"]
    assert ln.Run.get(a.uid).upstream_runs.count() == 0


def test_engine_run_records_upstream_runs_with_the_run(workflow):
    a = _engine(workflow, "a")
    b = _engine(workflow, "b")
    c = lifecycle.engine_run(workflow, external_source="prefect", external_id="c",
                             upstream=[a, b.id, a])
    again = lifecycle.engine_run(workflow, external_source="prefect", external_id="c",
                                 upstream=[b, c])  # an event repeated: nothing doubles
    assert again.id == c.id
    assert sorted(r.external_id for r in ln.Run.get(c.uid).upstream_runs) == ["a", "b"]
    assert ln.Run.get(c.uid).upstream_runs.count() == 2


def test_parent_links_task_runs_to_the_engine_run(workflow):
    flow_run = _engine(workflow, "flow-1", entrypoint="pipeline")
    task = _engine(workflow, "task-9", parent=flow_run)
    assert ln.Run.get(task.uid).initiated_by_run.uid == flow_run.uid
    assert [r.uid for r in ln.Run.get(flow_run.uid).initiated_runs] == [task.uid]


def test_engine_runs_do_not_inherit_the_current_run_unless_asked(workflow):
    outer = lifecycle.start_run(workflow)
    activation = lifecycle.activate(outer)
    try:
        plain = _engine(workflow, "x")
        child = _engine(workflow, "y", inherit_parent=True)
    finally:
        lifecycle.deactivate(activation)
    assert plain.initiated_by_run_id is None
    assert child.initiated_by_run_id == outer.id


def test_projects_link_the_run_and_its_transform(workflow):
    run = _engine(workflow, projects=["Engines"])
    _engine(workflow, projects=["Engines", "Second"])  # repeated event: idempotent links
    project = ln.Project.get(name="Engines")
    assert [r.uid for r in project.runs] == [run.uid]
    assert sorted(p.name for p in ln.Run.get(run.uid).projects) == ["Engines", "Second"]
    assert [t.key for t in ln.Project.get(name="Second").transforms] == ["workflow.py"]


@pytest.mark.parametrize("bad", [
    {"external_id": ""}, {"external_id": 12}, {"external_source": " "}, {"attempt": 0},
    {"attempt": True}, {"status": "running"},
])
def test_bad_references_are_refused_before_anything_is_written(workflow, bad):
    values = {"external_source": "prefect", "external_id": "t", **bad}
    with pytest.raises(ValidationError):
        lifecycle.engine_run(workflow, **values)
    assert ln.Run.filter().count() == 0


def test_params_of_engine_runs_are_escaped_and_redacted(workflow):
    run = _engine(workflow, params={"password": "hunter2", "obj": object()})
    stored = ln.Run.get(run.uid).params
    assert "hunter2" not in str(stored)
    assert "object" in str(stored["obj"])


def test_statuses_other_than_final_are_refused_by_finish(workflow):
    run = _engine(workflow)
    with pytest.raises(ValidationError):
        lifecycle.finish_run(run, "started")
    with pytest.raises(ValidationError):
        lifecycle.correct_status(run, "scheduled")


# --- files -------------------------------------------------------------------------
def test_a_file_written_by_one_task_and_read_by_another_is_one_artifact(workflow, tmp_path):
    writer = _engine(workflow, "writer")
    reader = _engine(workflow, "reader")
    path = tmp_path / "table.csv"
    path.write_text("a,b\n1,2\n")
    out = lifecycle.record_file(writer, path, role="output", key="results/table.csv")
    inp = lifecycle.record_file(reader, path, role="input")
    assert out.id == inp.id and out.key == "results/table.csv"
    artifact = ln.Artifact.get(key="results/table.csv")
    assert artifact.run.uid == writer.uid
    assert [r.uid for r in artifact.input_of_runs] == [reader.uid]
    assert [a.uid for a in ln.Run.get(reader.uid).input_artifacts] == [artifact.uid]


def test_an_input_nobody_made_is_saved_without_a_creating_run(workflow, tmp_path):
    outer = lifecycle.start_run(workflow)  # a process-wide run must not become its creator
    activation = lifecycle.activate(outer, process_wide=True)
    try:
        reader = _engine(workflow, "reader")
        path = tmp_path / "raw.txt"
        path.write_text("raw data\n")
        artifact = lifecycle.record_file(reader, path, role="input")
    finally:
        lifecycle.deactivate(activation)
    assert artifact.run_id is None
    assert [r.uid for r in artifact.input_of_runs] == [reader.uid]
    assert ln.Run.get(outer.uid).output_artifacts.count() == 0


def test_a_later_run_writing_the_same_content_becomes_its_creator(workflow, tmp_path):
    first = _engine(workflow, "first")
    second = _engine(workflow, "second")
    path = tmp_path / "same.txt"
    path.write_text("same\n")
    lifecycle.record_file(first, path, role="output")
    artifact = lifecycle.record_file(second, path, role="output")
    assert artifact.run_id == second.id
    assert [r.uid for r in artifact.previous_runs] == [first.uid]


def test_a_missing_file_is_reported_as_none(workflow, tmp_path):
    run = _engine(workflow)
    assert lifecycle.record_file(run, tmp_path / "gone.txt", role="output") is None
    with pytest.raises(ValidationError):
        lifecycle.record_file(run, tmp_path, role="both")


def test_record_file_works_when_existing_content_is_an_error_by_setting(workflow, tmp_path):
    ln.settings.upon_artifact_create_if_hash_exists = "error"
    writer = _engine(workflow, "writer")
    reader = _engine(workflow, "reader")
    path = tmp_path / "x.txt"
    path.write_text("x\n")
    out = lifecycle.record_file(writer, path, role="output")
    again = lifecycle.record_file(reader, path, role="input")
    assert again.id == out.id


# --- transforms ----------------------------------------------------------------------
def _task_function(x):
    return x + 1


def test_function_transform_is_the_file_of_the_function(instance):
    source = lifecycle.function_transform(_task_function, "prefect")
    assert source.transform.key == "test_engine_runs.py"
    assert "def _task_function" in source.transform.source_code
    assert source.path is not None and source.path.name == "test_engine_runs.py"
    assert lifecycle.function_transform(_task_function, "prefect").transform.id == source.transform.id


def test_file_transform_of_a_workflow_file(instance, tmp_path):
    snakefile = tmp_path / "Snakefile"
    snakefile.write_text("rule all:\n    input: 'a.txt'\n")
    source = lifecycle.file_transform(snakefile, "snakemake")
    assert source.transform.key == "Snakefile" and source.transform.kind == "snakemake"
    assert source.transform.source_code.startswith("rule all")
    snakefile.write_text("rule all:\n    input: 'b.txt'\n")
    lifecycle.sources._file_source.cache_clear()
    assert lifecycle.file_transform(snakefile, "snakemake").transform.version == 2
    remote = lifecycle.file_transform("/elsewhere/main.nf", "nextflow", source="workflow {}")
    assert remote.transform.key == "main.nf" and remote.git is None


# --- guard -------------------------------------------------------------------------------
def test_guarded_logs_once_and_lets_the_pipeline_go_on(caplog):
    caplog.set_level(logging.DEBUG, logger="lineage.testengine")

    @lifecycle.guarded("testengine", "a task start")
    def hook(value):
        raise RuntimeError(f"database unreachable {value}")

    assert hook(1) is None
    assert hook(2) is None
    with lifecycle.guarded("testengine", "a task start"):
        raise RuntimeError("third")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "database unreachable 1" in warnings[0].getMessage()
    assert "pipeline goes on" in warnings[0].getMessage()
    assert len([r for r in caplog.records if r.levelno == logging.DEBUG]) == 2
    assert lifecycle.guard.failures["testengine"] == 3


def test_guarded_logs_a_database_outage_once_whatever_the_driver_says(caplog, tmp_path):
    import sqlite3

    from lineage.errors import DatabaseUnreachable

    caplog.set_level(logging.DEBUG, logger="lineage.outage")
    path = tmp_path / "read-only.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.commit()
    read_only = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    with lifecycle.guarded("outage", "a task end"):
        read_only.execute("INSERT INTO t VALUES (1)")  # sqlite3.OperationalError
    with lifecycle.guarded("outage", "a task end"):
        raise DatabaseUnreachable("cannot reach the database")
    with lifecycle.guarded("outage", "a task end"):
        raise ConnectionRefusedError(111, "Connection refused")
    with lifecycle.guarded("outage", "a task end"):
        raise KeyError("a bug")  # another kind: logged too
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "readonly database" in warnings[0] and "KeyError" in warnings[1]
    assert lifecycle.guard.failures["outage"] == 4


def test_guarded_never_swallows_interrupts():
    with pytest.raises(KeyboardInterrupt):
        with lifecycle.guarded("testengine"):
            raise KeyboardInterrupt
    with pytest.raises(SystemExit):
        with lifecycle.guarded("testengine"):
            raise SystemExit(3)


def test_runs_recorded_under_a_provisional_transform_move_to_the_real_one(workflow):
    provisional = lifecycle.get_or_create_transform("nextflow/unknown", None, "nextflow")
    flow = _engine(provisional, external_id="flow")
    task = _engine(provisional, external_id="flow/task", parent=flow)
    other = _engine(provisional, external_id="another-flow")
    elsewhere = _engine(workflow, external_id="flow/task-on-its-own-transform", parent=flow)

    assert lifecycle.move_runs(flow, workflow, from_transform=provisional) == 2
    assert flow.transform_id == workflow.id
    assert ln.Run.get(task.uid).transform_id == workflow.id
    assert ln.Run.get(other.uid).transform_id == provisional.id  # not initiated by `flow`
    assert ln.Run.get(elsewhere.uid).transform_id == workflow.id
    change = ln.RecordChange.filter(record_uid=task.uid).first()
    assert change.fields == {"transform_id": workflow.id}
    assert change.previous == {"transform_id": provisional.id}
    assert lifecycle.move_runs(flow, workflow, from_transform=provisional) == 0  # idempotent


def test_an_empty_command_line_is_filled_in_by_a_later_event(workflow):
    first = _engine(workflow, cli_args=[])
    assert first.cli_args == []
    later = _engine(workflow, cli_args=["nextflow", "run", "main.nf"])
    assert later.cli_args == ["nextflow", "run", "main.nf"]
    again = _engine(workflow, cli_args=["something", "else"])
    assert again.cli_args == ["nextflow", "run", "main.nf"]  # the first known one stays


def test_a_correction_can_carry_the_real_end_time(workflow):
    end = datetime(2026, 12, 1, 10, 5, tzinfo=timezone.utc)
    run = _engine(workflow, status="aborted", finished_at=end + timedelta(hours=1))
    assert lifecycle.correct_status(run, "completed", finished_at=end, reason="late end event")
    stored = ln.Run.get(run.uid)
    assert (stored.status, stored.finished_at, stored.error) == ("completed", end, None)
    assert run.finished_at == end
    change = ln.RecordChange.filter(record_uid=run.uid).order_by("-id").first()
    assert change.previous["status"] == "aborted"
    assert change.previous["finished_at"].startswith("2026-12-01T11:05")


def test_a_run_named_before_it_is_written_links_a_child_started_first(workflow, monkeypatch):
    uid = lifecycle.new_run_uid()
    assert len(uid) == 16 and uid.isalnum() and uid != lifecycle.new_run_uid()
    run = _engine(workflow, uid=uid)
    assert run.uid == uid and ln.Run.get(uid=uid).id == run.id
    again = _engine(workflow, uid=lifecycle.new_run_uid())  # the run exists: its uid stays
    assert again.id == run.id and again.uid == uid
    monkeypatch.setenv(lifecycle.PARENT_ENV, uid)  # what a child process of the engine sees
    child = lifecycle.start_run(lifecycle.get_or_create_transform("child.py", "print(1)", "script"))
    assert child.initiated_by_run_id == run.id
    with pytest.raises(ValidationError, match="new_run_uid"):
        _engine(workflow, external_id="task-2", uid="not a uid")
    taken = _engine(workflow, external_id="task-3", uid=uid)  # another run has it: a new one
    assert taken.uid != uid and taken.id != run.id


def test_an_engine_command_line_and_shell_command_are_redacted(workflow):
    run = _engine(workflow, external_id="redacted",
                  cli_args=["nextflow", "run", "main.nf", "--password", "hunter2", "--api-key=abc"],
                  details={"shellcmd": "mytool --token s3cr3t --out x.txt"})
    stored = ln.Run.get(run.uid)
    assert stored.cli_args == ["nextflow", "run", "main.nf", "--password", "***", "--api-key=***"]
    assert stored.details["shellcmd"] == "mytool --token *** --out x.txt"


def test_a_task_run_whose_parent_is_known_by_id_only_goes_to_the_parents_space(workflow,
                                                                              monkeypatch):
    # The parent's space is read inside the task run's insert, not in a read of its own;
    # no run of this process is known by that id (the parent ran in another process).
    from lineage.lifecycle import runs

    monkeypatch.setattr(runs, "_active", {})
    lifecycle.create_space("team")
    flow_run = _engine(workflow, external_id="flow-1", space="team")
    elsewhere = _engine(workflow, external_id="flow-2")
    task_run = _engine(workflow, external_id="task-in-team", parent=flow_run.id)
    assert task_run.space_id == flow_run.space_id != elsewhere.space_id
    assert ln.Run.get(task_run.id).space_id == flow_run.space_id
    assert task_run.refresh().space_id == flow_run.space_id
    again = _engine(workflow, external_id="task-in-team", parent=elsewhere.id)
    assert again.id == task_run.id and again.space_id == flow_run.space_id


@pytest.mark.parametrize("defer", [False, True])
@pytest.mark.parametrize(("field", "value", "problem"), [
    ("name", "task\x00one", "NUL"),
    ("entrypoint", "bad \udcff text", "Unicode"),
    ("external_source", "e" * 65, "at most 64"),
])
def test_engine_texts_are_checked_as_run_checks_them(workflow, field, value, problem, defer):
    """The engine's own texts take `Field.validate` unless they are plain ASCII that fits."""
    values = {"external_source": "prefect", "external_id": "t", field: value}
    with pytest.raises(ValidationError, match=problem):
        lifecycle.engine_run(workflow, defer=defer, **values)
    assert ln.Run.filter(external_id="t").count() == 0


def test_plain_texts_are_stored_as_given(workflow):
    run = _engine(workflow, name="n" * 300, entrypoint="étape_1", external_id="t-2")
    stored = ln.Run.get(id=run.id)
    assert (stored.name, stored.entrypoint, stored.external_source) == ("n" * 300, "étape_1", "prefect")


def _template(workflow, **kwargs):
    return lifecycle.RunTemplate(workflow, external_source="prefect", entrypoint="etl.extract",
                                 git={"commit": "abc"}, **kwargs)


def test_runs_of_a_template_are_those_engine_run_gives(workflow):
    flow = _engine(workflow, external_id="flow-1")
    made = _template(workflow).run(external_id="task-1", attempt=2, parent=flow,
                                   params={"n": 1, "token": "s3cret"}, name="extract-1")
    called = _engine(workflow, external_id="task-2", attempt=2, parent=flow,
                     entrypoint="etl.extract", git={"commit": "abc"},
                     params={"n": 1, "token": "s3cret"}, name="extract-1")
    fields = ("transform_id", "entrypoint", "name", "status", "params", "cli_args",
              "environment_id", "git", "initiated_by_run_id", "external_source", "attempt", "pid",
              "host", "created_by_id", "space_id")
    stored_made, stored_called = ln.Run.get(made.uid), ln.Run.get(called.uid)
    assert ({f: getattr(stored_made, f) for f in fields}
            == {f: getattr(stored_called, f) for f in fields})
    assert stored_made.params["token"] != "s3cret"  # redacted, as engine_run does
    again = _template(workflow).run(external_id="task-1", attempt=2, parent=flow)
    assert again.id == made.id  # idempotent by (external_source, external_id, attempt)


def test_a_template_checks_its_fields_once_and_each_run_its_own(workflow):
    with pytest.raises(ValidationError, match="external_source"):
        lifecycle.RunTemplate(workflow, external_source=" ")
    with pytest.raises(ValidationError, match="Run.entrypoint"):
        lifecycle.RunTemplate(workflow, external_source="prefect", entrypoint="a\x00b")
    template = _template(workflow)
    with pytest.raises(ValidationError, match="Run.name"):
        template.run(external_id="task-1", name="a\x00b")
    with pytest.raises(ValidationError, match="attempt"):
        template.run(external_id="task-1", attempt=0)
    assert ln.Run.filter(external_id="task-1").count() == 0


def test_each_run_of_a_template_has_its_own_command_line(workflow):
    template = _template(workflow)
    first, second = (template.run(external_id=f"task-{i}") for i in (1, 2))
    assert first.cli_args == second.cli_args and first.cli_args is not second.cli_args


def test_a_template_holds_until_the_instance_or_the_command_line_changes(workflow, monkeypatch,
                                                                          tmp_path):
    import sys

    template = _template(workflow)
    assert template.current()
    monkeypatch.setattr(sys, "argv", [*sys.argv, "--more"])
    assert not template.current()  # its runs' cli_args would be the old command line
    monkeypatch.undo()
    assert template.current()
    ln.init(tmp_path / "other")
    assert not template.current()  # its environment, user and transform ids are another's
    assert lifecycle.RunTemplate(workflow.id, external_source="prefect",
                                 cli_args=["x"]).current()  # an explicit command line holds
