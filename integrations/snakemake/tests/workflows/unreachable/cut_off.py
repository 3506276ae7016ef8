"""Refuse and terminate every connection to the lineage test database (CUT_DATABASE)."""

import os
import time

import psycopg

time.sleep(1.5)  # let the plugin record the jobs before this one
with psycopg.connect(os.environ["CUT_ADMIN_URL"], autocommit=True) as conn:
    name = os.environ["CUT_DATABASE"]
    conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                 "WHERE datname = %s AND pid <> pg_backend_pid()", [name])
