"""What `lineage ui` does before serving, so that no first request pays for it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import lineage.instance as instance_module
from lineage import lifecycle
from lineage.errors import LineageError
from lineage.testing import free_port
from lineage.ui import server
from lineage.ui.read.runs_table import RUN_ORDERS, RunQuery, runs_page
from lineage.ui.read.summary import facets


def test_preload_compiles_every_template_and_loads_the_python_lexer():
    # A fresh interpreter: nothing compiled or imported by other tests.
    script = textwrap.dedent("""
        import sys
        from lineage.ui import pages, server
        env = pages._environment()
        names = env.list_templates(extensions=["html"])
        assert names and not env.cache, "nothing compiled before preload"
        before = "pygments.lexers.python" in sys.modules
        server.preload()
        compiled = {key[1] for key in env.cache.keys()}
        missing = sorted(set(names) - compiled)
        assert not missing, missing
        assert not before and "pygments.lexers.python" in sys.modules
        print(len(names))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) >= 10  # runs, run, transform, artifact, projects, graph, ...


def test_the_landing_page_is_read_before_the_first_visit(instance):
    if instance.db.dialect.name != "sqlite":
        pytest.skip("traces SQLite statements")
    transform = lifecycle.get_or_create_transform("flow.py", "def main(): ...", "pipeline")
    for _ in range(3):
        lifecycle.finish_run(lifecycle.start_run(transform, environment=False))
    seen: list[str] = []
    instance.db.connection().raw.set_trace_callback(seen.append)

    def statements_of_first_visit(warm: bool) -> int:
        RUN_ORDERS.clear()
        if warm:
            server.warm_landing_page()
        del seen[:]
        assert runs_page(RunQuery())["total"] == 3
        return len(seen)

    cold = statements_of_first_visit(warm=False)
    warmed = statements_of_first_visit(warm=True)
    assert warmed < cold, (warmed, cold)


def test_a_failing_warm_up_leaves_the_error_to_the_page(monkeypatch, tmp_path):
    instance_module.close()
    for name in list(os.environ):
        if name.startswith("LINEAGE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LINEAGE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("LINEAGE_INSTANCE", f"postgresql://postgres@127.0.0.1:{free_port()}/gone")
    with pytest.raises(LineageError):
        facets()  # the database cannot be reached
    server.warm_landing_page()  # does not raise: serving starts, the page shows the error
