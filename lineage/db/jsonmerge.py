"""Three-way merge of JSON values: disjoint key-path edits merge, overlaps conflict."""

from __future__ import annotations

import copy
from typing import Any

_MISSING = object()


class MergeConflict(Exception):
    """Both sides changed the same key path.

    Attributes:
        path: Dotted key path of the first conflict ("" for the whole value).
    """

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def merge_json(base: Any, mine: Any, theirs: Any, path: str = "") -> Any:
    """Apply the edits base→mine on top of theirs.

    Raises:
        MergeConflict: base→theirs changed a key path that base→mine changed too.
    """
    if mine == theirs:
        return copy.deepcopy(mine)
    if theirs == base:
        return copy.deepcopy(mine)
    if mine == base:
        return copy.deepcopy(theirs)
    if not all(isinstance(v, dict) for v in (base, mine, theirs)):
        raise MergeConflict(path)
    result: dict[str, Any] = {}
    for key in {**base, **mine, **theirs}:
        sub = f"{path}.{key}" if path else key
        b, m, t = base.get(key, _MISSING), mine.get(key, _MISSING), theirs.get(key, _MISSING)
        if m == t or t == b:
            value = m
        elif m == b:
            value = t
        elif all(isinstance(v, dict) for v in (b, m, t)):
            value = merge_json(b, m, t, sub)
        else:
            raise MergeConflict(sub)
        if value is not _MISSING:
            result[key] = copy.deepcopy(value)
    return result
