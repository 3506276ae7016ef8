"""Tests for lineage.capture.params."""

from __future__ import annotations

import datetime as dt
import enum
import inspect
import json
import math
import uuid
from pathlib import Path
from typing import Any

import pytest

from lineage.capture.params import bind_arguments, capture_params, to_json_safe
from lineage.errors import LineageError, ParameterBindError, ValidationError


class Record:
    """Stands in for a lineage record: has a uid and a table name."""

    __tablename__ = "artifact"

    def __init__(self, uid: str) -> None:
        self.uid = uid


class Opaque:
    def __repr__(self) -> str:
        return "Opaque(42)"


class BrokenRepr:
    def __repr__(self) -> str:
        raise RuntimeError("boom")


class Color(enum.Enum):
    RED = "red"


def _json_strict(value: Any) -> str:
    return json.dumps(value, allow_nan=False)  # raises on NaN/inf or non-JSON types


# --- bind_arguments -------------------------------------------------------


def train(data, epochs: int = 10, *layers, lr: float = 0.1, **extra):  # noqa: ANN
    return None


def test_bind_applies_defaults_and_flattens_varargs() -> None:
    sig = inspect.signature(train)
    assert bind_arguments(sig, "train", ("d.csv",), {}) == {
        "data": "d.csv", "epochs": 10, "layers": [], "lr": 0.1,
    }
    got = bind_arguments(sig, "train", ("d.csv", 3, 64, 32), {"lr": 0.5, "seed": 7})
    assert got == {"data": "d.csv", "epochs": 3, "layers": [64, 32], "lr": 0.5, "seed": 7}
    assert list(got) == ["data", "epochs", "layers", "lr", "seed"]


def test_bind_nests_var_keyword_on_collision() -> None:
    def f(a, /, **kw):  # noqa: ANN001, ANN003
        return None

    got = bind_arguments(inspect.signature(f), "f", (1,), {"a": 2, "b": 3})
    assert got == {"a": 1, "kw": {"a": 2, "b": 3}}


def test_bind_error_shows_signature_not_values() -> None:
    sig = inspect.signature(train)
    with pytest.raises(ParameterBindError) as info:
        bind_arguments(sig, "train", (), {"password": "hunter2", "bogus": 1})
    err = info.value
    assert isinstance(err, TypeError)
    assert isinstance(err, ValidationError) and isinstance(err, ValueError)
    assert isinstance(err, LineageError)
    message = str(err)
    assert message.startswith(f"train{sig}: missing a required argument: 'data'")
    assert "password, bogus" in message
    assert "hunter2" not in message
    assert isinstance(err.__cause__, TypeError)


# --- to_json_safe ---------------------------------------------------------


def test_plain_json_values_are_kept() -> None:
    value = {"a": 1, "b": [1.5, "x", None, True], "c": {"d": False}}
    assert to_json_safe(value) == (value, [])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (float("nan"), {"__float__": "nan"}),
        (float("inf"), {"__float__": "inf"}),
        (-math.inf, {"__float__": "-inf"}),
        (Path("/data/x.csv"), "/data/x.csv"),
        (dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.timezone.utc), "2024-05-01T12:30:00+00:00"),
        (dt.date(2024, 5, 1), "2024-05-01"),
        (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        ((1, 2), [1, 2]),
        ({3, 1, 2}, [1, 2, 3]),
        (frozenset({"b", "a"}), ["a", "b"]),
        ({1, "a"}, ["a", 1]),  # mixed set: ordered by JSON text, '"a"' < '1'
        (Record("abc123"), {"__record__": "Record", "uid": "abc123"}),
        (Color.RED, {"__enum__": f"{__name__}.Color", "name": "RED", "value": "red"}),
    ],
)
def test_conversions_without_warning(value: Any, expected: Any) -> None:
    converted, warns = to_json_safe(value)
    assert converted == expected
    assert warns == []
    _json_strict(converted)


def test_numpy_scalars_become_python_scalars() -> None:
    np = pytest.importorskip("numpy")
    converted, warns = to_json_safe(
        {"i": np.int64(3), "f": np.float32(0.5), "b": np.bool_(True), "n": np.float64("nan")}
    )
    assert converted == {"i": 3, "f": 0.5, "b": True, "n": {"__float__": "nan"}}
    assert type(converted["i"]) is int and type(converted["b"]) is bool
    assert warns == []


def test_unknown_object_stored_as_repr_with_warning_naming_path() -> None:
    converted, warns = to_json_safe({"model": {"layers": [1, Opaque()]}})
    assert converted == {
        "model": {
            "layers": [1, {"__repr__": "Opaque(42)", "__type__": f"{__name__}.Opaque"}]
        }
    }
    assert len(warns) == 1
    assert "'model.layers[1]'" in warns[0] and f"{__name__}.Opaque" in warns[0]


def test_repr_is_truncated_and_broken_repr_survives() -> None:
    class Long:
        def __repr__(self) -> str:
            return "x" * 5000

    converted, _ = to_json_safe(Long())
    assert len(converted["__repr__"]) == 2000
    converted, warns = to_json_safe(BrokenRepr())
    assert "RuntimeError" in converted["__repr__"] and len(warns) == 1


def test_non_string_keys_are_converted_with_warning() -> None:
    converted, warns = to_json_safe({1: "a", (2, 3): "b"})
    assert converted == {"1": "a", "(2, 3)": "b"}
    assert len(warns) == 2 and "int" in warns[0] and "tuple" in warns[1]


