"""Drop-in ``flow`` and ``task``: Prefect's decorators with lineage's hooks.

``from lineage_prefect import flow, task`` instead of ``from prefect import
flow, task`` is the one change: the arguments are Prefect's (hooks of
your own are kept and run first) and the result is Prefect's ``Flow`` or
``Task``. A task's function is wrapped: the wrapper records each
attempt's start (instead of an ``on_running`` hook: Prefect's call of a
hook costs more CPU than the recording) and, when it raises, its own
traceback, also when Prefect retries it (Prefect reports no failure for
attempts that are retried). A cached result, which runs no body, is
recorded by the completion hook. The wrapper tells Prefect the original
function (``__prefect_task_source__``), so task keys and source-based
cache keys are those of the undecorated task.
"""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Any, Callable

import prefect

from lineage import lifecycle
from lineage_prefect import recorder
from lineage_prefect.state_hooks import merged

#: What recording failures are about (one kind: logged once, also by the hooks).
_WHAT = "Prefect runs"


def _flow(__fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    options = merged(options, flow=True)
    if __fn is None:
        return lambda fn: prefect.flow(fn, **options)
    return prefect.flow(__fn, **options)


def _task(__fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    def decorate(fn: Callable[..., Any]) -> Any:
        recording = _recording(fn)
        return prefect.task(recording, **merged(options, flow=False, running=recording is fn))

    return decorate if __fn is None else decorate(__fn)


def _recording(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn`, recording each attempt's start and, before Prefect handles it, its exception.

    Generator tasks are left as they are: their start is recorded by an
    ``on_running`` hook, their failure from Prefect's final state.
    """
    if not callable(fn) or inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
        return fn
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            entry = _started()
            try:
                return await fn(*args, **kwargs)
            except BaseException as exc:
                _failed(exc)
                raise
            finally:
                _left(entry)
    else:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            entry = _started()
            try:
                return fn(*args, **kwargs)
            except BaseException as exc:
                _failed(exc)
                raise
            finally:
                _left(entry)
    wrapper.__prefect_task_source__ = fn  # type: ignore[attr-defined]
    return wrapper


def _started() -> Any:
    with lifecycle.guarded("prefect", _WHAT):
        return recorder.task_body_started()
    return None  # recording failed (logged once)


def _left(entry: Any) -> None:
    if entry is not None:
        with lifecycle.guarded("prefect", _WHAT):
            recorder.task_body_left(entry)


def _failed(exc: BaseException) -> None:
    with lifecycle.guarded("prefect", _WHAT):
        recorder.body_failed("task", exc)


def _as_prefects(ours: Callable[..., Any], theirs: Any, name: str) -> Callable[..., Any]:
    """`ours` named `name`, with the signature and documentation of Prefect's `theirs`."""
    ours.__name__ = ours.__qualname__ = name
    ours.__signature__ = inspect.signature(theirs)  # type: ignore[attr-defined]
    ours.__doc__ = (f"Prefect's ``{name}`` decorator, recording every {name} run in lineage."
                    f"\n\n{inspect.getdoc(theirs) or ''}")
    return ours


if TYPE_CHECKING:  # type checkers and IDEs see Prefect's own overloads
    from prefect import flow, task
else:
    flow = _as_prefects(_flow, prefect.flow, "flow")
    task = _as_prefects(_task, prefect.task, "task")
