"""lineage: record where data came from."""
