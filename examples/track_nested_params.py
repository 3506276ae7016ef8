"""A tracked script with nested parameters.

Run it with ``python examples/track_nested_params.py``. ``ln.track()``
records this file as the Transform ``track_nested_params.py``, the params
below (query them with ``ln.Run.filter(params__preprocess__downsample=True)``),
the command line, the environment and the git state; ``ln.finish()`` marks
the run completed (it would also be finished automatically at exit).
"""

from __future__ import annotations

import lineage as ln

params = {
    "input": "raw/sample.csv",
    "preprocess": {"downsample": True, "normalize": "zscore", "n_top": 20},
    "model": {"name": "linear", "learning_rate": 0.01},
}

run = ln.track(params=params, project="Examples")

values = list(range(100))
if params["preprocess"]["downsample"]:
    values = values[:: 100 // params["preprocess"]["n_top"]]
mean = sum(values) / len(values)
print(f"run {run.uid}: {len(values)} values, mean {mean:.2f}")

ln.finish()
