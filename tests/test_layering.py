"""Imports flow one way (DESIGN.md): workloads <- arch <- mappers <- simulator <- reports.

A package may import the packages before it in this order; ``reports`` may import
only the result types (``simulator.results``). The check parses every module's
imports, including those inside functions.
"""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ORDER = ["workloads", "arch", "mappers", "simulator", "reports"]
REPORTS_MAY_IMPORT = {"simulator.results"}


def imported_modules(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def violations():
    found = []
    for package in ORDER:
        allowed = set(ORDER[: ORDER.index(package) + 1])
        for path in sorted((ROOT / package).rglob("*.py")):
            for module in imported_modules(path):
                top = module.split(".")[0]
                if top not in ORDER or top == package:
                    continue
                if package == "reports":
                    ok = module in REPORTS_MAY_IMPORT
                else:
                    ok = top in allowed
                if not ok:
                    found.append(f"{path.relative_to(ROOT)} imports {module}")
    return found


def test_imports_follow_the_layering():
    assert violations() == []


def test_the_check_catches_a_violation(tmp_path, monkeypatch):
    fake = tmp_path / "workloads"
    fake.mkdir()
    (fake / "bad.py").write_text("from simulator.run import run_experiment\n")
    for package in ORDER[1:]:
        (tmp_path / package).mkdir()
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert violations() == ["workloads/bad.py imports simulator.run"]


def test_no_top_level_utils_package():
    assert not (ROOT / "utils").exists()


@pytest.mark.parametrize("package", ORDER)
def test_every_module_has_a_docstring(package):
    missing = [str(p.relative_to(ROOT)) for p in (ROOT / package).rglob("*.py")
               if ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) is None]
    assert missing == []
