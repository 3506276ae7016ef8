"""The machinery behind `lineage.artifact.Artifact`, one concern per module.

- `create`: building an artifact from a file, folder or data frame (hashing,
  suffix, key checks, what to do when the content already exists).
- `save`: the save protocol that keeps data and metadata in sync, for one
  artifact and for many (`lineage.bulk.save`).
- `load`: `cache()`, `open()` and `load()`, which record run inputs.
- `doctor`: finding and repairing what interrupted saves left behind.

The `Artifact` class itself stays a thin record with methods that call these.
"""
