"""Overhead per step. MLflow has no step decorator; its closest analogue is a
nested run with the step's params, inside a parent run (the flow)."""

import _common as c

import mlflow

mlflow.set_tracking_uri(c.PARAMS["tracking_uri"])
mlflow.set_experiment("bench")
N = c.PARAMS["n"]
BUDGET = c.PARAMS.get("budget_s")


def subset(x: int) -> int:
    with mlflow.start_run(nested=True):
        mlflow.log_params({"x": x})
        return x


t0 = c.perf()
with mlflow.start_run():
    times = c.timed_calls(subset, N, BUDGET)
c.emit(c.step_result(times, c.perf() - t0))
