"""The layers of the package: every import points down (docs/architecture.md).

`LAYERS` is the one definition of the layers; `scripts/draw_layers.py` draws
docs/layers.svg from it. A module may import its own layer and the layers
below it. The test reads every module's source (ast), function-local imports
included; imports under ``if TYPE_CHECKING:`` are left out, as they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lineage"

#: The layers, bottom first: (name, what it is, module prefixes).
LAYERS: list[tuple[str, str, tuple[str, ...]]] = [
    ("base", "errors and version", ("lineage.errors", "lineage._version")),
    ("capture", "what a run executes: source, params, environment, git, redaction; "
     "pure functions", ("lineage.capture",)),
    ("storage", "content-addressed object stores: hashing, keys, local and fsspec/S3",
     ("lineage.storage",)),
    ("db", "records, fields, queries, compare-and-swap saves, migrations; asks "
     "lineage.db.provider for the current database, run and user", ("lineage.db",)),
    ("instance", "which instance, settings and run are current",
     ("lineage.instance", "lineage.instance_settings", "lineage.context")),
    ("records", "the registries: Run, Transform, Artifact, Project, ...",
     ("lineage.models", "lineage.artifact", "lineage.has_features")),
    ("lifecycle", "the run lifecycle: the one door for callers and integrations",
     ("lineage.lifecycle",)),
    ("artifacts", "artifact create, save, load, delete, doctor; bulk save",
     ("lineage.artifacts", "lineage.bulk")),
    ("tracking", "track(), @flow, @step", ("lineage.tracking", "lineage.decorators")),
    ("graph", "reading and showing lineage: query, build, collapse, render, describe, "
     "overview; OpenLineage events out (export, emit) and in (ingest, through the lifecycle)",
     ("lineage.graph", "lineage.openlineage")),
    ("interfaces", "the command line, the web UI, the Nextflow receiver and importers, test "
     "helpers for users and the package root, which installs the db provider",
     ("lineage.cli", "lineage.ui", "lineage.nextflow", "lineage.testing", "lineage.__main__",
      "lineage")),
]

#: Record methods that hand their work to the machinery above them (active
#: record: ``artifact.save()``, ``run.view_lineage()``). Only function-local
#: imports may do this.
RECORD_METHODS_CALLING_UP: list[tuple[str, str]] = [
    ("lineage.artifact", "lineage.artifacts"),
    ("lineage.artifact", "lineage.graph.render"),
    ("lineage.models.run", "lineage.graph.render"),
    ("lineage.models.space", "lineage.lifecycle.spaces"),
]

#: Layers that import nothing above them, without exception.
STRICT = ("base", "capture", "storage", "db")

#: What the code of an integration (integrations/<tool>/, tests aside) may import:
#: the lifecycle to write, the errors, and the public names of ``import lineage as ln``
#: to read (``ln.Run.filter``); never the internals (db, models, instance, ...).
INTEGRATIONS_MAY_IMPORT = ("lineage.lifecycle", "lineage.errors")
INTEGRATIONS_MAY_IMPORT_EXACTLY = ("lineage",)
INTEGRATIONS = PACKAGE.parent / "integrations"


def layer_of(module: str) -> int:
    """Index in `LAYERS` of the layer `module` belongs to (longest prefix wins).

    ``"lineage"`` names the package root alone, not everything below it.
    """
    best, best_len = -1, -1
    for index, (_, _, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            below = prefix != "lineage" and module.startswith(prefix + ".")
            if (module == prefix or below) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    if best < 0:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS in tests/test_layers.py")
    return best


def module_name(path: Path, root: Path) -> str:
    """``lineage.db.record`` for ``<root>/db/record.py``."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str, root: Path) -> bool:
    path = root.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _nodes(node: ast.AST, local: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    """Every node below `node` but those of ``if TYPE_CHECKING:`` blocks, and whether it
    is inside a function."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            children: list[ast.AST] = child.orelse
        else:
            children = [child]
        for item in children:
            yield item, local
            yield from _nodes(item, local or isinstance(
                item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))


def imports_of(path: Path, root: Path) -> Iterator[tuple[int, str, bool]]:
    """(line, imported lineage module, function-local) for each import in `path`."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node, local in _nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" if _is_module(f"{base}.{alias.name}", root)
                       else base for alias in node.names]
        else:
            continue
        for target in targets:
            if target == "lineage" or target.startswith("lineage."):
                yield node.lineno, target, local


def _calls_up_allowed(importer: str, target: str) -> bool:
    return any((importer == a or importer.startswith(a + "."))
               and (target == b or target.startswith(b + "."))
               for a, b in RECORD_METHODS_CALLING_UP)


