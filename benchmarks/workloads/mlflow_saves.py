"""Save a big file and many small files as run artifacts, then the same
content again, to a new artifact path (as the other tools save it under a
new record; writing over the path just written would let MLflow replace a
file in place). MLflow does not deduplicate: saving again copies again."""

import os

import _common as c

import mlflow

P = c.PARAMS
mlflow.set_tracking_uri(P["tracking_uri"])
mlflow.set_experiment("bench")
small_b = c.small_files(P["small_b"])
r: dict = {"n_small": len(os.listdir(P["small_a"]))}

with mlflow.start_run():
    mlflow.log_params({"workload": "saves"})

    t0 = c.perf()
    mlflow.log_artifact(P["big"], artifact_path="big")
    r["big_s"] = c.perf() - t0

    t0 = c.perf()
    mlflow.log_artifacts(P["small_a"], artifact_path="small/a")
    r["small_bulk_s"] = c.perf() - t0

    t0 = c.perf()
    for p in small_b:
        mlflow.log_artifact(p, artifact_path="small/b")
    r["small_each_s"] = c.perf() - t0

    t0 = c.perf()
    mlflow.log_artifact(P["big"], artifact_path="big-again")
    r["big_again_s"] = c.perf() - t0
    r["big_again_same_record"] = False  # no content identity: a second copy

    t0 = c.perf()
    mlflow.log_artifacts(P["small_a"], artifact_path="small/a-again")
    r["small_again_s"] = c.perf() - t0

c.emit(r)
