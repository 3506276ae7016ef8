"""What a task try is given: its explicit arguments and the logical date.

Read when the task starts running: templates are rendered and XCom
arguments resolved by then, and the operator does not yet hold the
template context (after ``execute`` starts, ``op_kwargs`` of a
PythonOperator is the whole context, with its ``var`` and ``conn``
accessors: never stored). Values of connections and variables the task
fetched are masked by Airflow's secrets masker, then lineage redacts
secret-looking names and values as for any run.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from lineage_airflow import _internals

#: Modules whose objects are template-context accessors, never parameters.
_CONTEXT_MODULES = ("airflow.sdk.execution_time.context", "airflow.sdk.definitions.context")


def task_params(task: Any, logical_date: Any = None) -> dict[str, Any]:
    """The explicit arguments of `task` (an operator as it is about to execute).

    Operators that call a Python function (``PythonOperator``, ``@task``,
    branch and short-circuit operators) give the function's arguments by
    name (``op_args`` bound to its signature, and ``op_kwargs``); other
    operators their non-empty template fields (``bash_command``, ``sql``,
    ...). ``logical_date`` is added (ISO 8601) unless an argument has that
    name.
    """
    params = _callable_arguments(task)
    if params is None:
        params = {}
        for name in getattr(task, "template_fields", ()) or ():
            value = getattr(task, name, None)
            if value is None or value == "" or value == [] or value == {}:
                continue
            params[name] = value
    params = {k: _materialized(v) for k, v in params.items() if not _is_context_object(v)}
    params = _internals.redact(params)
    if logical_date is not None and "logical_date" not in params:
        params["logical_date"] = _iso(logical_date)
    return params


def dag_params(params: Mapping[str, Any] | None, logical_date: Any = None) -> dict[str, Any]:
    """The DAG run's params (as resolved with the run's conf) and its logical date."""
    values: dict[str, Any] = {}
    for name, value in dict(params or {}).items():
        values[name] = getattr(value, "value", value)  # a Param object: its value
    values = _internals.redact(values)
    if logical_date is not None and "logical_date" not in values:
        values["logical_date"] = _iso(logical_date)
    return values


def _callable_arguments(task: Any) -> dict[str, Any] | None:
    fn = getattr(task, "python_callable", None)
    op_args = getattr(task, "op_args", None)
    op_kwargs = getattr(task, "op_kwargs", None)
    if fn is None or (op_args is None and op_kwargs is None):
        return None
    args = list(op_args or ())
    kwargs = dict(op_kwargs or {})
    try:
        bound = inspect.signature(fn).bind_partial(*args, **kwargs).arguments
    except (TypeError, ValueError):  # no signature, or arguments that do not fit it
        return {"op_args": args, **kwargs} if args else kwargs
    arguments = dict(bound)
    templates = getattr(task, "templates_dict", None)
    if templates:
        arguments.setdefault("templates_dict", templates)
    return arguments


def _materialized(value: Any) -> Any:
    """A list for sequences that are no list (the lazy XCom values of a mapped task)."""
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes, list, tuple)):
        return list(value)
    return value


def _is_context_object(value: Any) -> bool:
    module = type(value).__module__ or ""
    return module.startswith(_CONTEXT_MODULES)


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
