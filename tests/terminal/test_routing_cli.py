"""`rma checklist routing` as a QC lead runs it."""

from __future__ import annotations

from click.testing import CliRunner

from terminal.cli import rma


def run(*args):
    return CliRunner().invoke(rma, list(args))


def test_the_standard_routing_rules_are_shown_in_deciding_order():
    result = run("checklist", "routing")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("ok  ") and "(standard v1, " in lines[0] and "default recycle" in lines[0]
    decided = [line.split()[2] for line in lines[1:-1]]
    assert decided[0] == "destroy" and decided[-1] == "restock"
    assert lines[-1].split()[:2] == ["else", "recycle"]


def test_every_problem_is_file_line_reason_and_exits_1(tmp_path):
    path = tmp_path / "routing.yaml"
    path.write_text(
        "routing: site\nrules:\n  - then: landfill\n  - then: restock\n    failed: [battery_swollen]\n", "utf-8"
    )
    result = run("checklist", "routing", str(path))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{path}:1: missing 'default'")
    assert lines[1].startswith(f"{path}:3: unknown channel 'landfill'")
    assert lines[2] == f"{path}:5: rule names item 'battery_swollen', which is on no checklist"
    assert "Traceback" not in result.output
