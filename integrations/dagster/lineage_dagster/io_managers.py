"""IO managers that record what they write and read, around the user's own.

`LineageIOManager` calls the wrapped IO manager first and unchanged, then
records, inside `lineage.lifecycle.guarded`, so a lineage failure never
changes what Dagster stores, loads or returns:

- an asset output becomes a new version of the artifact
  ``dagster/<asset key path>[/<partition>]``, content-hashed from the file
  the IO manager wrote (the ``path`` it logged as output metadata; Dagster's
  file system IO managers all do), else, for IO managers that write no
  local file (in memory, a database), from the pickled value it was given.
  The artifact's uid is added to the output's metadata as
  ``lineage/artifact``, so Dagster's UI shows it and later loads find it;
- an asset input is recorded as an input artifact of the step: the
  artifact of the very materialization that was loaded (from this run, a
  run it re-executes, or the latest earlier one, looked up in the Dagster
  instance), else the file of that materialization hashed now;
- an op output passed to another op (no asset) is a run -> run edge from
  the producing step's run.

The first IO manager initialised for a run in a process also subscribes
the recorder to the run's events there, unless the instance's event-log
storage is lineage's (`lineage_dagster.storage`), which sees them anyway.
"""

from __future__ import annotations

import inspect
import pickle
import tempfile
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from lineage import lifecycle

from lineage_dagster import internals
from lineage_dagster.sources import NO_ORIGIN, Origin
from lineage_dagster.recorder import (ARTIFACT_METADATA, GUARDED, SOURCE, artifact_key,
                                      local_path, recorder)

#: Resource key prefix under which a wrapped Pythonic IO manager stays available.
INNER_PREFIX = "lineage_inner__"


