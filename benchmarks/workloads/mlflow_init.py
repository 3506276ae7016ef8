"""Create the MLflow sqlite store and experiment used by the workloads (not
timed): the first connection runs MLflow's database migrations."""

import _common as c

import mlflow

mlflow.set_tracking_uri(c.PARAMS["tracking_uri"])
mlflow.create_experiment("bench", artifact_location=c.PARAMS["artifact_uri"])
c.emit({})
