"""``@ln.flow`` and ``@ln.step``: every call of the function is a Run.

The decorators return definition objects (`Flow`, `Step`) that keep the
wrapped function's name, docstring and signature (``functools.update_wrapper``)
and hand each call to `lineage.lifecycle`:

* the Transform is the function's source file (key ``my_workflow.py``, the
  whole file as source), resolved once per process and instance;
  ``run.entrypoint`` is the function's qualified name;
* the call's arguments are bound to the (cached) signature with defaults
  applied and stored as ``run.params``; saved artifacts passed as arguments
  are recorded as inputs of the run;
* ``run.initiated_by_run`` is the caller's run: the current run of this
  thread or task; else, for a step, the newest active flow or tracked run
  of the process (worker threads of a ``ThreadPoolExecutor`` start with an
  empty context), for a flow only the tracked run (two flows started from
  a thread pool are unrelated); else the run of a parent process
  (``LINEAGE_PARENT_RUN_UID``);
* an exception marks the run ``errored`` with its traceback (``aborted``
  for ``KeyboardInterrupt`` and cancellation) and is re-raised unchanged.

``async def`` functions are supported; the run covers the awaited call.
A call costs two short write transactions (start, finish).
"""

from __future__ import annotations

import functools
import inspect
import threading
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Generic, ParamSpec, TypeVar, overload

from lineage import lifecycle

if TYPE_CHECKING:
    from lineage.instance import Instance
    from lineage.models.run import Run

P = ParamSpec("P")
R = TypeVar("R")
_UNSET: Any = object()


@dataclass(frozen=True)
class _Resolved:
    """What a definition needs per call, computed once per instance."""

    instance: Instance
    transform_id: int
    project_ids: list[int]
    git: dict[str, Any] | None


class Flow(Generic[P, R]):
    """A function whose every call is a Run of its file's Transform.

    Args:
        fn: The function (``def`` or ``async def``).
        project: A project name, ``ln.Project`` or list of them: the
            transform, every run and every artifact saved in a run are
            linked to it (created by name if missing).
        key: Transform key to use instead of the function's file.
        space: An ``ln.Space`` or its name: where the runs and the records
            created in them go (None: the calling run's space, else
            ``ln.settings.space``, else ``all``).
    """

    kind: ClassVar[str] = "flow"

    def __init__(self, fn: Callable[P, R], *, project: Any = None, key: str | None = None,
                 space: Any = None) -> None:
        if not callable(fn):
            raise TypeError(f"@{self.kind} decorates a function, got {fn!r}")
        if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
            raise TypeError(
                f"@{self.kind} cannot track the generator function {fn.__qualname__}: its body "
                "runs after the call returns. Return a list (or another value) instead, or "
                "decorate the function that consumes the generator.")
        self.fn = fn
        self.project = project
        self.key = key
        self.space = space
        self.is_async = inspect.iscoroutinefunction(fn)
        functools.update_wrapper(self, fn)
        if self.is_async:  # so that callers see a coroutine function
            _mark_coroutine_function(self)
        self._signature: inspect.Signature | None = None
        self._resolved: _Resolved | None = None
        self._lock = threading.Lock()

    @property
    def signature(self) -> inspect.Signature:
        """The wrapped function's signature (computed once)."""
        if self._signature is None:
            self._signature = inspect.signature(self.fn)
        return self._signature

    def with_options(self, *, project: Any = _UNSET, key: Any = _UNSET,
                     space: Any = _UNSET) -> Flow[P, R]:
        """A copy of this definition with other options; this one is unchanged."""
        return type(self)(
            self.fn,
            project=self.project if project is _UNSET else project,
            key=self.key if key is _UNSET else key,
            space=self.space if space is _UNSET else space,
        )

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._call(args, kwargs, False)

    def _call(self, args: tuple[Any, ...], kwargs: dict[str, Any], bound: bool) -> Any:
        if self.is_async:
            return self._call_async(args, kwargs, bound)
        run, activation = self._begin(args, kwargs, bound)
        try:
            result = self.fn(*args, **kwargs)
        except BaseException as exc:
            _end(run, activation, exc)
            raise
        _end(run, activation, None)
        return result

    async def _call_async(self, args: tuple[Any, ...], kwargs: dict[str, Any], bound: bool) -> Any:
        run, activation = self._begin(args, kwargs, bound)
        try:
            result = await self.fn(*args, **kwargs)
        except BaseException as exc:
            _end(run, activation, exc)
            raise
        _end(run, activation, None)
        return result

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        """Methods: bind the instance like a plain function would (``self`` is no param)."""
        if obj is None:
            return self
        return _BoundDefinition(self, obj)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.__qualname__}>"

    def __reduce__(self) -> str:
        """Pickle by reference (``module.qualname``), like the function it wraps.

        So flows and steps can be sent to ``multiprocessing`` workers and
        other executors; as for plain functions, they must be defined at
        module level.
        """
        return self.__qualname__

    # --- runtime ------------------------------------------------------------------
    def _begin(self, args: tuple[Any, ...], kwargs: dict[str, Any],
               bound: bool) -> tuple[Run, lifecycle.Activation]:
        from lineage.capture.params import bind_arguments

        params = bind_arguments(self.signature, self.__qualname__, args, kwargs)
        if bound:  # the instance of a method call is not a parameter
            params.pop(next(iter(params)), None)
        resolved = self._resolve()
        run = lifecycle.start_run(
            resolved.transform_id, params=params, entrypoint=self.__qualname__,
            projects=resolved.project_ids, git=resolved.git, inputs=_artifact_inputs(params),
            thread_fallback=self.kind != "flow", space=self.space,
        )
        return run, lifecycle.activate(run, process_wide=self.kind == "flow")

    def _resolve(self) -> _Resolved:
        from lineage.instance import current_instance

        instance = current_instance()
        resolved = self._resolved
        if resolved is not None and resolved.instance is instance:
            return resolved
        with self._lock:
            resolved = self._resolved
            if resolved is not None and resolved.instance is instance:
                return resolved
            source = lifecycle.function_transform(self.fn, self.kind, key=self.key)
            project_ids = lifecycle.resolve_projects(self.project) if self.project else []
            from lineage.tracking import install_exit_handlers

            install_exit_handlers()
            resolved = _Resolved(instance, source.transform.id, project_ids, source.git)
            self._resolved = resolved
            return resolved


