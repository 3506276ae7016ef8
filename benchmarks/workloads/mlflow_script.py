"""A whole tracked script: import, start a run with params, work, finish."""

import _common as c

import mlflow

mlflow.set_tracking_uri(c.PARAMS["tracking_uri"])
mlflow.set_experiment("bench")
with mlflow.start_run():
    mlflow.log_params({"learning_rate": 0.01, "epochs": 10, "model": "linear"})
    c.work()
c.emit({})
