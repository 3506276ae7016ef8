"""Exit 0 when the PostgreSQL of LINEAGE_TEST_POSTGRES_URL answers, else 1."""

import os
import sys

import psycopg

url = os.environ["LINEAGE_TEST_POSTGRES_URL"].replace("postgresql+psycopg://", "postgresql://")
try:
    with psycopg.connect(url, connect_timeout=5) as conn:
        conn.execute("SELECT 1")
except psycopg.Error as exc:
    print(f"PostgreSQL unreachable: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
    sys.exit(1)
