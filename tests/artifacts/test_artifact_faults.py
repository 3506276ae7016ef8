"""Real faults during saves: nothing half-done stays visible, nothing saved before is lost.

Each test first saves a version that must survive, then makes a save fail
for real (an immutable folder, a file-size limit, a killed process, a file
that vanished) and checks that no row, object or temporary file is left,
or, for a killed process, exactly a hidden flagged row that the next save
of the same content (or ``lineage doctor --fix``) completes or removes.
"""

from __future__ import annotations

import errno
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from artifact_helpers import (
    all_rows,
    assert_no_trace,
    child_result,
    instance_target,
    run_child,
    snapshot,
    stored_keys,
    temporaries,
    write,
    write_random,
)

import lineage as ln
from lineage.instance import current_instance

LIMIT = 256 << 10
#: Below STAGE_THRESHOLD: hashed at construction, copied (and hashed again) by
#: save(), so these faults hit the save itself. Staged files: test_artifact_one_pass.
BIG = 768 << 10


def save_in_child(instance: Any, path: Path, key: str, *, limit: int | None = None,
                  die_on_limit: bool = False, die_before_finalize: bool = False,
                  ) -> subprocess.CompletedProcess[str]:
    code = f"""
        import json, os, resource, signal
        import lineage as ln
        artifact = ln.Artifact({str(path)!r}, key={key!r})
        if {die_on_limit!r}:
            signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
        if {die_before_finalize!r}:
            import lineage.artifacts.save as protocol
            protocol.finalize = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
        if {limit!r} is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, ({limit!r}, {limit!r}))
        out = {{}}
        try:
            artifact.save()
            out.update(uid=artifact.uid, version=artifact.version)
        except OSError as exc:
            out.update(error=type(exc).__name__, errno=exc.errno)
        print("RESULT " + json.dumps(out))
    """
    return run_child(instance, code)


def doctor_cli(instance: Any, *args: str) -> subprocess.CompletedProcess[str]:
    return run_child(instance, f"""
        import sys
        from lineage.cli import main
        main(["doctor", *{list(args)!r}])
    """)


@pytest.fixture
def survivor(instance: Any, tmp_path: Path) -> Any:
    """A saved version that no failure may touch."""
    return ln.Artifact(write(tmp_path / "v1.bin", b"version one"), key="data.bin").save()


def assert_survivor(survivor: Any) -> None:
    latest = ln.Artifact.get(key="data.bin")
    assert latest.uid == survivor.uid and latest.is_latest and not latest.storage_ongoing
    assert latest.cache().read_bytes() == b"version one"


def test_storage_folder_not_writable_raises_permission_error(instance, survivor, immutable,
                                                          tmp_path: Path):
    locked = tmp_path / "locked"
    locked.mkdir()
    immutable(locked)
    ln.settings.storage = str(locked)
    before = all_rows()
    with pytest.raises(PermissionError):
        ln.Artifact(write(tmp_path / "v2.bin", b"version two"), key="data.bin").save()
    assert all_rows() == before
    assert list(locked.iterdir()) == []
    ln.settings.storage = None
    assert_survivor(survivor)


def test_file_size_limit_re_raises_efbig_and_leaves_nothing(instance, survivor, tmp_path: Path):
    before = snapshot()
    path = write_random(tmp_path / "big.bin", BIG)
    result = child_result(save_in_child(instance, path, "data.bin", limit=LIMIT))
    assert result == {"error": "OSError", "errno": errno.EFBIG}
    assert_no_trace(before=before)
    assert_survivor(survivor)


