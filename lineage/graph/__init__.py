"""Reading and showing lineage, one concept per module.

- `query`: the SQL (recursive CTEs) that fetches a graph's rows.
- `build`: `lineage_graph()`, the `networkx.DiGraph` of a run or artifact.
- `collapse`: merging repeated runs and artifacts so big graphs stay legible.
- `render`: Graphviz drawing (`view_lineage`, `to_dot`, `render`).
- `describe`: `record.describe()`, the rich trees of runs, artifacts and
  transforms, and the formatting helpers the other views share.
- `overview`: `ln.view()`, the tables of an instance's recent records.

Import the module you need; nothing here is imported eagerly, so
``import lineage`` stays light.
"""
