"""Wait (at most 60 s) until the run named by LINEAGE_PARENT_RUN_UID, the job's, is written."""

import os
import time

import lineage as ln

uid = os.environ["LINEAGE_PARENT_RUN_UID"]
deadline = time.monotonic() + 60
while not ln.Run.filter(uid=uid).exists() and time.monotonic() < deadline:
    time.sleep(0.1)
