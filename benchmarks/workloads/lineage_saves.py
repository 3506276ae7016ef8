"""Save a big file and many small files as run outputs, then the same content
again (the code is shared with LaminDB: _same_api.saves).

``P["no_fsync"]``: the "same work" run: the object store does not fsync what
it writes (`LocalStore.durable`, no public setting), and the database is at
its default ``durability = "normal"``, so nothing waits for the disk, as with
the peers; the files are still hashed in full.
"""

import _common as c
import _same_api

import lineage as ln

ln.connect(c.PARAMS["storage"])
if c.PARAMS.get("no_fsync"):
    from lineage.instance import current_instance

    current_instance().store().durable = False
c.emit(_same_api.saves(ln))
