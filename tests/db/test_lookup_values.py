"""Lookup values: keys normalized as saves do; bad values named, never a driver error."""

from __future__ import annotations

import warnings
from datetime import date, timedelta

import pytest

import lineage as ln
from lineage.db.dialect import utcnow
from lineage.errors import InvalidKeyError, ValidationError


@pytest.fixture
def saved(instance, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    artifact = ln.Artifact(path, key="raw//x.csv").save()
    other = tmp_path / "y.csv"
    other.write_text("a,b\n3,4\n")
    ln.Artifact(other, key="rawdata/y.csv").save()
    return artifact


@pytest.mark.parametrize("spelling", ["raw//x.csv", "./raw/x.csv", "raw/a/../x.csv", "raw/./x.csv"])
def test_lookups_normalize_keys_as_saves_do(saved, spelling):
    assert saved.key == "raw/x.csv"
    assert ln.Artifact.get(key=spelling).uid == saved.uid
    assert [a.uid for a in ln.Artifact.filter(key__in=[spelling, "none.csv"])] == [saved.uid]
    assert ln.Artifact.filter(key__ne=spelling).count() == 1


def test_prefix_lookups_normalize_and_keep_the_folder(saved):
    assert [a.uid for a in ln.Artifact.filter(key__startswith="./raw//")] == [saved.uid]
    assert ln.Artifact.filter(key__startswith="raw").count() == 2  # raw/ and rawdata/
    assert ln.Artifact.filter(key__startswith="./").count() == 2
    assert [a.uid for a in ln.Artifact.filter(key__endswith="/x.csv")] == [saved.uid]
    assert [a.uid for a in ln.Artifact.filter(key__contains="w/x")] == [saved.uid]


def test_lookups_refuse_keys_no_save_accepts(saved):
    for bad in ("/abs/x.csv", "../x.csv", "raw\\x.csv", "lone\udcff.csv"):
        with pytest.raises(InvalidKeyError):
            ln.Artifact.get(key=bad)


@pytest.fixture
def run(instance):
    transform = ln.Transform(key="t.py", hash="h", source_code="").save()
    return ln.Run(transform_id=transform.id, params={"n": 3, "name": "a"}).save()


@pytest.mark.parametrize(("call", "named"), [
    (lambda: ln.Run.filter().order_by(1), "order_by"),
    (lambda: ln.Run.filter().order_by(None), "order_by"),
    (lambda: ln.Run.filter().order_by("--id"), "--id"),
    (lambda: ln.Run.filter(status=["started", "completed"]).count(), "status"),
    (lambda: ln.Run.filter(params={"n": 3}, status={"a": 1}).count(), "status"),
    (lambda: ln.Run.filter(id=10**30).count(), "id=10"),
    (lambda: ln.Run.filter(id__in=[1, 10**30]).count(), "id__in"),
    (lambda: ln.Run.filter(id__gt=-(10**30)).count(), "id__gt"),
    (lambda: ln.Run.filter(id="5").count(), "id='5'"),
    (lambda: ln.Run.filter(id=True).count(), "id=True"),
    (lambda: ln.Run.filter(status=5).count(), "status=5"),
    (lambda: ln.Run.filter(id__in=5).count(), "id__in"),
    (lambda: ln.Run.filter(id__contains="1").count(), "id__contains"),
    (lambda: ln.Run.filter(status__startswith=1).count(), "status__startswith"),
    (lambda: ln.Run.filter(started_at__gt="yesterday").count(), "started_at__gt"),
    (lambda: ln.Run.filter(started_at__gt=None).count(), "started_at__gt"),
    (lambda: ln.Run.filter(status__isnull="no").count(), "status__isnull"),
    (lambda: ln.Run.filter(transform="t.py").count(), "transform="),
    (lambda: ln.Run.filter(params__n__gt=[1]).count(), "params__n__gt"),
    (lambda: ln.Run.filter(params__n=object()).count(), "params__n"),
    (lambda: ln.Run.filter(params__n__in="abc").count(), "params__n__in"),
    (lambda: ln.Run.get(3.5), "get()"),
    (lambda: ln.Run.filter()["a"], "indexed"),
])
def test_bad_lookup_values_raise_validation_errors_naming_the_lookup(run, call, named):
    with pytest.raises(ValidationError) as caught:
        call()
    assert named in str(caught.value)


def test_a_record_of_another_registry_is_refused(run):
    with pytest.raises(ValidationError, match="Transform records"):
        ln.Run.filter(transform=run).count()


def test_valid_values_of_every_kind_still_match(run):
    assert ln.Run.filter(id__in=[run.id, 2**63 - 1]).count() == 1
    assert ln.Run.filter(id__lt=1.5).count() == 1
    assert ln.Run.filter(transform=run.transform_id).count() == 1
    assert ln.Run.filter(transform=None).count() == 0
    assert ln.Run.filter(started_at__gt=(utcnow() - timedelta(days=1)).isoformat()).count() == 1
    assert ln.Run.filter(started_at__gt=date.today() - timedelta(days=1)).count() == 1
    assert ln.Run.filter(params__n__lt=10**30).count() == 1
    assert ln.Run.filter(params__n=10**30).count() == 0
    assert ln.Run.filter(params__name__in=["a", "b"]).count() == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ln.Run.filter().order_by("-started_at")[0:1].count() == 1


def test_renaming_onto_the_latest_version_of_another_key_is_a_clear_error(instance, tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("a\n1\n")
    second.write_text("b\n2\n")
    a = ln.Artifact(first, key="data/a.csv").save()
    b = ln.Artifact(second, key="data/b.csv").save()
    b.key = "data/a.csv"
    with pytest.raises(ValidationError) as caught:
        b.save()
    message = str(caught.value)
    assert f"key='data/a.csv' is held by Artifact {a.uid}" in message and "one latest version" in message
    assert ln.Artifact.get(key="data/b.csv").uid == b.uid  # nothing changed
    b.key = "data/renamed.csv"
    assert b.save().key == "data/renamed.csv"


def test_a_key_with_a_lone_surrogate_is_an_invalid_key(instance, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("a\n1\n")
    with pytest.raises(InvalidKeyError, match="not valid Unicode"):
        ln.Artifact(path, key="raw/\udcffname.csv")
    artifact = ln.Artifact(path, key="raw/a.csv").save()
    artifact.key = "raw/\ud800.csv"
    with pytest.raises(InvalidKeyError, match="lone surrogate"):
        artifact.save()
