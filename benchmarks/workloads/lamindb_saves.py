"""Save a big file and many small files as run outputs, then the same content
again (the code is shared with lineage: _same_api.saves)."""

import _common as c
import _same_api

import lamindb as ln

ln.setup.settings.instance._is_on_hub = False
c.emit(_same_api.saves(ln))
