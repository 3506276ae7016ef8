"""Query layer: lookups, relations, JSON paths, ordering, get(), on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest

import lineage as ln
from lineage.db.dialect import utcnow
from lineage.errors import DoesNotExist, MultipleResultsFound, ValidationError


@pytest.fixture
def runs(instance):
    t1 = ln.Transform(key="pipe/a.py", hash="h1", source_code="print(1)").save()
    t2 = ln.Transform(key="pipe/b.py", hash="h2", source_code="print(2)").save()
    now = utcnow()
    made = [
        ln.Run(transform_id=t1.id, started_at=now - timedelta(minutes=3),
               params={"learning_rate": 0.01, "preprocess": {"downsample": True, "n": 5}, "tag": "alpha"}),
        ln.Run(transform_id=t1.id, started_at=now - timedelta(minutes=2),
               params={"learning_rate": 0.1, "preprocess": {"downsample": False, "n": 50}, "tag": "beta"}),
        ln.Run(transform_id=t2.id, started_at=now - timedelta(minutes=1),
               params={"learning_rate": 0.01, "preprocess": {"downsample": True, "n": "many"}, "tag": None}),
        ln.Run(transform_id=t2.id, started_at=now, params=None, status="completed"),
    ]
    return [r.save() for r in made]


def uids(query):
    return [r.uid for r in query]


def test_json_path_lookups_give_the_same_rows_on_both_backends(runs):
    r0, r1, r2, r3 = runs
    assert uids(ln.Run.filter(params__learning_rate=0.01)) == [r0.uid, r2.uid]
    assert uids(ln.Run.filter(params__preprocess__downsample=True)) == [r0.uid, r2.uid]
    assert uids(ln.Run.filter(params__preprocess__downsample=False)) == [r1.uid]
    assert uids(ln.Run.filter(params__preprocess__n__gt=10)) == [r1.uid]  # "many" is not a number
    assert uids(ln.Run.filter(params__preprocess__n__lte=5)) == [r0.uid]
    assert uids(ln.Run.filter(params__preprocess__n="many")) == [r2.uid]
    assert uids(ln.Run.filter(params__tag__startswith="al")) == [r0.uid]
    assert uids(ln.Run.filter(params__tag__in=["alpha", "beta"])) == [r0.uid, r1.uid]
    assert uids(ln.Run.filter(params__tag=None)) == [r2.uid]
    assert uids(ln.Run.filter(params__tag__isnull=True)) == [r2.uid, r3.uid]
    assert uids(ln.Run.filter(params__learning_rate=1)) == []


def test_json_path_true_does_not_match_number_one(runs):
    one = ln.Run(transform_id=runs[0].transform_id, params={"flag": 1}).save()
    yes = ln.Run(transform_id=runs[0].transform_id, params={"flag": True}).save()
    assert uids(ln.Run.filter(params__flag=True)) == [yes.uid]
    assert uids(ln.Run.filter(params__flag=1)) == [one.uid]


def test_relations_and_string_lookups(runs):
    r0, r1, r2, r3 = runs
    assert uids(ln.Run.filter(transform__key="pipe/a.py")) == [r0.uid, r1.uid]
    assert uids(ln.Run.filter(transform__key__startswith="pipe/")) == [r.uid for r in runs]
    assert uids(ln.Run.filter(transform__key__contains="B")) == []
    assert uids(ln.Run.filter(transform__key__icontains="B")) == [r2.uid, r3.uid]
    t1 = ln.Transform.get(key="pipe/a.py")
    assert uids(t1.runs) == [r0.uid, r1.uid]
    assert uids(ln.Run.filter(transform=t1, status="started")) == [r0.uid, r1.uid]
    assert ln.Transform.filter(runs__status="completed").one().key == "pipe/b.py"
    assert r0.transform.key == "pipe/a.py"


def test_many_to_many_relation_filters(runs):
    project = ln.Project(name="My project").save()
    other = ln.Project(name="Other").save()
    from lineage.db.record import current_db

    current_db().write(lambda c: c.execute(
        "INSERT INTO project_run (project_id, run_id) VALUES (?, ?)", [project.id, runs[1].id]))
    assert uids(ln.Run.filter(projects=project)) == [runs[1].uid]
    assert uids(ln.Run.filter(projects=other)) == []
    assert uids(ln.Run.filter(projects__name="My project")) == [runs[1].uid]
    assert uids(project.runs) == [runs[1].uid]
    assert [p.name for p in runs[1].projects] == ["My project"]


def test_ordering_slicing_and_terminal_methods(runs):
    q = ln.Run.filter(params__learning_rate=0.01).order_by("-started_at")
    assert q.first().uid == runs[2].uid
    assert q.last().uid == runs[0].uid
    assert q.count() == 2 and len(q) == 2 and q.exists()
    assert not ln.Run.filter(status="aborted").exists()
    assert uids(ln.Run.filter().order_by("started_at")[1:3]) == [runs[1].uid, runs[2].uid]
    assert ln.Run.filter()[1:3].count() == 2
    assert ln.Run.filter(status="completed").one().uid == runs[3].uid
    assert ln.Run.filter(started_at__gt=runs[1].started_at).count() == 2


def test_get_errors_name_the_problem(runs):
    with pytest.raises(DoesNotExist, match="no Run matches status='aborted'"):
        ln.Run.get(status="aborted")
    with pytest.raises(LookupError):  # the builtin mixin
        ln.Run.get(status="aborted")
    with pytest.raises(MultipleResultsFound, match="4 Run records|Run records match"):
        ln.Run.get(status="started")
    assert ln.Run.get(runs[0].uid).id == runs[0].id
    assert ln.Run.get(runs[0].uid[:8]).id == runs[0].id
    assert ln.Run.get(runs[0].id).uid == runs[0].uid


def test_unknown_fields_and_bad_lookups_are_clear(runs):
    with pytest.raises(ValidationError, match="Run has no field or relation 'colour'"):
        ln.Run.filter(colour="red").all()
    with pytest.raises(ValidationError, match="not a JSON field"):
        ln.Run.filter(status__x__y=1).all()
    with pytest.raises(ValidationError, match="cannot order"):
        ln.Run.filter().order_by("-nope")
    with pytest.raises(ValidationError, match="list of values"):
        ln.Run.filter(status__in="started").all()


def test_to_dataframe(runs):
    frame = ln.Run.filter(params__preprocess__downsample=True).to_dataframe()
    assert list(frame.index) == [runs[0].uid, runs[2].uid]
    assert frame.loc[runs[0].uid, "params.learning_rate"] == 0.01


def test_to_dataframe_holds_what_the_records_hold(runs):
    """The frame is built from the rows directly: every cell equals the record's field."""
    query = ln.Run.filter().order_by("-started_at")
    frame = query.to_dataframe()
    records = query.all()
    assert list(frame.index) == [r.uid for r in records]
    plain = [c for c in ln.Run.columns() if c != "uid" and not c.endswith("_id") and c != "params"]
    assert set(plain) <= set(frame.columns)
    for record in records:
        for column in plain:
            cell, value = frame.loc[record.uid, column], getattr(record, column)
            assert cell == value or (value is None and cell != cell), (column, cell, value)
        assert frame.loc[record.uid, "transform"] == record.transform.key
        for name, value in (record.params or {}).items():
            cell = frame.loc[record.uid, f"params.{name}"]
            assert cell == value or (value is None and cell != cell), (name, cell, value)
    assert ln.Run.filter(id=-1).to_dataframe().empty


