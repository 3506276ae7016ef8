"""``import lineage`` is light: it loads no database driver, engine or heavy library."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = [
    "sqlalchemy", "psycopg", "pandas", "pyarrow", "fsspec", "s3fs", "graphviz", "networkx",
    "pydantic", "alembic", "git", "psutil", "rich", "click", "numpy",
    "prefect", "dagster", "airflow", "snakemake",
    "fastapi", "starlette", "uvicorn", "jinja2", "pygments",
]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True,
    ).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_import_lineage_loads_nothing_heavy():
    loaded = _modules_after("import lineage")
    assert not [m for m in HEAVY if m in loaded]
    # lineage.db.provider (no imports of its own) is where the root installs LineageProvider
    assert not [m for m in loaded if m.startswith(("lineage.db", "lineage.models", "lineage.artifact",
                                                   "lineage.ui"))
                and m not in ("lineage.db", "lineage.db.provider")]


def test_touching_the_api_loads_no_sqlalchemy_or_driver_for_other_databases(tmp_path):
    code = (
        "import os, lineage as ln\n"
        f"ln.init(storage={str(tmp_path / 'inst')!r})\n"
        "ln.Project(name='x').save(); ln.Run.filter(status='started').count()\n"
    )
    # the instance exists first so no migration (the only SQLAlchemy user) runs
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                   env={"LINEAGE_CONFIG_DIR": str(tmp_path / "cfg"), "PATH": ""})
    loaded = _modules_after(code.replace("ln.init", "ln.connect").replace("storage=", ""))
    assert "sqlalchemy" not in loaded
    assert "psycopg" not in loaded
    assert "pandas" not in loaded


def test_every_registry_can_be_the_first_thing_a_process_touches():
    """No import cycle, whichever registry module a fresh process imports first."""
    from lineage.models.space import space_field

    for code in ("import lineage as ln; ln.Artifact", "from lineage.artifact import Artifact",
                 "import lineage as ln; ln.Run", "import lineage.models"):
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    from lineage.artifact import Artifact

    assert Artifact.fields["space_id"] == space_field(), "the same column as every other registry"
