"""Field-level compare-and-swap within one process (multi-process races live in tests/concurrency)."""

from __future__ import annotations

import pytest

import lineage as ln
from lineage.db.cas import update_changed
from lineage.db.record import current_db
from lineage.errors import ConflictError


@pytest.fixture
def project(instance):
    return ln.Project(name="P", description="start").save()


def _two_copies(record):
    return type(record).get(record.uid), type(record).get(record.uid)


def test_disjoint_fields_both_land(instance):
    t = ln.Transform(key="a.py", hash="h", description="d0", reference="r0").save()
    a, b = _two_copies(t)
    a.description = "from a"
    a.save()
    b.reference = "from b"
    b.save()
    fresh = ln.Transform.get(t.uid)
    assert (fresh.description, fresh.reference) == ("from a", "from b")
    assert b.description == "from a"  # the later writer sees the merged record


def test_same_field_first_wins_second_gets_conflict_error(project):
    a, b = _two_copies(project)
    a.description = "first"
    a.save()
    b.description = "second"
    with pytest.raises(ConflictError) as excinfo:
        b.save()
    err = excinfo.value
    assert (err.registry, err.uid, err.fields) == ("Project", project.uid, ("description",))
    assert "refresh()" in str(err)
    assert ln.Project.get(project.uid).description == "first"
    b.refresh()
    b.description = "second, after refresh"
    b.save()
    assert ln.Project.get(project.uid).description == "second, after refresh"


def test_same_value_written_by_both_is_not_a_conflict(project):
    a, b = _two_copies(project)
    a.description = "same"
    a.save()
    b.description = "same"
    b.save()


def _system_save(record, **values):
    """Change system fields as lineage's own code does (run.params are read-only to users)."""
    record._assign(**values)
    update_changed(current_db(), record, system=True)


def test_json_fields_conflict_only_on_the_same_key_path(instance):
    t = ln.Transform(key="w.py", hash="h").save()
    run = ln.Run(transform_id=t.id, params={"a": 1, "nested": {"x": 1, "y": 1}}).save()
    a, b = _two_copies(run)
    _system_save(a, params={**a.params, "nested": {"x": 2, "y": 1}})
    _system_save(b, params={**b.params, "nested": {"x": 1, "y": 3}, "a": 5})
    assert ln.Run.get(run.uid).params == {"a": 5, "nested": {"x": 2, "y": 3}}
    c = ln.Run.get(run.uid)
    d = ln.Run.get(run.uid)
    _system_save(c, params={**c.params, "a": 6})
    with pytest.raises(ConflictError, match=r"params\.a"):
        _system_save(d, params={**d.params, "a": 7})


def test_history_records_who_changed_what(project):
    project.description = "changed"
    project.save()
    change = ln.RecordChange.filter(registry="Project", record_uid=project.uid).one()
    assert change.fields == {"description": "changed"}
    assert change.changed_by.handle
