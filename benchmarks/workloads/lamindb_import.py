"""Cold import of lamindb, in a folder with a LaminDB instance (as users
have it): importing connects to that instance."""

import _common as c

t0 = c.perf()
import lamindb  # noqa: E402,F401

c.emit({"import_s": c.perf() - t0})
