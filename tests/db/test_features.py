"""Feature values added to a run afterwards: validated, replaced, queryable."""

from __future__ import annotations

import pytest

import lineage as ln
from lineage.errors import ValidationError


def test_add_values_validates_replaces_and_is_queryable(instance):
    ln.Feature(name="experiment", dtype=str).save()
    ln.Feature(name="replicate", dtype=int).save()
    t = ln.Transform(key="f.py", hash="h").save()
    run = ln.Run(transform_id=t.id).save()
    run.features.add_values({"experiment": "E1", "replicate": 1})
    run.features.add_values({"replicate": 2})
    assert run.features.get_values() == {"experiment": "E1", "replicate": 2}
    assert ln.Run.filter(replicate=2).one().uid == run.uid
    with pytest.raises(ValidationError, match="replicate"):
        run.features.add_values({"replicate": "two"})
    with pytest.raises(ValidationError, match="unknown feature 'colour'"):
        run.features.add_values({"colour": "red"})
    assert run.features.get_values() == {"experiment": "E1", "replicate": 2}
