"""Capture what a run executes: pure functions, no database access.

Modules: `redact` (secrets), `source` (transform keys and code), `params`,
`cli`, `environment` and `git`. Import the module you need; nothing here is
imported eagerly, so ``import lineage`` stays light.
"""