class _BoundDefinition:
    """A flow or step accessed on an instance: a method call."""

    def __init__(self, definition: Flow[Any, Any], obj: Any) -> None:
        self.__func__ = definition
        self.__self__ = obj
        functools.update_wrapper(self, definition.fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.__func__._call((self.__self__, *args), kwargs, True)

    def __repr__(self) -> str:
        return f"<bound {type(self.__func__).__name__} {self.__func__.__qualname__} of {self.__self__!r}>"


class Step(Flow[P, R]):
    """A function whose every call is a Run initiated by the caller's run."""

    kind: ClassVar[str] = "step"


def _mark_coroutine_function(obj: Any) -> None:
    mark = getattr(inspect, "markcoroutinefunction", None)  # Python 3.12+
    if mark is not None:
        mark(obj)
    else:
        from asyncio import coroutines

        obj._is_coroutine = coroutines._is_coroutine


def _end(run: Run, activation: lifecycle.Activation, exc: BaseException | None) -> None:
    status = lifecycle.status_for(exc)
    try:
        lifecycle.deactivate(activation)
    finally:
        try:
            lifecycle.finish_run(run, status, exc if status != "completed" else None)
        except Exception as error:
            if exc is None:
                raise
            warnings.warn(f"lineage: could not record the end of run {run.uid}: {error}",
                          RuntimeWarning, stacklevel=3)


def _artifact_inputs(params: dict[str, Any]) -> list[int]:
    """Ids of saved artifacts passed as arguments (or as items of list/tuple arguments).

    Looks only at each item's type (once per type), never at the item
    itself unless it is an artifact, so any object can be passed, and a
    list of millions of numbers costs little.
    """
    ids: dict[int, None] = {}  # ordered, no duplicates
    other_types: set[type] = set()
    for value in params.values():
        items = value if issubclass(type(value), (list, tuple)) else (value,)
        for item in items:
            cls = type(item)
            if cls in other_types:
                continue
            try:
                is_artifact = getattr(cls, "__tablename__", None) == "artifact"
            except Exception:  # noqa: BLE001 - a broken metaclass is no artifact
                is_artifact = False
            if not is_artifact:
                other_types.add(cls)
                continue
            artifact_id = getattr(item, "id", None)
            if artifact_id is not None:
                ids[artifact_id] = None
    return list(ids)


# --- decorators --------------------------------------------------------------------------
@overload
def flow(fn: Callable[P, R], /) -> Flow[P, R]: ...


@overload
def flow(*, project: Any = None, key: str | None = None,
         space: Any = None) -> Callable[[Callable[P, R]], Flow[P, R]]: ...


def flow(fn: Callable[P, R] | None = None, /, *, project: Any = None, key: str | None = None,
         space: Any = None) -> Flow[P, R] | Callable[[Callable[P, R]], Flow[P, R]]:
    """Decorate a workflow function: each call is a Run of its file's Transform.

    Use as ``@ln.flow`` or ``@ln.flow(project="My project")``.

    Args:
        fn: The function (when used without parentheses).
        project: Project name(s) or record(s) to link the transform, the
            runs and their artifacts to.
        key: Transform key instead of the function's file.
        space: Where the runs and what they create go (an ``ln.Space`` or its name).
    """
    if fn is not None:
        return Flow(fn, project=project, key=key, space=space)
    return lambda f: Flow(f, project=project, key=key, space=space)


@overload
def step(fn: Callable[P, R], /) -> Step[P, R]: ...


@overload
def step(*, project: Any = None, key: str | None = None,
         space: Any = None) -> Callable[[Callable[P, R]], Step[P, R]]: ...


def step(fn: Callable[P, R] | None = None, /, *, project: Any = None, key: str | None = None,
         space: Any = None) -> Step[P, R] | Callable[[Callable[P, R]], Step[P, R]]:
    """Decorate a step: each call is a Run initiated by the caller's run.

    Use as ``@ln.step`` or ``@ln.step()``. Arguments as for `flow`; a step
    also inherits the projects of the run that calls it.
    """
    if fn is not None:
        return Step(fn, project=project, key=key, space=space)
    return lambda f: Step(f, project=project, key=key, space=space)
