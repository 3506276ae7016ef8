"""The run filter language of the runs page: ``params.lr > 0.01 and features.experiment = "A"``.

A filter is clauses joined by ``and``. Each clause is ``NAME OP VALUE``:

* ``NAME``: ``params.<path>`` (dots go into nested params), ``features.<name>``,
  or a run field (``status``, ``entrypoint``, ``name``, ``host``, ...);
* ``OP``: ``=`` ``!=`` ``>`` ``>=`` ``<`` ``<=``, ``~`` (contains) or ``^``
  (starts with);
* ``VALUE``: JSON (``0.01``, ``true``, ``"text with spaces"``, ``null``) or
  a bare word taken as text.

Each clause becomes one keyword lookup of the query layer
(``params__lr__gt=0.01``), so the runs page filters exactly as
``ln.Run.filter(...)`` does.
"""

from __future__ import annotations

import json
import re
from typing import Any

from lineage.errors import ValidationError

_OPERATORS = {"=": "", "==": "", "!=": "__ne", ">": "__gt", ">=": "__gte", "<": "__lt",
              "<=": "__lte", "~": "__icontains", "^": "__startswith"}
_CLAUSE = re.compile(r"^\s*([A-Za-z_][\w.\-]*)\s*(==|!=|>=|<=|=|>|<|~|\^)\s*(.+?)\s*$", re.S)
_AND = re.compile(r"\s+and\s+", re.I)
#: Run fields a filter may name directly.
RUN_FIELDS = ("status", "entrypoint", "name", "host", "external_source", "external_id", "uid",
              "attempt")


def parse_filter(text: str) -> dict[str, Any]:
    """Query-layer lookups for a filter expression.

    Raises:
        ValidationError: A clause that does not parse, naming it and the syntax.
    """
    lookups: dict[str, Any] = {}
    for clause in _split(text):
        match = _CLAUSE.match(clause)
        if match is None:
            raise ValidationError(
                f"cannot read the filter clause {clause!r}: write NAME OP VALUE such as "
                "params.lr > 0.01, features.experiment = \"A\" or status = errored "
                "(operators = != > >= < <= ~ ^, clauses joined by 'and')."
            )
        name, op, raw = match.groups()
        lookups[_lookup_name(name, op)] = _value(raw, op)
    return lookups


def _split(text: str) -> list[str]:
    """Clauses of `text`, splitting on ``and`` outside quoted strings."""
    clauses, current, quoted = [], [], False
    parts = re.split(r'(")', text or "")
    for part in parts:
        if part == '"':
            quoted = not quoted
            current.append(part)
        elif quoted:
            current.append(part)
        else:
            pieces = _AND.split(part)
            current.append(pieces[0])
            for piece in pieces[1:]:
                clauses.append("".join(current))
                current = [piece]
    clauses.append("".join(current))
    return [c for c in (c.strip() for c in clauses) if c]


def _lookup_name(name: str, op: str) -> str:
    if "__" in name:
        raise ValidationError(f"{name!r}: names in filters use dots, not '__'.")
    head, _, rest = name.partition(".")
    suffix = _OPERATORS[op]
    if head in ("params", "param", "p") and rest:
        return "params__" + rest.replace(".", "__") + suffix
    if head in ("features", "feature", "f") and rest:
        if suffix:
            raise ValidationError(
                f"features support = only (got {op!r} in {name} {op} ...); filter params for "
                "comparisons."
            )
        return rest
    if head in RUN_FIELDS and not rest:
        return head + suffix
    raise ValidationError(
        f"unknown filter name {name!r}: use params.<name>, features.<name> or one of "
        f"{', '.join(RUN_FIELDS)}."
    )


def _value(raw: str, op: str) -> Any:
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    if op in ("~", "^") and not isinstance(value, str):
        value = raw
    return value