def test_one_latest_version_per_key_is_enforced_by_the_database(instance):
    ln.Artifact(key="a.txt", hash="1" * 64, is_latest=True, storage_ongoing=False).save()
    ln.Artifact(key="a.txt", hash="2" * 64, is_latest=False, version=2, storage_ongoing=False).save()
    with pytest.raises(Exception) as excinfo:
        ln.Artifact(key="a.txt", hash="3" * 64, is_latest=True, version=3, storage_ongoing=False).save()
    assert "unique" in str(excinfo.value).lower() or "duplicate" in str(excinfo.value).lower()
    assert ln.Artifact.filter(key="a.txt", is_latest=True).count() == 1
    # other keys are independent
    ln.Artifact(key="b.txt", hash="4" * 64, is_latest=True, storage_ongoing=False).save()


def test_get_by_key_returns_the_latest_version(instance):
    ln.Artifact(key="a.txt", hash="1" * 64, is_latest=False, storage_ongoing=False).save()
    latest = ln.Artifact(key="a.txt", hash="2" * 64, version=2, is_latest=True, storage_ongoing=False).save()
    assert ln.Artifact.get(key="a.txt").uid == latest.uid
    assert ln.Artifact.filter(key="a.txt").count() == 2


def test_rows_flagged_storage_ongoing_are_hidden_by_default(instance):
    done = ln.Artifact(key="done.txt", hash="1" * 64, is_latest=True, storage_ongoing=False).save()
    pending = ln.Artifact(key="pending.txt", hash="2" * 64, storage_ongoing=True).save()
    assert uids(ln.Artifact.filter()) == [done.uid]
    assert uids(ln.Artifact.filter(storage_ongoing=True)) == [pending.uid]


def test_json_bare_strings_round_trip(instance):
    t = ln.Transform(key="s.py", hash="h").save()
    run = ln.Run(transform_id=t.id, params="just a string", git=["a", 1]).save()
    fresh = ln.Run.get(run.uid)
    assert fresh.params == "just a string" and fresh.git == ["a", 1]


def test_text_with_nul_characters_is_refused_clearly_on_every_backend(instance):
    with pytest.raises(ValidationError, match="NUL"):
        ln.Project(name="bad\x00name").save()
    assert ln.Project.filter().count() == 0


@pytest.mark.parametrize("bad", ["lone \ud800 surrogate", "nul \x00 inside"])
def test_text_postgres_cannot_store_is_refused_on_both_backends(instance, bad):
    t = ln.Transform(key="u.py", hash="h").save()
    with pytest.raises(ValidationError):
        ln.Run(transform_id=t.id, params={"text": bad}).save()
    with pytest.raises(ValidationError):
        ln.Project(name=bad).save()
    assert ln.Run.filter().count() == 0
