"""Registered operators and their roles; a supervisor's approval recorded on the event (issue 15, case 12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sync.store import Store, StoreError
from terminal.approvals import override_needs_supervisor, undo_needs_supervisor
from terminal.config import ConfigError, Settings, load
from tests.conftest import add_rma
from tests.sync.test_inspections import inspection, received  # noqa: F401 (fixture)


def test_operators_are_registered_with_a_role(store):
    assert store.operator("anna") is None
    anna = store.add_operator("anna", "Anna Schmidt", "supervisor")
    assert (anna.id, anna.name, anna.role) == ("anna", "Anna Schmidt", "supervisor")
    assert store.add_operator("ben").role == "clerk"  # a new operator is a clerk unless told
    assert store.add_operator("anna", "Anna S.").role == "supervisor"  # a rename keeps the role
    assert store.add_operator("anna", role="clerk").name == "Anna S."  # a role change keeps the name
    assert [(o.id, o.role) for o in store.operators()] == [("anna", "clerk"), ("ben", "clerk")]


@pytest.mark.parametrize(
    "operator_id, role, problem",
    [
        ("", None, "must be 1-64 printable"),
        ("a b", None, "without spaces"),
        ("x\x1b", None, "printable"),
        ("x" * 65, None, "1-64"),
        ("ok", "boss", "not one of clerk, inspector, supervisor"),
    ],
)
def test_a_bad_operator_is_refused_with_one_line(store, operator_id, role, problem):
    with pytest.raises(StoreError, match=problem):
        store.add_operator(operator_id, "", role)
    assert store.operators() == []


def test_the_database_itself_refuses_an_unknown_role(store):
    with pytest.raises(StoreError, match="CHECK constraint failed"), store.write() as conn:
        conn.execute("INSERT INTO operators (id, name, created_at, role) VALUES ('x', '', 'now', 'boss')")


def test_an_older_database_gets_roles_and_keeps_its_operators(tmp_path):
    path = tmp_path / "old.db"
    with Store(path) as store:
        store.add_operator("anna", "Anna")
        with store.write() as conn:  # as a database from before 006_operator_roles
            conn.execute("DELETE FROM _migrations WHERE name = '006_operator_roles'")
            conn.execute("ALTER TABLE operators DROP COLUMN role")
    with Store(path) as store:
        assert store.operator("anna").role == "clerk"


def received_by(store, operator: str) -> None:
    add_rma(store, "RMA-7")
    store.receive("RMA-7", "bench-1", operator)


def test_an_undo_approved_by_a_supervisor_names_them_on_the_event(store):
    store.add_operator("sam", "Sam", "supervisor")
    received_by(store, "ben")
    store.undo_receive("RMA-7", "bench-1", "cleo", approved_by="sam")
    event = store.events()[-1]
    assert (event.type, event.operator, event.payload) == (
        "rma.receive_undone",
        "cleo",
        {"reason": "undo", "approved_by": "sam"},
    )


@pytest.mark.parametrize("approver, role", [("ben", "clerk"), ("ghost", None)])
def test_an_undo_approved_by_anyone_but_a_supervisor_is_refused_and_nothing_changes(store, approver, role):
    if role:
        store.add_operator(approver, "", role)
    received_by(store, "ben")
    before = store.last_seq()
    with pytest.raises(StoreError, match="supervisor"):
        store.undo_receive("RMA-7", "bench-1", "cleo", approved_by=approver)
    assert store.last_seq() == before and store.get_rma("RMA-7").stage == "received"


def test_an_own_undo_needs_no_approval(store):
    received_by(store, "ben")
    store.undo_receive("RMA-7", "bench-1", "ben")
    assert store.events()[-1].payload == {"reason": "undo"}


def test_an_override_approved_by_a_supervisor_is_recorded(received):  # noqa: F811
    received.add_operator("sam", "Sam", "supervisor")
    received.add_operator("qc1", "Q", "inspector")
    with pytest.raises(StoreError, match="inspection not saved: qc1 is an inspector, not a supervisor"):
        received.save_inspection(
            inspection(suggested="discounted", final="resellable", override_reason="r"),
            "bench-2",
            "qc1",
            approved_by="qc1",
        )
    assert received.inspections_of("RMA-1") == []
    received.save_inspection(
        inspection(suggested="discounted", final="resellable", override_reason="r"), "bench-2", "qc1", approved_by="sam"
    )
    assert received.events()[-1].payload["approved_by"] == "sam"


def receipt(store, operator: str, minutes_ago: float):
    """An RMA as received by ``operator`` some minutes ago (received_at as the store writes it)."""
    rma = store.get_rma("RMA-7")
    at = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat(timespec="milliseconds")
    from dataclasses import replace

    return replace(rma, received_at=at, received_operator=operator)


def test_which_undo_needs_a_supervisor_is_the_site_setting(store):
    received_by(store, "ben")
    site = Settings()  # default: override, undo_other and undo_old, 5 minutes' grace
    assert undo_needs_supervisor(site, receipt(store, "ben", 1), "ben") == ""  # own mis-scan, just now
    assert "received by ben" in undo_needs_supervisor(site, receipt(store, "ben", 1), "cleo")
    assert "12 minutes ago (more than 5)" in undo_needs_supervisor(site, receipt(store, "ben", 12.5), "ben")
    lenient = Settings(supervisor_required=("override",), undo_grace_minutes=5)
    assert undo_needs_supervisor(lenient, receipt(store, "ben", 60), "cleo") == ""
    assert override_needs_supervisor(site) and override_needs_supervisor(lenient)
    assert not override_needs_supervisor(Settings(supervisor_required=()))


def test_the_approval_settings_come_from_station_toml_and_are_checked(tmp_path):
    cfg = tmp_path / "station.toml"
    cfg.write_text('supervisor_required = ["undo_other"]\nundo_grace_minutes = 2\n')
    settings = load(cfg)
    assert settings.supervisor_required == ("undo_other",) and settings.undo_grace_minutes == 2.0
    assert settings.sources["undo_grace_minutes"].startswith("file")
    for text, problem in (
        ('supervisor_required = "override"', "must be a list"),
        ('supervisor_required = ["overide"]', "unknown action 'overide'"),
        ("undo_grace_minutes = -1", "minutes ≥ 0"),
        ('undo_grace_minutes = "5"', "minutes ≥ 0"),
    ):
        cfg.write_text(text + "\n")
        with pytest.raises(ConfigError, match=problem):
            load(cfg)
