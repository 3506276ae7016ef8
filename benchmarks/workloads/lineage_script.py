"""A whole tracked script: import, start a run with params, work, finish."""

import _common as c

import lineage as ln

ln.connect(c.PARAMS["storage"])
ln.track(params={"learning_rate": 0.01, "epochs": 10, "model": "linear"})
c.work()
ln.finish()
c.emit({})
