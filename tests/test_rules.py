"""The rules the build enforces, run as tools from the repository root: each must exit 0.

The import contracts (``[tool.importlinter]``), ruff's lint and format settings
(``[tool.ruff]``) and mypy's (``[tool.mypy]``) live in pyproject.toml; these
tests are how ``./dev test`` (and so ``.ci/run``) checks them.

mypy checks sync/, labels/, qc_checklists/, server/ and the station's command
line; the rest of terminal/ (Textual screens and widgets) is linted and
formatted but not yet type-checked.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = Path(sys.executable).parent  # the venv's console scripts: lint-imports, ruff, mypy


def run(tool: str, *args: str) -> None:
    """Run ``tool`` from the repository root; fail with its whole output unless it exits 0."""
    command = [str(TOOLS / tool), *args]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"`{' '.join([tool, *args])}` exited {done.returncode}:\n{done.stdout}{done.stderr}"


def test_the_imports_keep_the_layering():
    run("lint-imports", "--no-cache")


def test_ruff_finds_nothing():
    run("ruff", "check", "--no-cache", ".")


def test_the_tree_is_formatted():
    run("ruff", "format", "--no-cache", "--check", ".")


def test_mypy_finds_nothing_in_the_checked_packages():
    run("mypy")  # the files listed in [tool.mypy]


def test_every_rule_runs_on_this_tree():
    """A rule that checks nothing cannot fail: the contracts name the real packages, mypy real files."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    assert set(config["importlinter"]["root_packages"]) == {"terminal", "sync", "labels", "qc_checklists", "server"}
    assert len(config["importlinter"]["contracts"]) >= 5
    assert all((ROOT / path).exists() for path in config["mypy"]["files"]), config["mypy"]["files"]
