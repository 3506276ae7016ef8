"""Names unique across the instance, held by a record of a space one cannot read: a clear
`PermissionDenied` naming the problem and the fix, never the database's unique violation, and
nothing of the hidden record (its uid, its space) in the message."""

from __future__ import annotations

import pytest

import lineage as ln
from lineage import lifecycle
from lineage.errors import PermissionDenied

SPACE = "atlas-team"


@pytest.fixture
def hidden(team):
    """alice writes space atlas-team; carol only has the instance."""
    ln.connect(team.url("owner"))
    space = lifecycle.create_space(SPACE)
    space.add_member(team.roles["alice"], "write")
    lifecycle.add_member("all", team.roles["carol"])
    ln.connect(team.url("alice"))
    return space


def _assert_reveals_nothing(message: str, *records) -> None:
    assert SPACE not in message
    for record in records:
        assert record.uid not in message


def test_a_project_name_a_hidden_project_has_is_a_clear_permission_denied(team, hidden):
    theirs = ln.flow(space=SPACE)(lambda: ln.Project(name="atlas").save())()
    assert theirs.space_id == hidden.id
    ln.connect(team.url("carol"))
    assert ln.Project.filter(name="atlas").count() == 0
    with pytest.raises(PermissionDenied, match="project name 'atlas' is taken by a record in a "
                       "space this role cannot read.*Choose another name") as info:
        ln.Project(name="atlas").save()
    _assert_reveals_nothing(str(info.value), theirs)
    with pytest.raises(PermissionDenied, match="project name 'atlas'"):  # ln.track(project=...)
        lifecycle.resolve_projects("atlas")
    assert ln.Project(name="atlas-carol").save().id is not None


def test_a_feature_name_a_hidden_feature_has_is_a_clear_permission_denied(team, hidden):
    theirs = ln.flow(space=SPACE)(lambda: ln.Feature(name="depth", dtype=int).save())()
    ln.connect(team.url("carol"))
    with pytest.raises(PermissionDenied, match="feature name 'depth' is taken") as info:
        ln.Feature(name="depth", dtype=int).save()
    _assert_reveals_nothing(str(info.value), theirs)


def test_labels_of_one_name_live_in_each_space(team, hidden):
    """Labels have no unique name: a hidden label of that name leaves room for one's own."""
    theirs = ln.flow(space=SPACE)(lambda: ln.Label(name="QC passed").save())()
    ln.connect(team.url("carol"))
    mine = ln.Label(name="QC passed").save()
    assert mine.id != theirs.id and mine.space_id == 1


def test_a_transform_moved_to_a_hidden_space_is_a_clear_permission_denied(team, hidden):
    made = lifecycle.get_or_create_transform("private/train.py", "print('secret')")
    lifecycle.move_to_space(made, SPACE)
    ln.connect(team.url("carol"))
    for source in ("print('secret')", "print('my own version')"):  # same hash; a new version
        with pytest.raises(PermissionDenied, match="transform key 'private/train.py'.*cannot "
                           "read.*move the transform to 'all'.*another key") as info:
            lifecycle.get_or_create_transform("private/train.py", source)
        _assert_reveals_nothing(str(info.value), made)
        assert "secret" not in str(info.value)
    ln.connect(team.url("alice"))  # a member still reuses it
    assert lifecycle.get_or_create_transform("private/train.py", "print('secret')").id == made.id
