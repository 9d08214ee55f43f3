"""The shared page machinery depends on no domain, and no domain imports another's routes."""

from __future__ import annotations

import ast
from pathlib import Path

from portal.config import PROJECT_ROOT

PORTAL = PROJECT_ROOT / "portal"
SHARED = ("portal.web", "portal.config", "portal.db", "portal.outbox")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_web_package_imports_no_domain() -> None:
    for path in (PORTAL / "web").rglob("*.py"):
        for name in _imports(path):
            if name.startswith("portal."):
                assert name.startswith(SHARED), f"{path.name} imports {name}"


def test_no_module_imports_another_domains_routes() -> None:
    for path in PORTAL.rglob("*.py"):
        domain = path.relative_to(PORTAL).parts[0]
        for name in _imports(path):
            parts = name.split(".")
            if len(parts) >= 3 and parts[0] == "portal" and parts[-1] == "routes":
                assert parts[1] == domain or path.name == "app.py", f"{path} imports {name}"
