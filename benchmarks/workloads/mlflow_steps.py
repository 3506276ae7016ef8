"""Overhead per step. MLflow has no step decorator; its closest analogue is a
nested run with the step's params, inside a parent run (the flow).

``P["sqlite"]`` (``"NORMAL"`` or ``"FULL"``): open MLflow's SQLite store in
WAL mode with that ``synchronous`` level (an SQLAlchemy connect hook, set
before MLflow creates its engine), to compare at lineage's levels; without
it, MLflow's own defaults. The mode in force is reported either way.
"""

import _common as c

import mlflow

LEVEL = c.PARAMS.get("sqlite")
if LEVEL:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={LEVEL}")
        cursor.close()


mlflow.set_tracking_uri(c.PARAMS["tracking_uri"])
mlflow.set_experiment("bench")
N = c.PARAMS["n"]
BUDGET = c.PARAMS.get("budget_s")


def subset(x: int) -> int:
    with mlflow.start_run(nested=True):
        mlflow.log_params({"x": x})
        return x


def sqlite_mode() -> str:
    try:
        from mlflow.tracking._tracking_service.utils import _get_store

        with _get_store().engine.connect() as conn:
            return c.describe_sqlite(conn.exec_driver_sql("PRAGMA journal_mode").scalar(),
                                     conn.exec_driver_sql("PRAGMA synchronous").scalar())
    except Exception as exc:  # noqa: BLE001 - informative only
        return f"unknown ({type(exc).__name__}: {exc})"[:200]


t0 = c.perf()
with mlflow.start_run():
    times = c.timed_calls(subset, N, BUDGET)
c.emit({**c.step_result(times, c.perf() - t0), "sqlite_mode": sqlite_mode()})
