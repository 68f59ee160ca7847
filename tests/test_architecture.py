"""The house rules that import-linter does not see: no app imports another inside a function
(the trick that hid the cycles the layers now forbid; a higher layer acts through the hooks of
tenancy/hooks.py), and every required hook has its receiver."""

from __future__ import annotations

import ast
from pathlib import Path

from django.core.checks import run_checks

ROOT = Path(__file__).resolve().parent.parent
APPS = ("tenancy", "incidents", "mail", "escalation", "portal", "desk", "dashboards", "imports")
PACKAGES = (*APPS, "servicedesk")


def function_level_imports_of_other_apps(root: Path = ROOT) -> list[str]:
    found = []
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text())
            for function in ast.walk(tree):
                if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node in ast.walk(function):
                    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                        names = [node.module]
                    elif isinstance(node, ast.Import):
                        names = [alias.name for alias in node.names]
                    else:
                        continue
                    for name in names:
                        top = name.split(".")[0]
                        if top in PACKAGES and top != package:
                            where = path.relative_to(root)
                            found.append(f"{where}:{node.lineno} imports {name}")
    return found


def test_no_app_imports_another_inside_a_function():
    assert function_level_imports_of_other_apps() == []


def test_the_check_finds_one(tmp_path):
    """The walk above can fail: a function that imports another app is found."""
    (tmp_path / "tenancy").mkdir()
    probe = "def f():\n    from incidents.models import Incident\n    return Incident\n"
    (tmp_path / "tenancy" / "probe.py").write_text(probe)
    assert function_level_imports_of_other_apps(tmp_path) == [
        "tenancy/probe.py:2 imports incidents.models"
    ]


def test_every_required_hook_has_a_receiver():
    assert [m for m in run_checks() if m.id == "tenancy.E001"] == []
