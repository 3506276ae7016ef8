"""The flat-mapping path of `capture_params` gives what the general walk gives."""

from __future__ import annotations

import math
import warnings
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lineage.capture import params as params_module
from lineage.capture.params import TEXT_LIMIT, capture_params, to_json_safe
from lineage.capture.redact import REDACTED, redact_mapping

#: Names that are and are not secrets, with texts that hold secrets or odd characters.
NAMES = st.sampled_from(["x", "api_key", "password", "max_tokens", "path", "db_url", "a\x00b",
                         "\ud800", "tokenizer", "n"]) | st.text(max_size=12)
SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
           | st.sampled_from(["postgresql://u:pw@h/db", "--password hunter2", "a\x00b", "\udcff",
                              "plain", "token=abc123", 2 ** 20000])
           | st.text(max_size=30))


def _general(values: dict[str, Any]) -> Any:
    """The general walk `capture_params` takes for anything not flat."""
    safe, _ = to_json_safe(dict(values))
    return redact_mapping(safe)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(NAMES, SCALARS, max_size=6))
def test_flat_path_equals_the_general_walk(values: dict[str, Any]) -> None:
    flat = params_module._flat_params(values)
    expected = _general(values)
    if flat is not None:
        assert _same(flat, expected)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _same(capture_params(values), expected)


def test_flat_path_serves_plain_task_arguments_and_redacts() -> None:
    values = {"x": 3, "rate": 0.5, "name": "run", "flag": True, "api_key": "s3cr3t", "none": None,
              "url": "postgresql://bob:pw@db/x"}
    flat = params_module._flat_params(values)
    assert flat is not None  # fails if the fast path refused plain arguments
    assert flat["api_key"] == REDACTED
    assert "pw" not in flat["url"]
    assert flat == _general(values)


def test_flat_path_leaves_what_needs_the_walk() -> None:
    for values in ({"x": [1]}, {"x": math.nan}, {"x": "a\x00b"}, {1: 2}, {"x": 2 ** 20000},
                   {"x": "y" * (TEXT_LIMIT + 1)}, {str(i): i for i in range(1001)}):
        assert params_module._flat_params(values) is None


def _same(a: Any, b: Any) -> bool:
    """Equal, NaN equal to NaN (floats are compared as stored)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b
