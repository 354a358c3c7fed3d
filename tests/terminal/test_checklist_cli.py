"""`rma checklist validate|list` as a user runs them."""

from __future__ import annotations

from click.testing import CliRunner

from terminal.cli import rma


def run(*args):
    return CliRunner().invoke(rma, list(args))


def test_validate_the_standard_checklists():
    result = run("checklist", "validate")
    assert result.exit_code == 0, result.output
    for name in ("apparel", "footwear", "consumer_electronics", "small_appliances", "general"):
        assert f"({name}, " in result.output


def test_validate_reports_every_problem_and_exits_1(tmp_path):
    (tmp_path / "toys.yaml").write_text(
        "checklist: toys\nitems:\n  - id: a\n    kind: foo\n  - id: a\n    kind: note\n    prompt: A\n"
    )
    (tmp_path / "empty.yaml").write_text("")
    result = run("checklist", "validate", str(tmp_path))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert f"{tmp_path / 'empty.yaml'}:1: file is empty; a checklist needs 'checklist', 'title' and 'items'" in lines
    assert f"{tmp_path / 'toys.yaml'}:3: missing 'prompt'" in lines
    assert any(line.startswith(f"{tmp_path / 'toys.yaml'}:4: unknown kind 'foo'") for line in lines)
    assert "Traceback" not in result.output


def test_validate_an_empty_folder(tmp_path):
    result = run("checklist", "validate", str(tmp_path))
    assert result.exit_code == 1 and "no checklist files" in result.stderr


def test_list_shows_loaded_and_refused(tmp_path):
    assert "consumer_electronics" in run("checklist", "list").output
    (tmp_path / "toys.yaml").write_text("checklist: toys\n")
    result = run("checklist", "list", "--dir", str(tmp_path))
    assert result.exit_code == 1
    assert "toys" in result.output and "REFUSED" in result.output and "missing 'items'" in result.output
