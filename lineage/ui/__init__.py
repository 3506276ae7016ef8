"""The web UI and JSON API of ``lineage ui`` (the optional extra ``lineage[ui]``).

Modules: `app` (the ASGI application), `api` (JSON under ``/api/``), `pages`
(HTML drawn from the API), `graph_view` (the interactive lineage graph),
`preview` (artifact previews and downloads), `source` (highlighting and
diffs), `security` (loopback, token, read-only), `server` (uvicorn), and
`read/` (the read model: queries behind the pages). Nothing here writes to
the instance.
"""
