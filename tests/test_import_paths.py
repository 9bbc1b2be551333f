"""One module, one import path: the linked folders are imported as ``flightwatch.X`` only.

``collector/``, ``decoder/``, ``alerts/``, ``db/`` and ``config/`` are linked into
``flightwatch/``, and pytest puts the repository root on ``sys.path``: so ``from db.models
import Aircraft`` would work, and load a second copy of the models beside
``flightwatch.db.models`` (two metadata objects, two ``Alert`` classes that are not each
other), and nothing else would notice. These tests fail on such an import anywhere in the
code, the tools, the benchmarks or the tests, and check at run time that the modules a
process loads are each loaded once.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: The folders linked into flightwatch/: importable by their top-level name by accident only.
LINKED = ("alerts", "collector", "config", "db", "decoder")
#: Where Python files live that may import the product (flightwatch/ skips its links).
FOLDERS = ("flightwatch", *LINKED, "tools", "benchmarks", "tests", "deploy")


def _python_files() -> Iterator[Path]:
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative.parts[0] == "flightwatch" and relative.parts[1] in LINKED:
                continue  # the same file as collector/..., checked once
            yield path


def _imported_names(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, dotted module name) of every absolute import, and of the constant names
    given to ``import_module`` / ``__import__``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.id if isinstance(func, ast.Name) else (
                func.attr if isinstance(func, ast.Attribute) else "")
            first = node.args[0]
            if called in ("import_module", "__import__") and isinstance(
                    first, ast.Constant) and isinstance(first.value, str):
                yield node.lineno, first.value


def _offenders(paths: Iterator[Path], forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for line, name in _imported_names(tree):
            if name.split(".")[0] in forbidden:
                found.append(f"{path.relative_to(ROOT)}:{line}: {name}")
    return found


def test_the_guard_sees_a_top_level_import() -> None:
    """The checker itself: each way of writing the wrong import is found."""
    tree = ast.parse(
        "import db.models\nfrom alerts.kinds import KINDS\nimport flightwatch.db\n"
        "from importlib import import_module\nimport_module('collector.tcp')\n"
        "importlib.import_module('flightwatch.decoder')\n__import__('decoder')\n")
    names = [name for _line, name in _imported_names(tree)
             if name.split(".")[0] in LINKED]
    assert names == ["db.models", "alerts.kinds", "collector.tcp", "decoder"]


def test_no_file_imports_a_linked_folder_by_its_top_level_name() -> None:
    assert _offenders(_python_files(), LINKED) == []


def test_product_code_does_not_import_the_tools_or_the_tests() -> None:
    product = (p for p in _python_files()
               if p.relative_to(ROOT).parts[0] in ("flightwatch", *LINKED))
    assert _offenders(product, ("tools", "tests", "benchmarks")) == []


# A process that loads the command line, the daemon, the web site, the detector and the
# notifiers, then lists every module it loaded from this repository by file.
_LOAD_AND_LIST = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
files = {}
for name, module in list(sys.modules.items()):
    path = getattr(module, "__file__", None)
    if path:
        files.setdefault(__import__("os").path.realpath(path), []).append(name)
print(json.dumps({"modules": sorted(sys.modules), "files": files}))
"""
_ENTRY_POINTS = (
    "flightwatch.cli.main", "flightwatch.daemon.run", "flightwatch.daemon.importer",
    "flightwatch.web.server", "flightwatch.web.api", "flightwatch.alerts.engine",
    "flightwatch.alerts.notify.outbox", "flightwatch.collector.aggregators",
    "flightwatch.db.store", "flightwatch.output.report", "flightwatch.output.digest",
)


def test_a_process_loads_each_module_of_the_repository_once() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _LOAD_AND_LIST, *_ENTRY_POINTS],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    loaded = json.loads(done.stdout)
    assert [m for m in loaded["modules"] if m.split(".")[0] in LINKED] == []
    ours = {path: names for path, names in loaded["files"].items()
            if Path(path).is_relative_to(ROOT)
            and Path(path).relative_to(ROOT).parts[0] in FOLDERS}
    twice = {path: names for path, names in ours.items() if len(names) > 1}
    assert twice == {}
    assert len(ours) > 100  # the entry points did load the product