def test_killed_mid_write_leaves_a_hidden_row_that_saving_again_completes(
        instance, survivor, tmp_path: Path):
    before_rows, before_keys = snapshot()
    path = write_random(tmp_path / "big.bin", BIG)
    proc = save_in_child(instance, path, "data.bin", limit=LIMIT, die_on_limit=True)
    assert proc.returncode == -signal.SIGXFSZ, proc.stderr
    assert stored_keys() == before_keys, "no half-written object under a final name"
    flagged = ln.Artifact.filter(storage_ongoing=True).all()
    assert len(flagged) == 1 and flagged[0].hash is not None
    assert ln.Artifact.filter(key="data.bin").count() == 1, "hidden from default queries"
    assert len(temporaries()) == 1, "the partial temporary file"
    assert_survivor(survivor)

    result = child_result(save_in_child(instance, path, "data.bin"))
    assert result["version"] == 2
    assert ln.Artifact.filter(storage_ongoing=True).count() == 0
    latest = ln.Artifact.get(key="data.bin")
    assert latest.uid == result["uid"] and latest.id == flagged[0].id, "the flagged row completed"
    assert latest.cache().read_bytes() == path.read_bytes()
    assert [v.version for v in latest.versions] == [1, 2]
    assert len(all_rows()) == len(before_rows) + 1

    proc = doctor_cli(instance, "--grace", "0")
    assert proc.returncode == 1 and "temporary files: 1" in proc.stdout
    assert doctor_cli(instance, "--fix", "--grace", "0").returncode == 0
    assert temporaries() == []
    again = doctor_cli(instance, "--grace", "0")
    assert again.returncode == 0 and "no problems found" in again.stdout


def test_doctor_removes_what_a_killed_save_left(instance, survivor, tmp_path: Path):
    before = snapshot()
    path = write_random(tmp_path / "big.bin", BIG)
    proc = save_in_child(instance, path, "data.bin", limit=LIMIT, die_on_limit=True)
    assert proc.returncode == -signal.SIGXFSZ
    assert ln.Artifact.filter(storage_ongoing=True).count() == 1

    young = doctor_cli(instance)  # default grace: a save in progress is left alone
    assert young.returncode == 0 and "no problems found" in young.stdout
    dry = doctor_cli(instance, "--grace", "0")
    assert dry.returncode == 1
    assert "rows of interrupted saves: 1" in dry.stdout and "temporary files: 1" in dry.stdout
    assert ln.Artifact.filter(storage_ongoing=True).count() == 1, "a dry run changes nothing"
    fixed = doctor_cli(instance, "--fix", "--grace", "0")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "deleted (no intact object): 1" in fixed.stdout
    assert_no_trace(before=before)
    second = doctor_cli(instance, "--fix", "--grace", "0")
    assert second.returncode == 0 and "no problems found" in second.stdout
    assert_survivor(survivor)


def test_doctor_completes_a_row_whose_object_was_written(instance, survivor, tmp_path: Path):
    from lineage.artifacts.doctor import run_doctor

    path = write(tmp_path / "v2.bin", b"version two")
    proc = save_in_child(instance, path, "data.bin", die_before_finalize=True)
    assert proc.returncode == -signal.SIGKILL
    flagged = ln.Artifact.filter(storage_ongoing=True).one()
    assert flagged.object_key in stored_keys()
    report = run_doctor(fix=True, grace_seconds=0)
    latest = ln.Artifact.get(key="data.bin")
    assert report.completed_rows == [f"{flagged.uid} data.bin -> {latest.uid} version 2"]
    assert report.exit_code == 0
    assert latest.id == flagged.id and latest.version == 2 and latest.is_latest
    assert latest.cache().read_bytes() == b"version two"
    assert run_doctor(fix=True, grace_seconds=0).problems == 0


def test_doctor_never_makes_a_dead_save_latest_over_a_newer_version(instance, survivor,
                                                                   tmp_path: Path):
    """kill -9 before the final transaction, a newer version lands, then doctor repairs."""
    from lineage.artifacts.doctor import run_doctor

    dead = write(tmp_path / "dead.bin", b"started first, writer killed")
    proc = save_in_child(instance, dead, "data.bin", die_before_finalize=True)
    assert proc.returncode == -signal.SIGKILL
    flagged = ln.Artifact.filter(storage_ongoing=True).one()
    newer = ln.Artifact(write(tmp_path / "v3.bin", b"saved later"), key="data.bin").save()
    assert newer.version == 2 and newer.is_latest
    report = run_doctor(fix=True, grace_seconds=0)
    assert report.exit_code == 0 and len(report.completed_rows) == 1
    assert "not latest: a newer version exists" in report.completed_rows[0]
    latest = ln.Artifact.get(key="data.bin")
    assert latest.uid == newer.uid and latest.cache().read_bytes() == b"saved later"
    completed = ln.Artifact.get(id=flagged.id)
    assert (completed.version, completed.is_latest, completed.storage_ongoing) == (3, False, False)
    assert completed.cache().read_bytes() == b"started first, writer killed"
    assert completed.created_at < newer.created_at
    assert [v.is_latest for v in latest.versions] == [False, True, False]
    again = ln.Artifact(write(tmp_path / "v4.bin", b"the next save"), key="data.bin").save()
    assert again.version == 4 and ln.Artifact.get(key="data.bin").uid == again.uid
    assert run_doctor(fix=True, grace_seconds=0).problems == 0


