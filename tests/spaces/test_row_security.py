"""PostgreSQL itself enforces spaces: raw SQL connections as member roles, no lineage code.

alice writes space A, bob only reads it, carol is in no space; everyone
reads and writes ``all``. Each refused write comes from the database (SQLSTATE
42501) and names the space; each hidden row is simply absent.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

import lineage as ln
from lineage import lifecycle
from lineage.db import access
from lineage.models.space import SpaceMember


@pytest.fixture
def world(team, tmp_path: Path):
    """Space A with a run, an artifact read by it and a change record; a run in ``all``."""
    instance = ln.connect(team.url("owner"))
    a = ln.Space(name="A").save()
    b = ln.Space(name="B").save()
    for who, space, role in (("alice", a, "write"), ("bob", a, "read"), ("alice", b, "read")):
        SpaceMember(space_id=space.id, member=team.roles[who], role=role).save()
    for role in team.roles.values():
        instance.db.write(lambda conn, role=role: access.grant_instance_access(conn, role))
    transform = lifecycle.get_or_create_transform("shared.py", "print(1)", "script")
    run_a = ln.Run(transform_id=transform.id, space_id=a.id).save()
    run_all = ln.Run(transform_id=transform.id).save()
    path = tmp_path / "a.txt"
    path.write_text("secret of A")
    artifact = ln.Artifact(path, key="a.txt").save()
    instance.db.write(lambda conn: conn.execute(
        "UPDATE artifact SET space_id = ? WHERE id = ?", [a.id, artifact.id]))
    instance.db.write(lambda conn: conn.execute(
        "INSERT INTO run_input (run_id, artifact_id, created_at) VALUES (?, ?, now())",
        [run_a.id, artifact.id]))
    run_a.name = "named by the owner"
    run_a.save()  # a RecordChange row
    instance.db.write(lambda conn: conn.execute(
        "UPDATE record_change SET space_id = ? WHERE record_id = ?", [a.id, run_a.id]))
    return {"A": a, "B": b, "run_a": run_a, "run_all": run_all, "artifact": artifact,
            "transform": transform}


def _ids(conn, sql: str, params=()) -> list:
    return [row[0] for row in conn.execute(sql, params).fetchall()]


def test_a_role_in_no_space_sees_only_all_with_plain_select(team, world):
    with team.connect("carol") as conn:
        assert _ids(conn, "SELECT id FROM run") == [world["run_all"].id]
        assert _ids(conn, "SELECT id FROM artifact") == []
        assert _ids(conn, "SELECT run_id FROM run_input") == []
        assert _ids(conn, "SELECT id FROM record_change") == []
        assert _ids(conn, "SELECT name FROM space") == ["all"]
        assert _ids(conn, "SELECT member FROM space_member") == []
        # the shared transform (space all) stays visible
        assert _ids(conn, "SELECT key FROM transform") == ["shared.py"]


def test_members_see_their_spaces_and_the_owner_sees_everything(team, world):
    with team.connect("bob") as conn:
        assert sorted(_ids(conn, "SELECT id FROM run")) == sorted([world["run_a"].id,
                                                                  world["run_all"].id])
        assert _ids(conn, "SELECT id FROM artifact") == [world["artifact"].id]
        assert _ids(conn, "SELECT run_id FROM run_input") == [world["run_a"].id]
        assert len(_ids(conn, "SELECT id FROM record_change")) == 1
        assert sorted(_ids(conn, "SELECT name FROM space")) == ["A", "all"]
        assert _ids(conn, "SELECT member FROM space_member") == [team.roles["bob"]]
    with team.connect("owner") as conn:
        assert len(_ids(conn, "SELECT id FROM run")) == 2
        assert sorted(_ids(conn, "SELECT name FROM space")) == ["A", "B", "all"]
        assert len(_ids(conn, "SELECT member FROM space_member")) == 3


def test_a_reader_cannot_insert_update_or_delete_and_the_error_names_the_space(team, world):
    run_a = world["run_a"]
    with team.connect("bob") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="space 'A'"):
            conn.execute("UPDATE run SET name = 'bob was here' WHERE id = %s", [run_a.id])
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="space 'A'"):
            conn.execute("DELETE FROM artifact WHERE id = %s", [world["artifact"].id])
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("INSERT INTO run (uid, transform_id, status, started_at, attempt, "
                         "space_id) VALUES ('bobbobbobbobbob1', %s, 'started', now(), 1, %s)",
                         [world["transform"].id, world["A"].id])
        # moving a row out of a space one only reads is a change of that row: refused
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="space 'A'"):
            conn.execute("UPDATE run SET space_id = 1 WHERE id = %s", [run_a.id])
        # a link row of a run bob only reads: not added, not removed
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("INSERT INTO run_upstream (run_id, upstream_run_id, created_at) "
                         "VALUES (%s, %s, now())", [run_a.id, world["run_all"].id])
        assert conn.execute("DELETE FROM run_input WHERE run_id = %s", [run_a.id]).rowcount == 0
    with team.connect("owner") as conn:
        assert conn.execute("SELECT name FROM run WHERE id = %s", [run_a.id]).fetchone()[0] == \
            "named by the owner"
        assert conn.execute("SELECT count(*) FROM run_input").fetchone()[0] == 1


def test_a_writer_changes_its_space_but_cannot_move_rows_into_a_space_it_only_reads(team, world):
    run_a = world["run_a"]
    with team.connect("alice") as conn:
        assert conn.execute("UPDATE run SET name = 'alice' WHERE id = %s",
                            [run_a.id]).rowcount == 1
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("UPDATE run SET space_id = %s WHERE id = %s", [world["B"].id, run_a.id])
        # into all (everyone writes there) is allowed, and back
        assert conn.execute("UPDATE run SET space_id = 1 WHERE id = %s", [run_a.id]).rowcount == 1
        assert conn.execute("UPDATE run SET space_id = %s WHERE id = %s",
                            [world["A"].id, run_a.id]).rowcount == 1
        conn.execute("INSERT INTO run_upstream (run_id, upstream_run_id, created_at) "
                     "VALUES (%s, %s, now())", [run_a.id, world["run_all"].id])
        # the change history is append-only for members
        assert conn.execute("UPDATE record_change SET fields = '{}'").rowcount == 0
        assert conn.execute("DELETE FROM record_change").rowcount == 0


def test_a_role_in_no_space_cannot_touch_or_join_a_space(team, world):
    run_a = world["run_a"]
    with team.connect("carol") as conn:
        assert conn.execute("UPDATE run SET name = 'carol' WHERE id = %s", [run_a.id]).rowcount == 0
        assert conn.execute("DELETE FROM run WHERE id = %s", [run_a.id]).rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("INSERT INTO space_member (space_id, member, role, created_at) "
                         "VALUES (%s, current_user, 'admin', now())", [world["A"].id])
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            conn.execute("INSERT INTO space (uid, name, created_at) VALUES ('carolcarol01', 'C', now())")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE lineage_instance SET value = '99' WHERE key = 'schema_version'")
        # carol still works in all
        conn.execute("INSERT INTO run (uid, transform_id, status, started_at, attempt) VALUES "
                     "('carolcarolcarol1', %s, 'started', now(), 1)", [world["transform"].id])
        assert conn.execute("SELECT space_id FROM run WHERE uid = 'carolcarolcarol1'"
                            ).fetchone()[0] == 1


def test_a_space_admin_manages_members_of_that_space_only(team, world):
    with team.connect("owner") as conn:
        conn.execute("UPDATE space_member SET role = 'admin' WHERE member = %s AND space_id = %s",
                     [team.roles["alice"], world["A"].id])
    with team.connect("alice") as conn:
        conn.execute("INSERT INTO space_member (space_id, member, role, created_at) "
                     "VALUES (%s, %s, 'read', now())", [world["A"].id, team.roles["carol"]])
        assert len(_ids(conn, "SELECT member FROM space_member WHERE space_id = %s",
                        [world["A"].id])) == 3
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("INSERT INTO space_member (space_id, member, role, created_at) "
                         "VALUES (%s, %s, 'read', now())", [world["B"].id, team.roles["carol"]])
    with team.connect("carol") as conn:
        assert _ids(conn, "SELECT id FROM artifact") == [world["artifact"].id]
