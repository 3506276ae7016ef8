"""Offline check (not timed): start a run with params, log an artifact,
finish, with the harness's network watch on."""

import _common as c

import mlflow

mlflow.set_tracking_uri(c.PARAMS["tracking_uri"])
mlflow.set_experiment("bench")
with mlflow.start_run():
    mlflow.log_params({"check": "offline"})
    mlflow.log_artifact(c.PARAMS["file"], artifact_path="offline")
c.emit({})
