"""The `rma` package has no import circle: command modules import only the shared helpers, never the package."""

from __future__ import annotations

import ast
from pathlib import Path

import terminal.cli

CLI = Path(terminal.cli.__file__).parent


def _cli_imports(path: Path) -> set[str]:
    """The terminal.cli modules that ``path`` imports (``from terminal.cli import x`` names the package)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            found.add(f"a relative import in {path.name}")  # `from . import x` would hide the package
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.update(n for n in names if n == "terminal.cli" or n.startswith("terminal.cli."))
    return found


def test_command_modules_import_only_the_shared_helpers():
    modules = sorted(p for p in CLI.glob("*.py") if p.name not in ("__init__.py", "common.py"))
    assert {p.stem for p in modules} >= {"station", "receiving", "operators", "sync", "label", "decode", "checklist"}
    for path in modules:
        assert _cli_imports(path) <= {"terminal.cli.common"}, path.name
    assert _cli_imports(CLI / "common.py") == set()


def test_every_command_module_is_registered_on_rma():
    from terminal.cli import rma

    names = set(rma.commands)
    assert {
        "station",
        "demo",
        "config",
        "receive",
        "import",
        "operator",
        "sync",
        "conflicts",
        "label",
        "decode",
        "checklist",
    } <= names
    assert set(rma.commands["import"].commands) == {"rmas", "operators"}
