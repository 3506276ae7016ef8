"""An event-log storage for ``dagster.yaml`` that records every event it stores.

Every process of a deployment (the run worker, each step process of the
multiprocess executor, the webserver, the daemon) builds its instance from
``dagster.yaml``, and every event of a run passes through the instance's
event-log storage in the process that emitted it. Naming
`LineageEventLogStorage` there records runs and steps wherever they run::

    # $DAGSTER_HOME/dagster.yaml
    event_log_storage:
      module: lineage_dagster
      class: LineageEventLogStorage
      config:
        storage:                 # the storage that keeps the events (default: SQLite
          module: dagster._core.storage.event_log   #   under $DAGSTER_HOME/history/runs)
          class: SqliteEventLogStorage
          config:
            base_dir: /var/dagster/history/runs
        lineage_instance: /var/lineage/instance     # optional; else LINEAGE_INSTANCE

The events are stored by the storage named under ``storage`` first,
exactly as without lineage; the object Dagster gets *is* that storage (of
a subclass made for it), so ``dagster instance migrate`` and everything
else that checks the storage's type keep working.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import dagster as dg

from lineage_dagster import internals
from lineage_dagster.recorder import recorder

_EventLogStorage = internals.event_log_storage_class()
_ConfigurableClass = internals.configurable_class()
_subclasses: dict[type, type] = {}
_subclasses_lock = threading.Lock()
_batch = threading.local()


def _recording_members(storage_class: type) -> dict[str, Any]:
    """The members of `recording_class`: store as `storage_class` does, then record."""

    def store_event(self: Any, event: Any) -> None:
        storage_class.store_event(self, event)
        if not getattr(_batch, "active", False):
            recorder.handle(event, internals.storage_instance(self))

    def store_event_batch(self: Any, events: Any) -> None:
        _batch.active = True
        try:
            storage_class.store_event_batch(self, events)
        finally:
            _batch.active = False
        instance = internals.storage_instance(self)
        for event in events:
            recorder.handle(event, instance)

    return {
        "__module__": __name__,
        "__slots__": (),  # the same layout: the storage's class is swapped in place
        "__doc__": f"{storage_class.__name__} that records every event it stores in lineage.",
        #: Marks storages that record every event (`lineage_dagster.io_managers.watch` checks it).
        "lineage_records_events": True,
        "inst_data": property(lambda self: self.__dict__.get("_lineage_inst_data")),
        "store_event": store_event,
        "store_event_batch": store_event_batch,
    }


class LineageEventLogStorage(_EventLogStorage, _ConfigurableClass):  # type: ignore[misc, valid-type]
    """The ``dagster.yaml`` entry: builds the configured storage, recording (see the module)."""

    @classmethod
    def config_type(cls) -> Any:
        return {
            "storage": dg.Field(
                dg.Shape({"module": str, "class": str,
                          "config": dg.Field(dg.Permissive(), is_required=False)}),
                is_required=False,
                description="The event-log storage that keeps the events (module, class, config).",
            ),
            "lineage_instance": dg.Field(
                dg.StringSource, is_required=False,
                description="The lineage instance (folder or database URL); else LINEAGE_INSTANCE.",
            ),
        }

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: dict[str, Any]) -> Any:
        if config_value.get("lineage_instance"):
            os.environ.setdefault("LINEAGE_INSTANCE", config_value["lineage_instance"])
        inner = config_value.get("storage") or _default_storage()
        storage = internals.build_configurable(inner["module"], inner["class"],
                                               dict(inner.get("config") or {}), _EventLogStorage)
        storage.__class__ = recording_class(type(storage))
        storage.__dict__["_lineage_inst_data"] = inst_data
        return storage


def recording_class(storage_class: type) -> type:
    """The subclass of `storage_class` that records what it stores."""
    with _subclasses_lock:
        subclass = _subclasses.get(storage_class)
        if subclass is None:
            subclass = type(f"Lineage{storage_class.__name__}", (storage_class,),
                            _recording_members(storage_class))
            _subclasses[storage_class] = subclass
        return subclass


def _default_storage() -> dict[str, Any]:
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise dg.DagsterInvariantViolationError(
            "LineageEventLogStorage needs the storage to wrap: set DAGSTER_HOME (events then go "
            "to SQLite under $DAGSTER_HOME/history/runs, Dagster's default) or name one under "
            "'storage:' (module, class, config).")
    return {"module": "dagster._core.storage.event_log", "class": "SqliteEventLogStorage",
            "config": {"base_dir": os.path.join(home, "history", "runs")}}
