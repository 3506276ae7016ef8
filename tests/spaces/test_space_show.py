"""``lineage space show NAME``: the space, its members, its storage prefix and bucket policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lineage as ln
from lineage import lifecycle


@pytest.fixture
def space_a(team):
    """Space A: alice writes, bob reads, carol has only the instance."""
    ln.connect(team.url("owner"))
    a = lifecycle.create_space("A", "team A's work")
    a.add_member(team.roles["alice"], "write")
    a.add_member(team.roles["bob"], "read")
    lifecycle.add_member("all", team.roles["carol"])
    return a


def _policy(out: str) -> dict:
    return json.loads(out[out.index("\n{") + 1:])


def test_show_prints_the_space_its_members_and_its_local_prefix(team, space_a, cli, capsys,
                                                               tmp_path: Path):
    ln.connect(team.url("alice"))  # a member sees its own membership only
    capsys.readouterr()
    assert cli("space", "show", "A") == 0
    out = capsys.readouterr().out
    assert f"{team.roles['alice']} (write)" in out and team.roles["bob"] not in out
    ln.connect(team.url("owner"))
    assert cli("space", "show", "A") == 0
    out = capsys.readouterr().out
    assert "name:        A\n" in out and f"uid:         {space_a.uid}\n" in out
    assert "description: team A's work" in out
    assert f"{team.roles['alice']} (write)" in out and f"{team.roles['bob']} (read)" in out
    root = ln.settings.storage or str(tmp_path / "storage")
    assert f"storage:     {Path(root)}/spaces/{space_a.uid}/objects/" in out
    assert "a bucket policy applies to S3 only" in out and "{" not in out
    assert "enforced:    by PostgreSQL row-level security" in out


def test_show_to_a_non_member_says_the_space_is_not_visible(team, space_a, cli, capsys):
    ln.connect(team.url("carol"))
    capsys.readouterr()
    assert cli("space", "show", "A") != 0
    captured = capsys.readouterr()
    assert "not one of its members" in captured.err + captured.out
    assert team.roles["alice"] not in captured.err + captured.out


def test_show_on_s3_prints_a_bucket_policy_for_the_space_prefix(team, space_a, cli, capsys,
                                                               monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LINEAGE_STORAGE", "s3://team-bucket/lineage")
    ln.connect(team.url("owner"))
    capsys.readouterr()
    assert cli("space", "show", "A") == 0
    out = capsys.readouterr().out
    assert f"storage:     s3://team-bucket/lineage/spaces/{space_a.uid}/objects/" in out
    policy = _policy(out)
    objects = f"arn:aws:s3:::team-bucket/lineage/spaces/{space_a.uid}/objects/*"
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    alice, bob = (lifecycle.spaces.principal_placeholder(team.roles[m]) for m in ("alice", "bob"))
    read = by_sid[f"Space{space_a.id}ReadObjects"]
    assert read["Principal"]["AWS"] == [bob] and read["Action"] == ["s3:GetObject"]
    assert read["Resource"] == objects
    write = by_sid[f"Space{space_a.id}WriteObjects"]
    assert alice in write["Principal"]["AWS"] and bob not in write["Principal"]["AWS"]
    assert "s3:PutObject" in write["Action"] and write["Resource"] == objects
    listing = by_sid[f"Space{space_a.id}ReadList"]
    assert listing["Resource"] == "arn:aws:s3:::team-bucket"
    assert listing["Condition"]["StringLike"]["s3:prefix"] == \
        f"lineage/spaces/{space_a.uid}/objects/*"
    deny = by_sid[f"Space{space_a.id}OthersDenied"]
    assert deny["Effect"] == "Deny" and deny["Resource"] == objects
    assert {alice, bob} <= set(deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"])
    assert all(s["Resource"] != "arn:aws:s3:::team-bucket/*" for s in policy["Statement"])
    # the space all: the plain objects/ prefix, no Deny
    assert cli("space", "show", "all") == 0
    out = capsys.readouterr().out
    assert "storage:     s3://team-bucket/lineage/objects/" in out
    policy = _policy(out)
    assert {s["Effect"] for s in policy["Statement"]} == {"Allow"}
    assert policy["Statement"][0]["Resource"] == "arn:aws:s3:::team-bucket/lineage/objects/*"
