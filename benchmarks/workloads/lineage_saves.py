"""Save a big file and many small files as run outputs, then the same content
again (the code is shared with LaminDB: _same_api.saves)."""

import _common as c
import _same_api

import lineage as ln

ln.connect(c.PARAMS["storage"])
c.emit(_same_api.saves(ln))
