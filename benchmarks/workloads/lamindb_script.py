"""A whole tracked script: import, start a run with params, work, finish."""

import _common as c

import lamindb as ln

# Offline, LaminDB tries the LaminHub when a run or artifact is saved; this
# private attribute is the only switch (see benchmarks/README.md).
ln.setup.settings.instance._is_on_hub = False
ln.track(params={"learning_rate": 0.01, "epochs": 10, "model": "linear"})
c.work()
ln.finish()
c.emit({})
