"""Create the lineage instance used by the workloads (not timed)."""

import _common as c

import lineage as ln

ln.init(storage=c.PARAMS["storage"])
c.emit({})
