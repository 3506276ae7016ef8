"""Run parameters: bind a call's arguments and make them JSON-safe.

Encoding of values JSON cannot hold (never dropped silently):

* ``nan``, ``inf``, ``-inf`` -> ``{"__float__": "nan" | "inf" | "-inf"}``
* a lineage record (has ``uid`` and a ``__tablename__``) ->
  ``{"__record__": "Artifact", "uid": "..."}``
* an enum member -> ``{"__enum__": "module.Class", "name": "...", "value": ...}``
* ``Path`` -> ``str``; ``datetime``/``date``/``time`` -> ISO 8601; ``UUID`` -> ``str``;
  tuples and sets -> lists (sets sorted); numpy scalars -> Python scalars
* anything else -> ``{"__repr__": repr(value), "__type__": "module.QualName"}``
  (the repr shortened to `REPR_LIMIT` characters) and a warning naming the
  parameter path and the type.

Capture survives any value: text the database cannot hold (NUL characters,
lone surrogates from undecodable bytes) is stored as its repr, which
``ast.literal_eval`` turns back into the exact string; a dict key of that
kind is escaped (`lineage.capture.escape`); an object whose ``__getattr__``,
``__repr__``, ``__len__`` or ``__iter__`` raises is stored as its repr (or
its type when even that fails). Size is bounded: a string, or a container
nested deeper than `DEPTH_LIMIT` or holding more values than are left of
`VALUE_LIMIT` (or characters of `TEXT_LIMIT`) for the whole call, is stored
as its shortened repr plus ``"__len__"``, with a warning.
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

from lineage.capture.escape import escape_text, is_storable
from lineage.capture.redact import REDACTED, is_secret_name, redact_mapping, redact_text
from lineage.errors import ParameterBindError

#: Longest repr stored (characters); longer ones keep their start and end.
REPR_LIMIT = 2000
#: Most values (scalars and items, at every level) one call stores as they are.
VALUE_LIMIT = 100_000
#: Most characters of strings one call stores as they are.
TEXT_LIMIT = 1_000_000
#: Deepest nesting of containers stored as they are.
DEPTH_LIMIT = 64
_CONTAINERS = (dict, list, tuple, set, frozenset)
_INT_DIGITS_LIMIT = 4000  # str(int) refuses more than 4300 digits by default


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


#: Most items `_flat_params` takes; larger mappings take the general walk.
_FLAT_LIMIT = 1000


def _flat_params(params: Mapping[str, Any]) -> dict[str, Any] | None:
    """`capture_params` of a flat mapping of plain scalars and texts, the common case.

    An engine's task arguments are mostly a few numbers and short strings:
    they are stored as they are (texts redacted), with none of the general
    walk. Returns None when any item needs that walk (a container, another
    type, a key or text that must be escaped, NaN, a huge integer or text),
    which then gives the same result it always did.
    """
    if len(params) > _FLAT_LIMIT:
        return None
    out: dict[str, Any] = {}
    chars = TEXT_LIMIT
    for key, value in params.items():
        if type(key) is not str or not is_storable(key):
            return None
        cls = type(value)
        if value is None or cls is bool:
            out[key] = value
            continue
        if cls is str:
            chars -= len(value)
            if chars < 0 or not is_storable(value):
                return None
        elif cls is int:
            if value.bit_length() > _INT_DIGITS_LIMIT * 3:
                return None
        elif cls is not float or not math.isfinite(value):
            return None
        out[key] = (REDACTED if is_secret_name(key) else
                    redact_text(value) if cls is str else value)
    return out


def to_json_safe(value: Any, path: str = "") -> tuple[Any, list[str]]:
    """Convert a value to a JSON-compatible one (encoding in the module docstring).

    Never raises, whatever the value.

    Args:
        value: Any Python value.
        path: Where the value sits, for warnings (``"config.layers[2]"``).

    Returns:
        The JSON-compatible value and a list of warnings, one per value that
        had to be stored as its repr or was otherwise changed lossily.
    """
    converter = _Converter()
    return converter.convert(value, path, 0), converter.warns


class _Converter:
    """One conversion: its warnings, the containers being visited, what is left of the limits."""

    def __init__(self) -> None:
        self.warns: list[str] = []
        self.active: set[int] = set()
        self.values = VALUE_LIMIT
        self.chars = TEXT_LIMIT

    def warn(self, path: str, message: str) -> None:
        self.warns.append(f"{_label(path)}: {message}")

    def convert(self, value: Any, path: str, depth: int) -> Any:
        try:
            return self._convert(value, path, depth)
        except Exception as exc:  # noqa: BLE001 - any object, however broken, is captured
            self.warn(path, f"converting a {_qualname(value)} raised {type(exc).__name__}; "
                            "stored as its repr.")
            return _as_repr(value)

    def _convert(self, value: Any, path: str, depth: int) -> Any:
        # Only type(value) is asked about the value, never the value itself
        # (isinstance falls back to value.__class__, which may raise).
        self.values -= 1
        cls = type(value)
        if value is None or cls is bool:
            return value
        if cls is str:
            return self._text(value, path)
        if issubclass(cls, enum.Enum):
            return {
                "__enum__": escape_text(f"{cls.__module__}.{cls.__qualname__}"),
                "name": escape_text(value.name),
                "value": self.convert(value.value, f"{path}.value", depth + 1),
            }
        if issubclass(cls, str):
            return self._text(str.__str__(value), path)
        if issubclass(cls, int):
            return self._int(int(value), path)
        if issubclass(cls, float):
            return _float(float(value))
        if getattr(cls, "__tablename__", None) is not None:
            uid = getattr(value, "uid", _MISSING)
            if uid is not _MISSING:
                return {"__record__": escape_text(cls.__name__), "uid": self.convert(uid, path, depth)}
        numpy = sys.modules.get("numpy")
        if numpy is not None and issubclass(cls, numpy.generic):
            item = value.item()
            if not isinstance(item, numpy.generic):
                return self.convert(item, path, depth)
        if issubclass(cls, PurePath):
            return self._text(str(value), path, original=value)
        if issubclass(cls, (dt.datetime, dt.date, dt.time)):
            return self._text(value.isoformat(), path, original=value)
        if issubclass(cls, uuid.UUID):
            return str(value)
        if issubclass(cls, _CONTAINERS):
            return self._container(value, path, depth)
        self.warn(path, f"a {_qualname(value)} is not JSON-serializable; stored as its repr.")
        return _as_repr(value)

    def _text(self, text: str, path: str, original: Any = None) -> Any:
        shown = text if original is None else original
        if len(text) > self.chars:
            self.warn(path, f"a text of {len(text)} characters does not fit in the {TEXT_LIMIT} "
                            "characters a run's parameters keep; stored as its shortened repr.")
            return {**_as_repr(shown), "__len__": len(text)}
        self.chars -= len(text)
        if not is_storable(text):
            self.warn(path, "the text holds NUL characters or lone surrogates (undecodable "
                            "bytes), which the database cannot store; stored as its repr.")
            return _as_repr(shown)
        return text

    def _int(self, value: int, path: str) -> Any:
        if value.bit_length() > _INT_DIGITS_LIMIT * 3:  # about 0.3 decimal digits per bit
            self.warn(path, f"an integer of {value.bit_length()} bits is too long to store; "
                            "stored as its size.")
            return {"__repr__": f"<int of {value.bit_length()} bits>", "__type__": "builtins.int"}
        return value

    def _container(self, value: Any, path: str, depth: int) -> Any:
        if id(value) in self.active:
            self.warn(path, "circular reference; stored as its repr.")
            return {"__repr__": "<circular reference>", "__type__": _qualname(value)}
        size = len(value)
        if depth >= DEPTH_LIMIT or size > self.values:
            why = (f"nested deeper than {DEPTH_LIMIT} levels" if depth >= DEPTH_LIMIT else
                   f"holds {size} items, more than the {VALUE_LIMIT} values a run's parameters keep")
            self.warn(path, f"a {_qualname(value)} {why}; stored as its shortened repr.")
            return {**_as_repr(value), "__len__": size}
        self.active.add(id(value))
        try:
            if issubclass(type(value), dict):
                return self._mapping(value, path, depth)
            items = [self.convert(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]
        finally:
            self.active.discard(id(value))
        if issubclass(type(value), (set, frozenset)):
            try:
                items.sort()
            except TypeError:
                items.sort(key=lambda v: json.dumps(v, sort_keys=True))
        return items

    def _mapping(self, value: dict[Any, Any], path: str, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, item in value.items():
            skey = self._key(key, path)
            if skey in out:
                self.warn(path, f"two keys map to {skey!r}; the later one is kept.")
            out[skey] = self.convert(item, f"{path}.{skey}" if path else skey, depth + 1)
        return out

    def _key(self, key: Any, path: str) -> str:
        if issubclass(type(key), str):
            key = str.__str__(key)
        else:
            try:
                text = str(key)
            except Exception:  # noqa: BLE001 - a broken __str__ still gives a key
                text = _short_repr(key)
            self.warn(path, f"key {escape_text(text)!r} of type {_qualname(key)} stored as a string.")
            key = text
        if not is_storable(key):
            self.warn(path, f"key {escape_text(key)!r} holds NUL characters or lone surrogates; "
                            "stored escaped.")
            key = escape_text(key)
        return key


_MISSING = object()


def _qualname(value: Any) -> str:
    cls = type(value)
    try:
        return escape_text(f"{cls.__module__}.{cls.__qualname__}")
    except Exception:  # noqa: BLE001 - a metaclass may break even this
        return "<unknown type>"


def _label(path: str) -> str:
    return f"parameter {path!r}" if path else "parameter value"


def _float(value: float) -> Any:
    if math.isnan(value):
        return {"__float__": "nan"}
    if math.isinf(value):
        return {"__float__": "inf" if value > 0 else "-inf"}
    return value


def _as_repr(value: Any) -> dict[str, Any]:
    return {"__repr__": _short_repr(value), "__type__": _qualname(value)}


def _short_repr(value: Any) -> str:
    """``repr(value)``, storable, at most `REPR_LIMIT` characters; never raises.

    Containers are summarized item by item (`reprlib`), so a huge one is
    not rendered whole; secrets are redacted before the text is shortened,
    so a cut never leaves half a secret.
    """
    try:
        text = _repr_bounded(value)
    except Exception as e:  # noqa: BLE001 - a broken __repr__ must not break the run
        text = f"<{_qualname(value)} object; repr() raised {type(e).__name__}>"
    text = escape_text(redact_text(text))
    if len(text) > REPR_LIMIT:
        head = (REPR_LIMIT - 3) // 2
        text = text[:head] + "..." + text[len(text) - (REPR_LIMIT - 3 - head):]
    return text


def _repr_bounded(value: Any) -> str:
    import reprlib

    cls = type(value)
    if issubclass(cls, (str, bytes, bytearray)):
        shown = repr(value[:REPR_LIMIT])
        return shown + "..." if len(value) > REPR_LIMIT else shown
    if issubclass(cls, _CONTAINERS):
        summary = reprlib.Repr()
        summary.maxlevel = 3
        summary.maxstring = summary.maxother = 200
        for name in ("maxdict", "maxlist", "maxtuple", "maxset", "maxfrozenset"):
            setattr(summary, name, 20)
        method = {dict: summary.repr_dict, list: summary.repr_list, tuple: summary.repr_tuple,
                  set: summary.repr_set, frozenset: summary.repr_frozenset}
        for base, render in method.items():
            if issubclass(cls, base):
                return render(value, summary.maxlevel)
    return repr(value)


def capture_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Make parameters storable: JSON-safe and with secrets redacted.

    Emits one ``UserWarning`` per value stored lossily (as its repr),
    attributed to the first caller outside lineage (the user's code).
    Never raises because of a value (see the module docstring).

    Args:
        params: Parameter name -> value, e.g. from `bind_arguments` or ``track(params=...)``.

    Returns:
        A new JSON-compatible dict.
    """
    flat = _flat_params(params)
    if flat is not None:
        return flat
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
