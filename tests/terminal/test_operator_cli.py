"""`rma operator add|list` and `rma import operators`: who may sign in, and with which role (issue 15, case 12)."""

from __future__ import annotations

from click.testing import CliRunner

from sync.store import Store
from terminal.cli import rma
from terminal.demo import create_demo_database


def run(tmp_path, *args: str):
    config = tmp_path / "station.toml"
    config.write_text('station = "bench-1"\n')
    return CliRunner().invoke(rma, list(args), env={"RMA_STATION_CONFIG": str(config)}, catch_exceptions=False)


def test_operators_are_added_with_a_role_and_listed(tmp_path):
    db = str(tmp_path / "s.db")
    assert "no operators registered" in run(tmp_path, "operator", "list", "--db", db).output
    done = run(tmp_path, "operator", "add", "sam", "--name", "Sam Okafor", "--role", "supervisor", "--db", db)
    assert done.exit_code == 0 and done.output.startswith("registered sam (Sam Okafor, supervisor)")
    assert run(tmp_path, "operator", "add", "ben", "--db", db).exit_code == 0
    assert run(tmp_path, "operator", "add", "sam", "--role", "clerk", "--db", db).output.startswith(
        "updated sam (Sam Okafor, clerk)"
    )
    listed = run(tmp_path, "operator", "list", "--db", db).output.splitlines()
    assert [line.split()[:2] for line in listed] == [["ben", "clerk"], ["sam", "clerk"]]


def test_a_bad_operator_is_one_line_and_exit_1(tmp_path):
    done = run(tmp_path, "operator", "add", "two words", "--db", str(tmp_path / "s.db"))
    assert done.exit_code == 1
    assert done.output.strip().splitlines() == [
        "rma: operator id 'two words' must be 1-64 printable characters without spaces (it is the badge's OP:<id>)"
    ]


def test_operators_are_imported_from_csv_with_one_line_per_bad_row(tmp_path):
    path = tmp_path / "operators.csv"
    path.write_text(
        "id,name,role\nanna,Anna Schmidt,supervisor\nben,Ben Novak,\nx y,Bad,clerk\nqc2,Q,boss\n", encoding="utf-8"
    )
    db = tmp_path / "s.db"
    done = run(tmp_path, "import", "operators", str(path), "--db", str(db))
    assert done.exit_code == 1
    assert f"{path}:4: operator id 'x y'" in done.output and f"{path}:5: role 'boss'" in done.output
    assert "registered 2 operators" in done.output
    with Store(db) as store:
        assert [(o.id, o.role) for o in store.operators()] == [("anna", "supervisor"), ("ben", "clerk")]


def test_the_demo_has_registered_operators_and_anna_is_a_supervisor(tmp_path):
    with Store(create_demo_database(tmp_path / "demo.db", 3)) as store:
        assert {(o.id, o.role) for o in store.operators()} == {
            ("anna", "supervisor"),
            ("ben", "clerk"),
            ("qc1", "inspector"),
        }


def test_the_station_refuses_an_unregistered_operator_before_it_starts(tmp_path):
    done = run(tmp_path, "station", "--db", str(tmp_path / "s.db"), "--operator", "ghost")
    assert done.exit_code == 1
    assert done.output.strip().splitlines() == [
        "rma: ghost is not a registered operator; nobody signed in (rma operator add ghost)"
    ]