class LineageIOManager(dg.IOManager):
    """An IO manager that records its wrapped IO manager's outputs and inputs."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    @property
    def inner(self) -> Any:
        """The wrapped IO manager."""
        return self._inner

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        self._manager(context).handle_output(context, obj)
        _record(record_output, context, obj)

    def load_input(self, context: dg.InputContext) -> Any:
        value = self._manager(context).load_input(context)
        _record(record_input, context)
        return value

    def _manager(self, context: Any) -> Any:
        return self._inner

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_inner":
            raise AttributeError(name)
        return getattr(self._inner, name)


class _DefaultIOManager(LineageIOManager):
    """Dagster's default IO manager, recorded: files, except op outputs of `execute_in_process`.

    Dagster swaps its default for an in-memory one when an op job runs with
    ``execute_in_process``; asset jobs keep files. The wrapper cannot be
    recognised by that swap, so it repeats it: in a run without a code
    origin (``execute_in_process``, ``materialize``), values that are not
    assets stay in memory.
    """

    def __init__(self, init_context: Any) -> None:
        super().__init__(_call_resource_fn(internals.default_io_manager(), init_context))
        run = init_context.dagster_run
        in_process = run is not None and getattr(run, "job_code_origin", None) is None
        self._memory = _call_resource_fn(dg.mem_io_manager, init_context) if in_process else None

    def _manager(self, context: Any) -> Any:
        if self._memory is not None and not context.has_asset_key:
            return self._memory
        return self._inner


# --- wrapping resources ---------------------------------------------------------------
def is_io_manager(value: Any) -> bool:
    """Whether a resource value of a Definitions or job is an IO manager."""
    if isinstance(value, (dg.IOManagerDefinition, dg.IOManager, dg.ConfigurableIOManagerFactory)):
        return True
    resource_cls = getattr(value, "resource_cls", None)  # configure_at_launch() partials
    return isinstance(resource_cls, type) and issubclass(resource_cls, dg.ConfigurableIOManagerFactory)


def wrap_resources(resources: dict[str, Any], *, wrap_default: bool,
                   origin: Origin = NO_ORIGIN) -> dict[str, Any]:
    """`resources` with every IO manager recorded (and Dagster's default one if `wrap_default`).

    An `IOManagerDefinition` is wrapped in place (same key, same config
    schema, so run config keeps working); a Pythonic IO manager stays under
    ``lineage_inner__<key>`` and the key gets a recording IO manager that
    uses it. `origin` tells runs made with these resources where their code is.
    """
    wrapped: dict[str, Any] = {}
    for key, value in resources.items():
        if key.startswith(INNER_PREFIX) or _is_wrapped(value):
            wrapped[key] = value
        elif value is internals.default_io_manager():
            wrapped[key] = default_io_manager(origin) if wrap_default else value
        elif isinstance(value, dg.IOManagerDefinition):
            wrapped[key] = wrap_definition(value, origin)
        elif is_io_manager(value):
            wrapped[INNER_PREFIX + key] = value
            wrapped[key] = _wrap_by_key(INNER_PREFIX + key, origin)
        else:
            wrapped[key] = value
    if wrap_default and "io_manager" not in wrapped:
        wrapped["io_manager"] = default_io_manager(origin)
    return wrapped


def default_io_manager(origin: Origin = NO_ORIGIN) -> dg.IOManagerDefinition:
    """Dagster's default IO manager, recorded."""
    inner = internals.default_io_manager()

    def resource_fn(init_context: Any) -> Any:
        watch(init_context, origin)
        return _DefaultIOManager(init_context)

    return _mark(dg.IOManagerDefinition(
        resource_fn=resource_fn, config_schema=inner.config_schema,
        description=inner.description, required_resource_keys=inner.required_resource_keys))


def wrap_definition(inner: dg.IOManagerDefinition,
                    origin: Origin = NO_ORIGIN) -> dg.IOManagerDefinition:
    """An IO manager definition that records what `inner` writes and reads."""

    def resource_fn(init_context: Any) -> Any:
        watch(init_context, origin)
        produced = _call_resource_fn(inner, init_context)
        if inspect.isgenerator(produced):
            with contextmanager(lambda: produced)() as manager:
                yield LineageIOManager(manager)
        elif isinstance(produced, AbstractContextManager) and not isinstance(produced, dg.IOManager):
            with produced as manager:
                yield LineageIOManager(manager)
        else:
            yield LineageIOManager(produced)

    return _mark(dg.IOManagerDefinition(
        resource_fn=resource_fn, config_schema=inner.config_schema,
        description=inner.description, required_resource_keys=inner.required_resource_keys,
        version=inner.version, input_config_schema=inner.input_config_schema,
        output_config_schema=inner.output_config_schema))


def _wrap_by_key(inner_key: str, origin: Origin) -> dg.IOManagerDefinition:
    def resource_fn(init_context: Any) -> Any:
        watch(init_context, origin)
        return LineageIOManager(getattr(init_context.resources, inner_key))

    return _mark(dg.IOManagerDefinition(resource_fn=resource_fn,
                                        required_resource_keys={inner_key}))


def _mark(definition: dg.IOManagerDefinition) -> dg.IOManagerDefinition:
    definition._lineage_wrapped = True  # type: ignore[attr-defined]
    return definition


def _is_wrapped(value: Any) -> bool:
    return bool(getattr(value, "_lineage_wrapped", False))


def _call_resource_fn(definition: Any, init_context: Any) -> Any:
    fn = definition.resource_fn
    takes_context = bool(inspect.signature(fn).parameters)
    return fn(init_context) if takes_context else fn()


# --- watching a run's events -----------------------------------------------------------
def watch(init_context: Any, origin: Origin) -> None:
    """Subscribe the recorder to the events of the run `init_context` initialises for."""
    with lifecycle.guarded(SOURCE, GUARDED):
        instance = getattr(init_context, "instance", None)
        dagster_run = getattr(init_context, "dagster_run", None)
        if instance is None or dagster_run is None:
            return
        if not recorder.watch(instance, dagster_run, origin):
            return  # another IO manager of the run did (until the run ends)
        if getattr(instance.event_log_storage, "lineage_records_events", False):
            return  # lineage's event-log storage records every event itself
        internals.subscribe_to_run(instance, dagster_run.run_id,
                                   _RunListener(instance, dagster_run.run_id))


class _RunListener:
    """Hands a run's events to the recorder, and unsubscribes at the run's end.

    A long-lived process (a code server, a daemon running runs in process)
    would otherwise keep one listener per run it ever ran.
    """

    __slots__ = ("instance", "run_id")

    def __init__(self, instance: Any, run_id: str) -> None:
        self.instance, self.run_id = instance, run_id

    def __call__(self, entry: Any) -> None:
        recorder.handle(entry, self.instance)  # never raises
        with lifecycle.guarded(SOURCE, GUARDED):  # Dagster's private listener list, say
            if recorder.ends_run(entry):
                internals.unsubscribe_from_run(self.instance, self.run_id, self)


# --- recording -----------------------------------------------------------------------
def _record(record: Any, context: Any, *args: Any) -> None:
    """Run `record` for an IO manager call, guarded per Dagster run (see `Recorder.guarded`)."""
    with lifecycle.guarded(SOURCE, GUARDED):
        run_id = internals.io_step(context)[0]
        if recorder.broken(run_id):
            return
        with recorder.guarded(run_id):
            record(context, *args)


def _step_of(context: Any) -> Any:
    run_id, step_key = internals.io_step(context)
    known = recorder.step_known(run_id, step_key)  # the usual case: its start was seen here
    if known is not None:
        return known
    return recorder.step_run(run_id, step_key, context.step_context.instance,
                             attempt=internals.step_attempt(context),
                             handle_path=internals.node_handle_path(context))


def _partitions(context: Any) -> list[str | None]:
    if context.has_asset_partitions:
        return list(context.asset_partition_keys)
    return [None]


def record_output(context: dg.OutputContext, obj: Any) -> None:
    """Record the artifact an asset output became (see the module docstring)."""
    if not context.has_asset_key:
        return
    partitions = _partitions(context)
    if len(partitions) != 1:  # one output for many partitions: no single file to hash
        return
    run = _step_of(context)
    key = artifact_key(context.asset_key.path, partitions[0])
    path = local_path(context.get_logged_metadata().get("path"))
    if path is not None:
        artifact = lifecycle.record_file(run, path, role="output", key=key)
    elif obj is not None:
        artifact = _record_value(run, obj, key)
    else:
        return
    if artifact is None:
        return
    recorder.outputs[(context.run_id, context.step_key, context.name)] = artifact
    context.add_output_metadata({ARTIFACT_METADATA: artifact.uid})


def _record_value(run: Any, obj: Any, key: str) -> Any:
    """The artifact of a value kept by an IO manager that wrote no file: its pickle."""
    try:
        data = pickle.dumps(obj, protocol=4)
    except Exception:  # noqa: BLE001 - an unpicklable value: no artifact, loads link runs instead
        return None
    with tempfile.TemporaryDirectory(prefix="lineage-dagster-") as folder:
        path = Path(folder) / (key.rsplit("/", 1)[-1] or "value")
        path.write_bytes(data)
        return lifecycle.record_file(run, path, role="output", key=key)


def record_input(context: dg.InputContext) -> None:
    """Record what a step loaded (see the module docstring)."""
    run_id, step_key = internals.io_step(context)
    recorder.loads.add((run_id, step_key, context.name))
    run = _step_of(context)
    upstream = context.upstream_output
    if context.has_asset_key:
        artifacts = [_loaded_artifact(context, upstream, run, p) for p in _partitions(context)]
        found = [a for a in artifacts if a is not None]
        for artifact in found:
            lifecycle.record_input(run, artifact)
        if found:
            return
    if upstream is None:
        return
    producer = None
    if internals.is_real_run_id(upstream.run_id):
        producer = recorder.producer(upstream.run_id, upstream.step_key, context.instance)
    if producer is not None:
        lifecycle.record_upstream(run, producer)


def _loaded_artifact(context: Any, upstream: Any, run: Any, partition: str | None) -> Any:
    """The artifact of the materialization a load read."""
    import lineage as ln

    producer_run = upstream.run_id if upstream is not None else None
    if internals.is_real_run_id(producer_run):
        known = recorder.outputs.get((producer_run, upstream.step_key, upstream.name))
        if known is not None:
            return known
    entry = _materialization(context.instance, context.asset_key, partition,
                             producer_run if internals.is_real_run_id(producer_run) else None)
    if entry is None:
        return None
    metadata = entry.asset_materialization.metadata or {}
    uid = getattr(metadata.get(ARTIFACT_METADATA), "value", None)
    if isinstance(uid, str):
        artifact = ln.Artifact.filter(uid=uid).first()
        if artifact is not None:
            return artifact
    path = local_path(metadata.get("path"))
    if path is not None:
        return lifecycle.record_file(run, path, role="input",
                                     key=artifact_key(context.asset_key.path, partition))
    return None


def _materialization(instance: Any, asset_key: dg.AssetKey, partition: str | None,
                     run_id: str | None) -> Any:
    """The Dagster event of the latest materialization (in `run_id`, if given) of an asset."""
    if run_id is not None:
        records = instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, ascending=False).records
        for record in records:
            entry = record.event_log_entry
            materialization = entry.asset_materialization
            if (materialization is not None and materialization.asset_key == asset_key
                    and materialization.partition == partition):
                return entry
        # a re-execution loads what an earlier run stored: fall back to the latest
    records_filter = dg.AssetRecordsFilter(
        asset_key=asset_key, asset_partitions=[partition] if partition is not None else None)
    result = instance.fetch_materializations(records_filter, limit=1)
    return result.records[0].event_log_entry if result.records else None
