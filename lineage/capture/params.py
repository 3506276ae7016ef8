"""Run parameters: bind a call's arguments and make them JSON-safe.

Encoding of values JSON cannot hold (never dropped silently):

* ``nan``, ``inf``, ``-inf`` -> ``{"__float__": "nan" | "inf" | "-inf"}``
* a lineage record (has ``uid`` and a ``__tablename__``) ->
  ``{"__record__": "Artifact", "uid": "..."}``
* an enum member -> ``{"__enum__": "module.Class", "name": "...", "value": ...}``
* ``Path`` -> ``str``; ``datetime``/``date``/``time`` -> ISO 8601; ``UUID`` -> ``str``;
  tuples and sets -> lists (sets sorted); numpy scalars -> Python scalars
* anything else -> ``{"__repr__": repr(value)[:2000], "__type__": "module.QualName"}``
  and a warning naming the parameter path and the type.
"""

from __future__ import annotations

import datetime as dt
import enum
import inspect
import json
import math
import sys
import uuid
import warnings
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from lineage.capture.redact import redact_mapping
from lineage.errors import ParameterBindError

REPR_LIMIT = 2000


def bind_arguments(
    signature: inspect.Signature, func_name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """Bind a call's arguments to a signature, defaults applied.

    A ``*args`` parameter is stored as a list under its own name (``[]`` when
    empty). ``**kwargs`` entries are merged into the top level, as if they
    were named parameters; if one collides with a parameter name (possible
    only with positional-only parameters) they all stay nested as a dict
    under the ``**kwargs`` parameter's name instead.

    Args:
        signature: ``inspect.signature`` of the function.
        func_name: Name used in the error message.
        args: Positional arguments of the call.
        kwargs: Keyword arguments of the call.

    Returns:
        Parameter name -> value, in signature order; values are not converted.

    Raises:
        ParameterBindError: The arguments do not match the signature. The
            message shows the signature and the types passed, never values.
    """
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as e:
        passed = ", ".join(type(a).__name__ for a in args) or "none"
        names = ", ".join(kwargs) or "none"
        raise ParameterBindError(
            f"{func_name}{signature}: {e}. It was called with {len(args)} positional "
            f"argument(s) of type(s) {passed} and keyword argument(s) {names}. "
            "Call it with arguments that match its signature."
        ) from e
    bound.apply_defaults()
    params: dict[str, Any] = {}
    extra: dict[str, Any] | None = None
    extra_name = ""
    for name, value in bound.arguments.items():
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            params[name] = list(value)
        elif kind is inspect.Parameter.VAR_KEYWORD:
            extra, extra_name = dict(value), name
        else:
            params[name] = value
    if extra:
        if extra.keys() & params.keys():
            params[extra_name] = extra
        else:
            params.update(extra)
    return params


def _qualname(value: Any) -> str:
    cls = type(value)
    return f"{cls.__module__}.{cls.__qualname__}"


def _label(path: str) -> str:
    return f"parameter {path!r}" if path else "parameter value"


def to_json_safe(value: Any, path: str = "") -> tuple[Any, list[str]]:
    """Convert a value to a JSON-compatible one (encoding in the module docstring).

    Args:
        value: Any Python value.
        path: Where the value sits, for warnings (``"config.layers[2]"``).

    Returns:
        The JSON-compatible value and a list of warnings, one per value that
        had to be stored as its repr or was otherwise changed lossily.
    """
    warns: list[str] = []
    return _convert(value, path, warns, set()), warns


def _convert(value: Any, path: str, warns: list[str], active: set[int]) -> Any:
    if value is None or isinstance(value, bool) or type(value) is str:
        return value
    if isinstance(value, enum.Enum):
        return {
            "__enum__": f"{type(value).__module__}.{type(value).__qualname__}",
            "name": value.name,
            "value": _convert(value.value, f"{path}.value", warns, active),
        }
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _float(float(value))
    if hasattr(value, "uid") and hasattr(type(value), "__tablename__"):
        return {"__record__": type(value).__name__, "uid": value.uid}
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.generic):
        item = value.item()
        if not isinstance(item, numpy.generic):
            return _convert(item, path, warns, active)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (dict, list, tuple, set, frozenset)):
        if id(value) in active:
            warns.append(f"{_label(path)}: circular reference; stored as its repr.")
            return {"__repr__": "<circular reference>", "__type__": _qualname(value)}
        active.add(id(value))
        try:
            return _container(value, path, warns, active)
        finally:
            active.discard(id(value))
    warns.append(
        f"{_label(path)}: a {_qualname(value)} is not JSON-serializable; stored as its repr."
    )
    return {"__repr__": _safe_repr(value)[:REPR_LIMIT], "__type__": _qualname(value)}


def _container(value: Any, path: str, warns: list[str], active: set[int]) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, str):
                skey = key
            else:
                skey = str(key)
                warns.append(
                    f"{_label(path)}: key {skey!r} of type {_qualname(key)} stored as a string."
                )
            if skey in out:
                warns.append(f"{_label(path)}: two keys map to {skey!r}; the later one is kept.")
            out[skey] = _convert(item, f"{path}.{skey}" if path else skey, warns, active)
        return out
    items = [_convert(v, f"{path}[{i}]", warns, active) for i, v in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        try:
            items.sort()
        except TypeError:
            items.sort(key=lambda v: json.dumps(v, sort_keys=True))
    return items


def _float(value: float) -> Any:
    if math.isnan(value):
        return {"__float__": "nan"}
    if math.isinf(value):
        return {"__float__": "inf" if value > 0 else "-inf"}
    return value


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception as e:  # a broken __repr__ must not break the run
        return f"<{_qualname(value)} object; repr() raised {type(e).__name__}>"


def capture_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Make parameters storable: JSON-safe and with secrets redacted.

    Emits one ``UserWarning`` per value stored lossily (as its repr),
    attributed to the first caller outside lineage (the user's code).

    Args:
        params: Parameter name -> value, e.g. from `bind_arguments` or ``track(params=...)``.

    Returns:
        A new JSON-compatible dict.
    """
    safe, warns = to_json_safe(dict(params))
    for message in warns:
        warn_at_caller(message)
    return redact_mapping(safe)


def warn_at_caller(message: str) -> None:
    """Warn (``UserWarning``) at the innermost frame outside the lineage package."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] == "lineage":
        frame = frame.f_back
    if frame is None:
        warnings.warn(message, UserWarning, stacklevel=2)
        return
    warnings.warn_explicit(message, UserWarning, frame.f_code.co_filename, frame.f_lineno,
                           module=frame.f_globals.get("__name__"),
                           registry=frame.f_globals.setdefault("__warningregistry__", {}))
