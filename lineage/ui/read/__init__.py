"""The read model of the UI: the queries behind its pages (no writes)."""
