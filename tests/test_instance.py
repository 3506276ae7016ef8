"""Instances: init, connect, discovery order, errors for bad targets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import lineage as ln
import lineage.instance as instance_module
from lineage.errors import DatabaseUnreachable, InstanceNotFound, ValidationError


def test_init_creates_an_embedded_instance_and_is_idempotent(tmp_path):
    first = ln.init(storage=tmp_path / "data")
    ln.Project(name="kept").save()
    assert (tmp_path / "data" / "lineage.db").is_file()
    again = ln.init(storage=tmp_path / "data")
    assert again.uid == first.uid
    assert ln.Project.filter(name="kept").count() == 1


def test_connect_by_folder_switches_and_closes_the_previous(tmp_path):
    a = ln.init(storage=tmp_path / "a")
    ln.Project(name="in a").save()
    b = ln.init(storage=tmp_path / "b")
    assert ln.Project.filter(name="in a").count() == 0
    assert instance_module.current_instance() is b
    ln.connect(tmp_path / "a")
    assert instance_module.current_instance().uid == a.uid
    assert ln.Project.filter(name="in a").count() == 1
    ln.connect(str(tmp_path / "a" / "lineage.db"))
    assert instance_module.current_instance().uid == a.uid


def test_connect_to_nothing_says_how_to_create_one(tmp_path):
    with pytest.raises(InstanceNotFound, match="ln.init"):
        ln.connect(tmp_path / "nothing")


def _run(code: str, cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip() + "|" + result.stderr.strip()


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEAGE_")}
    env["LINEAGE_CONFIG_DIR"] = str(tmp_path / "config")
    env.update(extra)
    return env


PRINT_ROOT = "import lineage.instance as i; print(i.current_instance().slug)"


def test_zero_configuration_creates_dot_lineage_and_says_so_once(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    out = _run(PRINT_ROOT, work, _env(tmp_path))
    assert out.split("|")[0] == str(work / ".lineage")
    assert "created a new instance" in out.split("|")[1]
    # a second process finds it, silently
    out = _run(PRINT_ROOT, work, _env(tmp_path))
    assert out == f"{work / '.lineage'}|"


def _cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "lineage", *args], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def test_discovery_order(tmp_path):
    parent = tmp_path / "project"
    nested = parent / "src" / "deep"
    nested.mkdir(parents=True)
    env = _env(tmp_path)
    _run("import lineage as ln; ln.init(storage='.lineage')", parent, env)
    explicit = tmp_path / "explicit"
    _cli("init", "--storage", str(explicit), cwd=tmp_path, env=env)  # the user default
    # nearest .lineage above the working directory beats the user default
    assert _run(PRINT_ROOT, nested, env).split("|")[0] == str(parent / ".lineage")
    # LINEAGE_INSTANCE beats the nearest folder
    env_var = _env(tmp_path, LINEAGE_INSTANCE=str(explicit))
    assert _run(PRINT_ROOT, nested, env_var).split("|")[0] == str(explicit)
    # outside any project: the user default (the last `lineage init`/`lineage connect`)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert _run(PRINT_ROOT, elsewhere, env).split("|")[0] == str(explicit)


def test_init_in_a_script_never_becomes_the_user_default(tmp_path):
    env = _env(tmp_path)
    home = tmp_path / "home-instance"
    chosen = _cli("init", "--storage", str(home), cwd=tmp_path, env=env)
    assert "this is now your default instance" in chosen.stdout  # said in one line
    for folder in ("project-a", "unrelated"):
        (tmp_path / folder).mkdir()
    # a script somewhere inits (and fills) its own instance, and connects to another
    _run("import lineage as ln; ln.init(storage='scratch'); ln.Project(name='a').save(); "
         f"ln.connect({str(home)!r})", tmp_path / "project-a", env)
    # a later script in an unrelated folder still writes to the user's default
    out = _run("import lineage as ln; ln.Project(name='b').save(); "
               "import lineage.instance as i; print(i.current_instance().slug)",
               tmp_path / "unrelated", env)
    assert out.split("|")[0] == str(home)
    ln.connect(tmp_path / "project-a" / "scratch")
    assert [p.name for p in ln.Project.filter()] == ["a"]


def test_lineage_connect_changes_the_user_default_and_says_so(tmp_path):
    env = _env(tmp_path)
    _cli("init", "--storage", str(tmp_path / "first"), cwd=tmp_path, env=env)
    _cli("init", "--storage", str(tmp_path / "second"), cwd=tmp_path, env=env)
    done = _cli("connect", str(tmp_path / "first"), cwd=tmp_path, env=env)
    assert done.stdout.splitlines()[-1].startswith("this is now your default instance")
    assert _run(PRINT_ROOT, tmp_path, env).split("|")[0] == str(tmp_path / "first")
    remembered = tmp_path / "config" / "default_instance"
    assert remembered.stat().st_mode & 0o077 == 0  # a URL there may hold a password


def test_unreachable_database_names_the_url_without_password():
    with pytest.raises(DatabaseUnreachable) as excinfo:
        ln.connect("postgresql+psycopg://alice:s3cr3t-pw@127.0.0.1:1/nowhere")
    message = str(excinfo.value)
    assert "s3cr3t-pw" not in message
    assert "alice:***@127.0.0.1:1/nowhere" in message
    assert isinstance(excinfo.value, ConnectionError)


def test_unwritable_sqlite_location_is_a_clear_error(tmp_path):
    target = tmp_path / "file-not-folder"
    target.write_text("x")
    with pytest.raises(ValidationError, match="cannot create the instance folder"):
        ln.init(storage=target / "sub")


def test_remote_storage_needs_a_database():
    with pytest.raises(ValidationError, match="db='postgresql"):
        ln.init(storage="s3://bucket/prefix")


def test_unsupported_db_url():
    with pytest.raises(ValidationError, match="unsupported database URL"):
        ln.init(storage="x", db="mysql://root:pw@localhost/db")


def test_team_instance_on_postgres(fresh_postgres_db, tmp_path):
    inst = ln.init(storage=tmp_path / "objects", db=fresh_postgres_db)
    assert not inst.db.is_sqlite
    ln.Project(name="team").save()
    instance_module.close()
    ln.connect(fresh_postgres_db)
    assert ln.Project.get(name="team").name == "team"
    assert instance_module.current_instance().storage_root == str(tmp_path / "objects")


def test_connect_to_an_empty_postgres_database_is_not_an_instance(fresh_postgres_db):
    with pytest.raises(InstanceNotFound, match="ln.init"):
        ln.connect(fresh_postgres_db)