def test_circular_reference_does_not_recurse_forever() -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    converted, warns = to_json_safe(loop)
    assert converted[0] == 1 and converted[1]["__repr__"] == "<circular reference>"
    assert len(warns) == 1


# --- capture_params -------------------------------------------------------


def test_capture_params_warns_redacts_and_keeps_references() -> None:
    params = {
        "input": Record("art1"),
        "out_dir": Path("results"),
        "threshold": float("nan"),
        "model": Opaque(),
        "password": "hunter2",
        "db_url": "postgresql://u:pw@db/x",
        "config": {"api_key": "k", "max_tokens": 5},
    }
    with pytest.warns(UserWarning, match=r"parameter 'model'.*Opaque.*repr") as record:
        captured = capture_params(params)
    assert record[0].filename == __file__  # attributed to the caller, not to lineage
    assert captured == {
        "input": {"__record__": "Record", "uid": "art1"},
        "out_dir": "results",
        "threshold": {"__float__": "nan"},
        "model": {"__repr__": "Opaque(42)", "__type__": f"{__name__}.Opaque"},
        "password": "***",
        "db_url": "postgresql://u:***@db/x",
        "config": {"api_key": "***", "max_tokens": 5},
    }
    text = _json_strict(captured)
    assert "hunter2" not in text and ":pw@" not in text


def test_capture_params_redacts_secrets_inside_reprs() -> None:
    class Config:
        def __repr__(self) -> str:
            return "Config(password='hunter2', lr=0.1)"

    with pytest.warns(UserWarning):
        captured = capture_params({"cfg": Config()})
    assert captured["cfg"]["__repr__"] == "Config(password='***', lr=0.1)"


# --- values the database cannot hold, hostile and huge objects (issue 10, items 6-7) ----


@pytest.mark.parametrize("text", ["a\x00b", "data\udcff.csv", "\ud800"])
def test_text_with_nul_or_lone_surrogates_is_stored_as_its_repr(text: str) -> None:
    converted, warns = to_json_safe({"name": text})
    assert converted == {"name": {"__repr__": repr(text), "__type__": "builtins.str"}}
    assert len(warns) == 1 and "NUL characters or lone surrogates" in warns[0]
    import ast

    assert ast.literal_eval(converted["name"]["__repr__"]) == text
    _json_strict(converted)


def test_keys_with_nul_or_lone_surrogates_are_escaped() -> None:
    converted, warns = to_json_safe({"data\udcff.csv": 1, "a\x00": 2, "ok": 3})
    assert converted == {"data\\xff.csv": 1, "a\\x00": 2, "ok": 3}
    assert len(warns) == 2


class GetattrRaises:
    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(name)


class GetattributeRaises:
    def __getattribute__(self, name: str) -> Any:
        raise KeyError(name)


class NulRepr:
    def __repr__(self) -> str:
        return "Nul(\x00, \udcff)"


def test_objects_whose_attribute_access_raises_are_stored_as_their_repr() -> None:
    for value in (GetattrRaises(), GetattributeRaises()):
        converted, warns = to_json_safe(value)
        assert converted["__type__"] == f"{__name__}.{type(value).__qualname__}"
        assert converted["__repr__"].startswith(f"<{__name__}.{type(value).__qualname__} object")
        assert len(warns) == 1


def test_a_repr_the_database_cannot_hold_is_escaped() -> None:
    converted, _ = to_json_safe(NulRepr())
    assert converted["__repr__"] == "Nul(\\x00, \\xff)"


def test_huge_and_deep_values_are_summarized_with_their_size() -> None:
    from lineage.capture.params import DEPTH_LIMIT, REPR_LIMIT, TEXT_LIMIT, VALUE_LIMIT

    converted, warns = to_json_safe({
        "many": list(range(VALUE_LIMIT + 1)),
        "long": "y" * (TEXT_LIMIT + 1),
        "blob": b"\x01" * 10_000_000,
        "big": 10**20_000,
    })
    assert converted["many"]["__len__"] == VALUE_LIMIT + 1
    assert converted["many"]["__repr__"].startswith("[0, 1, 2")
    assert converted["long"]["__len__"] == TEXT_LIMIT + 1
    assert converted["blob"]["__repr__"].startswith("b'\\x01\\x01")
    assert converted["big"]["__type__"] == "builtins.int"
    assert all(len(v["__repr__"]) <= REPR_LIMIT for v in converted.values())
    assert len(warns) == 4

    deep: list[Any] = []
    node = deep
    for _ in range(DEPTH_LIMIT * 3):
        node.append([])
        node = node[0]
    converted, warns = to_json_safe(deep)
    for _ in range(DEPTH_LIMIT):
        converted = converted[0]
    assert converted["__type__"] == "builtins.list" and "__len__" in converted
    assert any(f"deeper than {DEPTH_LIMIT}" in w for w in warns)


def test_what_fits_the_limits_is_kept_whole() -> None:
    from lineage.capture.params import VALUE_LIMIT

    values = list(range(VALUE_LIMIT // 2))
    converted, warns = to_json_safe({"values": values, "text": "z" * 500_000})
    assert converted == {"values": values, "text": "z" * 500_000} and warns == []


def test_a_secret_is_redacted_before_a_long_repr_is_shortened() -> None:
    from lineage.capture.params import REPR_LIMIT

    class Config:  # the cut falls inside the word "password"
        def __repr__(self) -> str:
            head = (REPR_LIMIT - 3) // 2
            text = "x" * (head - 4) + "password=" + "S" * REPR_LIMIT
            return text[:REPR_LIMIT + 1]

    converted, _ = to_json_safe(Config())
    assert "S" not in converted["__repr__"]
