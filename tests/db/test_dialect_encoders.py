"""`Dialect.encoder` gives what `Dialect.encode` gives, kind by kind, on both backends."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from lineage.db.dialect import Dialect, PostgresDialect
from lineage.db.fields import KINDS
from lineage.errors import ValidationError

#: Values of every kind, as records hold them.
VALUES = {
    "json": [{"a": [1, 2.5, None, "é"]}, [], "text", 3],
    "datetime": [datetime(2026, 12, 7, 1, 2, 3, 456789, tzinfo=timezone.utc),
                 datetime(2026, 12, 7, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
                 datetime(2026, 12, 7, 3, 4, 5)],
    "bool": [True, False],
    "str": ["plain", "é", ""],
    "text": ["a\nlong text", "ü" * 40],
    "int": [0, -5, 2 ** 40],
    "bigint": [2 ** 60],
    "float": [0.1, -2.0],
}


@pytest.mark.parametrize("dialect", [Dialect(), PostgresDialect()], ids=["sqlite", "postgresql"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_encoder_matches_encode(dialect, kind):
    encoder = dialect.encoder(kind)
    for value in VALUES.get(kind, [1, "x"]):
        expected = dialect.encode(kind, value)
        assert (value if encoder is None else encoder(value)) == expected


@pytest.mark.parametrize("dialect", [Dialect(), PostgresDialect()], ids=["sqlite", "postgresql"])
@pytest.mark.parametrize(("kind", "value"), [("text", "a\x00b"), ("str", "\udcff"),
                                             ("json", {"a": "\x00"})])
def test_encoder_refuses_what_encode_refuses(dialect, kind, value):
    with pytest.raises(ValidationError):
        dialect.encode(kind, value)
    with pytest.raises(ValidationError):
        dialect.encoder(kind)(value)


def test_json_is_serialized_by_one_encoder_made_once(monkeypatch):
    import json

    from lineage.db import dialect

    made = []

    class Counting(json.JSONEncoder):
        def __init__(self, *args, **kwargs):
            made.append(kwargs)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(json, "JSONEncoder", Counting)
    value = {"x": 1, "é": [1.5, None, True]}
    assert dialect.dumps(value) == '{"x":1,"é":[1.5,null,true]}'
    assert made == []  # json.dumps with options makes an encoder per call