def test_interrupt_in_the_final_transaction_leaves_nothing(instance, survivor, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch):
    import lineage.artifacts.save as protocol

    before = snapshot()

    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(protocol, "_finalize_work", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ln.Artifact(write(tmp_path / "v2.bin", b"version two"), key="data.bin").save()
    assert_no_trace(before=before)
    monkeypatch.undo()
    assert_survivor(survivor)


def test_source_deleted_or_changed_after_construction(instance, survivor, tmp_path: Path):
    from lineage.errors import ValidationError

    before = snapshot()
    gone = ln.Artifact(write(tmp_path / "gone.bin", b"soon gone"), key="data.bin")
    (tmp_path / "gone.bin").unlink()
    with pytest.raises(FileNotFoundError):
        gone.save()
    assert_no_trace(before=before)
    changed = ln.Artifact(write(tmp_path / "changed.bin", b"before"), key="data.bin")
    write(tmp_path / "changed.bin", b"after, longer")
    with pytest.raises(ValidationError, match="changed"):
        changed.save()
    assert_no_trace(before=before)
    assert changed.id is None
    assert_survivor(survivor)


def test_failed_save_can_be_retried(instance, tmp_path: Path):
    artifact = ln.Artifact(write(tmp_path / "x.bin", b"x"), key="x.bin")
    (tmp_path / "x.bin").rename(tmp_path / "moved.bin")
    with pytest.raises(FileNotFoundError):
        artifact.save()
    (tmp_path / "moved.bin").rename(tmp_path / "x.bin")
    artifact.save()
    assert ln.Artifact.get(key="x.bin").uid == artifact.uid and artifact.version == 1


@pytest.mark.parametrize("same_content", [True, False], ids=["identical", "new-versions"])
def test_concurrent_writers(instance, tmp_path: Path, same_content: bool):
    n = 4
    paths = []
    for i in range(n):
        paths.append(write_random(tmp_path / f"w{i}.bin", 2 << 20, seed=0 if same_content else i))
    start = time.time() + 2.0
    procs = [subprocess.Popen(
        [sys.executable, "-c", (
            "import json, time, warnings, lineage as ln\n"
            "warnings.simplefilter('ignore')\n"
            f"a = ln.Artifact({str(p)!r}, key='shared.bin')\n"
            f"time.sleep(max(0, {start} - time.time()))\n"
            "a.save()\n"
            "print('RESULT ' + json.dumps({'uid': a.uid, 'version': a.version}))\n")],
        env={**__import__("os").environ, "LINEAGE_INSTANCE": instance_target(instance)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for p in paths]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out.split("RESULT ", 1)[1]))
    rows = all_rows()
    assert not [r for r in rows if r[2]], "no flagged row left"
    if same_content:
        assert len(rows) == 1 and len({r["uid"] for r in results}) == 1
        assert len(stored_keys()) == 1
    else:
        assert sorted(r["version"] for r in results) == [1, 2, 3, 4]
        versions = ln.Artifact.filter(key="shared.bin").order_by("version").all()
        assert [v.version for v in versions] == [1, 2, 3, 4]
        assert [v.is_latest for v in versions] == [False, False, False, True]
        assert len({v.uid[:12] for v in versions}) == 1
        assert len(stored_keys()) == 4
    assert current_instance().store().list_temporaries() == []