def violations(root: Path = PACKAGE) -> list[str]:
    """Every import under `root` that points up a layer, one readable line each."""
    found = []
    for path in sorted(root.rglob("*.py")):
        importer = module_name(path, root)
        own = layer_of(importer)
        for line, target, local in imports_of(path, root):
            theirs = layer_of(target)
            if theirs <= own:
                continue
            if local and LAYERS[own][0] not in STRICT and _calls_up_allowed(importer, target):
                continue
            where = "in a function" if local else "at module level"
            found.append(f"{path.relative_to(root.parent)}:{line}: {importer} ({LAYERS[own][0]}) "
                         f"imports {target} ({LAYERS[theirs][0]}) {where}")
    return found


def integration_violations(root: Path = INTEGRATIONS) -> list[str]:
    """Imports of lineage in integration code other than `INTEGRATIONS_MAY_IMPORT`."""
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if "tests" in relative.parts or path.name == "conftest.py" or path.name.startswith("test_"):
            continue
        for node, _ in _nodes(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                targets = [f"{node.module}.{alias.name}" if node.module == "lineage"
                           and _is_module(f"lineage.{alias.name}", PACKAGE) else node.module
                           for alias in node.names]
            else:
                continue
            for target in targets:
                if target in INTEGRATIONS_MAY_IMPORT_EXACTLY:
                    continue
                if (target == "lineage" or target.startswith("lineage.")) and not any(
                        target == a or target.startswith(a + ".") for a in INTEGRATIONS_MAY_IMPORT):
                    found.append(f"integrations/{relative}:{node.lineno}: imports {target}; "
                                 "integrations go through lineage.lifecycle only")
    return found


def test_integrations_call_only_the_lifecycle():
    assert integration_violations() == []


def test_an_integration_reaching_past_the_lifecycle_is_reported(tmp_path):
    code = tmp_path / "prefect" / "lineage_prefect"
    code.mkdir(parents=True)
    (code / "hooks.py").write_text("from lineage import lifecycle\nfrom lineage.lifecycle import guard\n"
                                   "import lineage.errors\ndef f():\n    from lineage.db import record\n"
                                   "import lineage as ln\nfrom lineage import Run\n"
                                   "from lineage import instance\n")
    (tmp_path / "prefect" / "tests").mkdir()
    (tmp_path / "prefect" / "tests" / "test_flows.py").write_text("import lineage as ln\n")
    assert integration_violations(tmp_path) == [
        "integrations/prefect/lineage_prefect/hooks.py:5: imports lineage.db; "
        "integrations go through lineage.lifecycle only",
        "integrations/prefect/lineage_prefect/hooks.py:8: imports lineage.instance; "
        "integrations go through lineage.lifecycle only"]


def test_every_import_points_down_a_layer():
    assert violations() == []


def test_every_module_is_in_a_layer():
    names = [module_name(path, PACKAGE) for path in PACKAGE.rglob("*.py")]
    assert {LAYERS[layer_of(name)][0] for name in names} == {name for name, _, _ in LAYERS}


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "lineage"
    for name, text in {"__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
        if name.count("/"):
            (root / name).parent.joinpath("__init__.py").touch()
    return root


@pytest.mark.parametrize(("source", "target"), [
    ("def f():\n    from lineage.instance import current_instance\n", "lineage.instance"),
    ("from lineage.graph import render\n", "lineage.graph.render"),
    ("import lineage.models.links\n", "lineage.models.links"),
    ("from .. import instance\n", "lineage.instance"),
    ("from lineage import __version__\n", "lineage"),
])
def test_an_upward_import_of_the_db_layer_is_reported(tmp_path, source, target):
    root = _package(tmp_path, {"db/record.py": source, "instance.py": "", "graph/render.py": "",
                               "models/links.py": ""})
    [found] = violations(root)
    assert f"lineage.db.record (db) imports {target} (" in found


def test_type_checking_imports_and_record_methods_calling_up_are_not_reported(tmp_path):
    method = "def view_lineage():\n    from lineage.graph.render import view_lineage\n"
    root = _package(tmp_path, {
        "graph/render.py": "",
        "models/run.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                         "    from lineage.graph import render\n" + method,
        "db/query.py": "if TYPE_CHECKING:\n    import lineage.models.run\n",
    })
    assert violations(root) == []
    (root / "models" / "run.py").write_text("from lineage.graph.render import view_lineage\n")
    assert violations(root) == ["lineage/models/run.py:1: lineage.models.run (records) imports "
                                "lineage.graph.render (graph) at module level"]
    (root / "db" / "query.py").write_text(method)
    assert len(violations(root)) == 2  # the db layer may not call up, not even in a method


def test_the_layer_diagram_is_drawn_from_these_layers():
    svg = (PACKAGE.parent / "docs" / "layers.svg").read_text()
    for name, _, prefixes in LAYERS:
        assert f">{name}</text>" in svg, "redraw it: python scripts/draw_layers.py"
        for prefix in prefixes:
            shown = "lineage/__init__" if prefix == "lineage" else prefix.removeprefix("lineage.")
            assert shown in svg, "redraw it: python scripts/draw_layers.py"
