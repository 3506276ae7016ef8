"""What the tests of deferred engine runs share: a workflow, a flow run, task runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import lineage as ln
from lineage import lifecycle
from lineage.lifecycle import deferred

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def workflow(instance):
    yield lifecycle.get_or_create_transform("workflow.py", "def main(): ...", "prefect")
    deferred.write_all()  # nothing of this test is left for the exit handler


@pytest.fixture
def flow_run(workflow):
    return lifecycle.engine_run(workflow, external_source="prefect", external_id="flow-1")


def deferred_task(workflow, flow_run, external_id="task-1", **kwargs):
    return lifecycle.engine_run(workflow, external_source="prefect", external_id=external_id,
                                parent=flow_run, defer=True, **kwargs)


def stored_run(external_id):
    return ln.Run.filter(external_source="prefect", external_id=external_id).first()


def write_transactions(instance):
    """The write transactions the instance's connection begins from now on (SQLite):
    each ``BEGIN IMMEDIATE`` and each write statement run as a transaction of its own."""
    if instance.db.dialect.name != "sqlite":
        pytest.skip("counts SQLite statements")
    raw = instance.db.connection().raw
    begun = []

    def trace(sql):
        words = sql.strip().upper()
        alone = words.startswith(("INSERT", "UPDATE", "DELETE")) and not raw.in_transaction
        if words == "BEGIN IMMEDIATE" or alone:
            begun.append(sql)

    raw.set_trace_callback(trace)
    return begun


def child_env(instance):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEAGE_")}
    env["LINEAGE_INSTANCE"] = str(instance.root) if instance.root is not None else instance.db.url
    env["LINEAGE_CONFIG_DIR"] = os.environ["LINEAGE_CONFIG_DIR"]
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env
