"""Cold import of mlflow (the harness also times the whole process)."""

import _common as c

t0 = c.perf()
import mlflow  # noqa: E402,F401

c.emit({"import_s": c.perf() - t0})
