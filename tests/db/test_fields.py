"""Field values are checked on assignment; system fields are read-only to users.

Both on SQLite and PostgreSQL: a wrong type is a `ValidationError` naming the
field before anything reaches the database (never a string stored in an
integer column, never a driver error), and the fields lineage keeps true
(identity, versions, where an object lives, what a run captured) cannot be
assigned or saved, so `delete()` can never be pointed at another file.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

import lineage as ln
from lineage.db.fields import Field
from lineage.db.record import current_db
from lineage.errors import ReadOnlyFieldError, ValidationError


def _transform() -> ln.Transform:
    from lineage import lifecycle

    return lifecycle.get_or_create_transform("fields.py", "print('fields')", "script")


def test_string_for_an_integer_field_is_refused_and_nothing_is_stored(instance):
    transform = _transform()
    with pytest.raises(ValidationError, match=r"Transform\.version must be an integer, got str 'T1'"):
        transform.version = "T1"
    assert transform.version == 1
    stored = current_db().query("SELECT version FROM transform WHERE id = ?", [transform.id])
    assert stored == [(1,)]
    assert _transform().id == transform.id, "the next lookup of the transform still works"


@pytest.mark.parametrize(("registry", "field", "value", "message"), [
    ("Run", "name", 5, r"Run\.name must be a string, got int 5"),
    ("Run", "name", "a\x00b", r"Run\.name cannot contain NUL"),
    ("Run", "name", "\udcff", r"Run\.name is not valid Unicode"),
    ("Label", "is_type", "yes", r"Label\.is_type must be True or False, got str 'yes'"),
    ("Label", "type_id", "3", r"Label\.type_id must be an integer, got str '3'"),
    ("Label", "type_id", 10**30, r"Label\.type_id must be between"),
    ("Label", "type_id", True, r"Label\.type_id must be an integer, got bool"),
    ("Label", "name", None, r"Label\.name cannot be empty"),
    ("User", "name", "x" * 300, r"User\.name is at most 255 characters long, got 300"),
])
def test_every_user_field_is_validated_on_assignment(instance, registry, field, value, message):
    records = {
        "Run": lambda: ln.Run(transform_id=_transform().id).save(),
        "Label": lambda: ln.Label(name="Experiment").save(),
        "User": lambda: ln.User.get(id=instance.user_id()),
    }
    record = records[registry]()
    before = getattr(record, field)
    with pytest.raises(ValidationError, match=message):
        setattr(record, field, value)
    assert getattr(record, field) == before
    record.save()  # nothing changed, nothing written
    assert getattr(type(record).get(record.uid), field) == before


@pytest.mark.parametrize(("kind", "good", "bad", "message"), [
    ("int", 7, 2**31, "must be between"),
    ("bigint", 2**40, 1.5, "must be an integer, got float"),
    ("float", 3, float("nan"), "cannot be NaN"),
    ("float", 0.5, "0.5", "must be a number, got str"),
    ("bool", True, 1, "must be True or False, got int"),
    ("datetime", datetime.now(timezone.utc), "2024-01-01", "must be a datetime, got str"),
    ("json", {"a": [1, 2]}, {"a": object()}, "must be JSON-compatible"),
    ("json", {"a": 1}, {"a": "x\x00"}, "NUL"),
    ("str", "short", "x" * 17, "at most 16 characters"),
    ("text", "t", b"bytes", "must be a string, got bytes"),
])
def test_every_field_kind_checks_its_values(kind, good, bad, message):
    spec = Field(kind, length=16 if kind == "str" else None)
    assert spec.validate(good, "X.f") == good
    with pytest.raises(ValidationError, match=message):
        spec.validate(bad, "X.f")


def test_numpy_scalars_become_python_values():
    np = pytest.importorskip("numpy")
    assert type(Field("int").validate(np.int64(3), "X.f")) is int
    assert type(Field("float").validate(np.float32(0.5), "X.f")) is float
    assert Field("bool").validate(np.bool_(True), "X.f") is True


def test_constructor_values_are_validated_too(instance):
    with pytest.raises(ValidationError, match=r"Run\.started_at must be a datetime"):
        ln.Run(transform_id=_transform().id, started_at="yesterday")
    with pytest.raises(ValidationError, match=r"Run\.transform_id cannot be empty"):
        ln.Run().save()


ARTIFACT_SYSTEM = ("object_key", "hash", "size", "version", "is_latest", "storage_ongoing",
                   "storage_id", "uid", "run_id")


@pytest.fixture
def saved(instance, tmp_path: Path) -> ln.Artifact:
    path = tmp_path / "data.txt"
    path.write_text("content")
    return ln.Artifact(path, key="data.txt").save()


@pytest.mark.parametrize("field", ARTIFACT_SYSTEM)
def test_artifact_system_fields_are_read_only(saved, field):
    before = getattr(saved, field)
    value = {"object_key": "lineage.db", "hash": "0" * 64, "size": 1, "version": 9,
             "is_latest": False, "storage_ongoing": True, "storage_id": 99,
             "uid": "x" * 16, "run_id": 1}[field]
    with pytest.raises(ReadOnlyFieldError, match=rf"Artifact\.{field} is set by lineage"):
        setattr(saved, field, value)
    assert getattr(saved, field) == before
    saved.__dict__[field] = value  # a determined caller: saving still refuses
    with pytest.raises(ReadOnlyFieldError, match=rf"Artifact\.{field}"):
        saved.save()
    fresh = ln.Artifact.get(saved.uid) if field != "uid" else ln.Artifact.get(id=saved.id)
    assert getattr(fresh, field) == before


def test_user_fields_of_an_artifact_stay_editable(saved):
    saved.description = "described"
    saved.key = "renamed.txt"
    saved.save()
    fresh = ln.Artifact.get(saved.uid)
    assert (fresh.key, fresh.description) == ("renamed.txt", "described")


@pytest.mark.parametrize(("registry", "field", "value"), [
    ("Transform", "hash", "f" * 64),
    ("Transform", "version", 2),
    ("Transform", "is_latest", False),
    ("Transform", "uid", "y" * 16),
    ("Transform", "source_code", "print('other')"),
    ("Run", "status", "completed"),
    ("Run", "params", {"lr": 1}),
    ("Run", "report_id", 1),
    ("Run", "transform_id", 1),
    ("Storage", "root", "/"),
    ("Feature", "dtype", "int"),
    ("Environment", "packages", {}),
])
def test_system_fields_of_other_registries_are_read_only(instance, registry, field, value):
    from lineage import lifecycle

    transform = _transform()
    records = {
        "Transform": lambda: transform,
        "Run": lambda: lifecycle.start_run(transform, environment=False),
        "Storage": lambda: ln.Storage.filter().first(),
        "Feature": lambda: ln.Feature(name="experiment", dtype=str).save(),
        "Environment": lambda: ln.Environment(hash="e" * 64).save(),
    }
    record = records[registry]()
    with pytest.raises(ReadOnlyFieldError, match=rf"{registry}\.{field}"):
        setattr(record, field, value)


def test_delete_never_removes_what_the_artifact_does_not_own(instance, saved, tmp_path: Path):
    """Even with its row's object_key pointed at the database, delete() leaves it alone."""
    store_root = Path(instance.store().root)
    database = store_root / "lineage.db"
    if instance.db.is_sqlite:
        assert database.is_file()
    else:
        database.write_bytes(b"a file the artifact does not own")
    other = tmp_path / "other.txt"
    other.write_text("other content")
    neighbour = ln.Artifact(other, key="other.txt").save()
    own_object = store_root / saved.object_key
    current_db().write(lambda c: c.execute(
        "UPDATE artifact SET object_key = ? WHERE id = ?", ["lineage.db", saved.id]))
    ln.Artifact.get(saved.uid).delete()
    assert database.is_file(), "the instance's database survives"
    assert (store_root / neighbour.object_key).is_file()
    assert ln.Artifact.get(neighbour.uid).cache().read_text() == "other content"
    # the tampered row no longer points at its object: it stays for `lineage doctor` (orphan)
    assert own_object.is_file()
