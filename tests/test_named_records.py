"""Records with names: an exact match returns the existing record; similar names warn."""

from __future__ import annotations

import warnings

import pytest

import lineage as ln


def test_exact_name_returns_the_existing_record(instance):
    first = ln.Project(name="My project", description="original").save()
    again = ln.Project(name="My project")
    assert again.id == first.id and again.uid == first.uid
    assert again.description == "original"
    again.save()
    assert ln.Project.filter(name="My project").count() == 1


def test_similar_names_are_listed_in_a_warning(instance):
    ln.Project(name="Cell atlas").save()
    with pytest.warns(UserWarning, match="similar names exist: 'Cell atlas'"):
        ln.Project(name="cell atlas v2")


def test_the_similar_name_search_can_be_switched_off(instance):
    ln.Project(name="Cell atlas").save()
    ln.settings.upon_create_search_names = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ln.Project(name="cell atlas v2").save()


def test_labels_are_unique_within_their_type(instance):
    experiment = ln.Label(name="Experiment", is_type=True).save()
    tissue = ln.Label(name="Tissue", is_type=True).save()
    a = ln.Label(name="E1", type=experiment).save()
    assert ln.Label(name="E1", type=experiment).id == a.id
    b = ln.Label(name="E1", type=tissue).save()
    assert b.id != a.id
    assert [r.name for r in experiment.records] == ["E1"]


def test_concurrent_creation_of_one_name_ends_with_one_row(instance):
    a = ln.Project(name="Race")
    b = ln.Project(name="Race")
    a.save()
    b.save()
    assert a.id == b.id
    assert ln.Project.filter(name="Race").count() == 1
