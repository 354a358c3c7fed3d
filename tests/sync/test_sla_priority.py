"""SLA limits per priority (issue 12 part 1: "configurable per category or priority"), and the stations counting
with the server's limits (GET /api/v1/sla, kept in the station database): the import's priority column, the
strictest of the category and priority overrides, the priority in the report, escalation, digest and the
overdue page, the policy round-tripping exactly, and both sides of an older release."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import requests
import sqlalchemy as sa
from click.testing import CliRunner

from server.cli import server as server_cli
from server.db import rmas
from server.hooks.outbox import deliveries
from server.sla import current_policy, digest_text, escalate, overdue_report, send_escalation_mail
from sync.client import SyncClient
from sync.imports import read_rma_file
from sync.protocol import ChangePage, RmaRecord, SlaPolicy, StationStatus
from sync.sla import DEFAULT_POLICY, PolicyError, policy_from_wire, policy_to_wire, read_policy
from sync.store import Store
from tests.helpers.server_thread import ServerThread
from tests.server.conftest import SUPERVISOR, Site
from tests.sync.test_sla import Pusher, ago, smtp  # noqa: F401 - smtp: the real SMTP server fixture
from tests.sync.test_webhooks import add_endpoint, new_secret

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # a Friday

SLA_FILE = """\
categories:
  consumer_electronics:
    inspect: 12 hours
  apparel:
    inspect: 3 hours
priorities:
  express:
    receive: 2 days
    inspect: 4 hours
    put_away: 2 hours
"""


def test_a_priority_limit_applies_and_with_categories_the_strictest_override_wins():
    policy = read_policy(SLA_FILE)
    express = policy.clock("inspect", START, ["general"], "express")
    assert (express.due_at, express.priority) == (START + timedelta(hours=4), "express")
    assert policy.clock("receive", START, ["general"], "express").due_at == START + timedelta(days=2)
    # a category stricter than the priority wins, and the clock names that category
    coat = policy.clock("inspect", START, ["apparel"], "express")
    assert (coat.due_at, coat.category, coat.priority) == (START + timedelta(hours=3), "apparel", "express")
    # the priority stricter than the category wins
    tv = policy.clock("inspect", START, ["consumer_electronics"], "express")
    assert tv.due_at == START + timedelta(hours=4) and tv.category == "consumer_electronics"
    # a priority the file does not name, or none, has the category's limit or the default
    assert policy.clock("inspect", START, ["consumer_electronics"], "vip").due_at == START + timedelta(hours=12)
    assert policy.clock("inspect", START, ["general"]).due_at == START + timedelta(hours=24)
    assert policy.clock("inspect", START, ["general"]).priority == "standard"


def test_the_sla_file_reads_priorities_and_says_what_is_wrong_with_them_by_line():
    with pytest.raises(PolicyError) as refused:
        read_policy("priorities:\n  express:\n    inspect: soon\n  '[b]VIP[/b]':\n    inspect: 2h\n", "sla.yaml")
    assert refused.value.problems == [
        "sla.yaml:3: 'soon' is not a limit for inspect: write a positive number of hours or days",
        "sla.yaml:4: '[b]VIP[/b]' is not a priority: a lower-case word like express or vip",
    ]


@pytest.mark.parametrize(
    "calendar",
    [
        "working_hours:\n  timezone: Asia/Shanghai\n  days: [mon, tue, wed, thu, fri, sat]\n"
        '  from: "08:30"\n  to: "18:00:30"\n  holidays: [2026-10-01, 2026-10-02]\n  steps: [inspect]\n',
        'working_hours:\n  timezone: "-03:30"\n  days: [sun]\n  from: "22:00"\n  to: "23:59"\n',
        "working_hours:\n  timezone: UTC\n",
        "due_soon: 10%\n",
    ],
)
def test_the_policy_goes_over_the_wire_and_reads_back_equal(calendar):
    policy = read_policy(SLA_FILE + "limits:\n  receive: 1.1 days\n" + calendar, "/etc/rma/sla.yaml")
    wire = SlaPolicy.model_validate_json(policy_to_wire(policy).model_dump_json())
    assert policy_from_wire(wire) == policy
    assert policy_from_wire(policy_to_wire(DEFAULT_POLICY)) == DEFAULT_POLICY


def test_the_calendar_read_back_counts_alike():
    policy = read_policy(SLA_FILE + 'working_hours:\n  timezone: Asia/Shanghai\n  from: "08:00"\n  to: "18:00"\n')
    back = policy_from_wire(policy_to_wire(policy))
    assert back.calendar.zone == ZoneInfo("Asia/Shanghai") and back.calendar.start == time(8, 0)
    friday_late = datetime(2026, 11, 20, 17, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert back.clock("inspect", friday_late, [], "express").due_at == datetime(
        2026, 11, 23, 11, 0, tzinfo=ZoneInfo("Asia/Shanghai")
    )
    fixed = read_policy('working_hours:\n  timezone: "+08:00"\n')
    assert policy_from_wire(policy_to_wire(fixed)).calendar.zone == timezone(timedelta(hours=8))


def test_the_import_reads_the_priority_column_and_refuses_what_is_not_one_word(sqlite_storage, tmp_path):
    text = (
        "rma_code,status,sku,qty,priority\n"
        "RMA-P1,authorized,SKU-1,1,Express\n"
        "RMA-P2,authorized,SKU-1,1,\n"
        "RMA-P3,authorized,SKU-1,1,[bold]red[/bold]\n"
        "RMA-P4,authorized,SKU-1,1,express\n"
        "RMA-P4,authorized,SKU-2,1,vip\n"
        "RMA-P5,authorized,SKU-1,1,standard\n"
        f"RMA-P6,authorized,SKU-1,1,{'x' * 33}\n"  # longer than a word
    )
    parsed = read_rma_file(text=text, kind="csv", name="rmas.csv")
    assert {p.rma["rma_code"]: p.rma.get("priority") for p in parsed.rmas} == {
        "RMA-P1": "express",
        "RMA-P2": None,  # the default, left out
        "RMA-P5": None,
    }
    assert [where for where, _reason in parsed.errors] == [4, 5, 6, 8]
    assert parsed.errors[0] == (
        4,
        "priority '[bold]red[/bold]' is not one word like express (letters, digits, - or _; at most 32)",
    )
    assert parsed.errors[2] == (6, "priority 'vip' differs from the one given before for RMA-P4")
    source = tmp_path / "rmas.csv"
    source.write_text(text, encoding="utf-8")
    done = CliRunner().invoke(server_cli, ["import", "rmas", str(source), "--db", sqlite_storage.url])
    assert done.exit_code == 1 and "rmas.csv:4: priority '[bold]red[/bold]' is not one word" in done.stderr
    with sqlite_storage.db.read() as conn:
        stored = dict(conn.execute(sa.select(rmas.c.code, rmas.c.record)).all())
    assert json.loads(stored["RMA-P1"])["priority"] == "express"
    # the default is left out of the record: it reads and compares as before, and older stations pull it
    assert "priority" not in json.loads(stored["RMA-P2"]) and "priority" not in json.loads(stored["RMA-P5"])
    assert set(stored) == {"RMA-P1", "RMA-P2", "RMA-P5"}
    assert "priority" in str(RmaRecord.model_json_schema()["properties"])
    with pytest.raises(ValueError):  # the API refuses what the import would: not one word
        RmaRecord.model_validate(
            {"rma_code": "X", "status": "authorized", "lines": [{"sku": "S", "qty": 1}], "priority": "[b]x"}
        )


def import_rmas(url: str, erp: str, *records: dict) -> None:
    answer = requests.post(
        f"{url}/api/v1/rmas", json={"rmas": list(records)}, headers={"Authorization": f"Bearer {erp}"}, timeout=10
    )
    assert answer.status_code == 200, answer.text


def record(code: str, priority: str = "", category: str = "general", qty: int = 1) -> dict:
    return {
        "rma_code": code,
        "status": "authorized",
        "lines": [{"sku": "SKU-1", "qty": qty, "category": category}],
        **({"priority": priority} if priority else {}),
    }


@pytest.fixture
def sla_file(tmp_path, monkeypatch):
    """The server's sla.yaml with the priorities above, in force."""
    path = tmp_path / "sla.yaml"
    path.write_text(SLA_FILE, encoding="utf-8")
    monkeypatch.setenv("RMA_SLA_FILE", str(path))
    return path


def test_the_report_escalation_digest_and_overdue_page_name_the_priority(
    storage,
    sla_file,
    smtp,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    db = storage.db
    monkeypatch.setenv("RMA_SLA_CHECK", "0")  # escalated below, by this test, not by the running server
    add_endpoint(tmp_path, storage.url, "http://127.0.0.1:9/hooks", new_secret(), events="sla.overdue")
    running = ServerThread(db, rate=0).start()
    try:
        site = Site(db, running.url)
        import_rmas(
            running.url,
            site.erp,
            record("RMA-EXP", "express"),
            record("RMA-STD"),
            record("RMA-EXPU", "express", qty=2),
            record("RMA-STDU", qty=2),
        )
        unit = {"line_no": 1, "unit_no": 1, "category": "general", "channel": "restock"}
        db.add_station("A")
        Pusher(db).push(
            ("rma.received", "RMA-EXP", {}, ago(hours=5)),  # express: 4 hours to inspect
            ("rma.received", "RMA-STD", {}, ago(hours=5)),  # standard: 24 hours, on time
            ("rma.received", "RMA-EXPU", {}, ago(hours=8)),
            ("item.inspected", "RMA-EXPU", unit | {"lpn": "LPN-EXP"}, ago(hours=3)),
            ("rma.received", "RMA-STDU", {}, ago(hours=8)),
            ("item.inspected", "RMA-STDU", unit | {"lpn": "LPN-STD"}, ago(hours=7)),
        )
        answer = requests.get(
            f"{running.url}/api/v1/reports/overdue", headers={"Authorization": f"Bearer {site.erp}"}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        found = {(i["code"], i["step"], i["state"], i["priority"]) for i in answer.json()["items"]}
        assert found == {
            ("RMA-EXP", "inspect", "overdue", "express"),
            ("RMA-EXPU", "inspect", "overdue", "express"),  # received 8 h ago, one unit not inspected
            ("RMA-EXPU", "put_away", "overdue", "express"),  # its unit: 2 hours to put away, inspected 3 h ago
            ("RMA-STDU", "put_away", "due_soon", "standard"),  # 8 hours, inspected 7 h ago: the last quarter
        }
        page = site.sign_in(SUPERVISOR).get(f"{running.url}/ui/overdue?format=csv", timeout=10)
        assert page.status_code == 200, page.text
        rows = list(csv.DictReader(io.StringIO(page.text.lstrip("\ufeff"))))
        assert {(r["code"], r["priority"]) for r in rows} == {
            ("RMA-EXP", "express"),
            ("RMA-EXPU", "express"),
            ("RMA-STDU", "standard"),
        }
        html = site.sign_in(SUPERVISOR).get(f"{running.url}/ui/overdue", timeout=10).text
        assert "Priority" in html and "express" in html
    finally:
        running.stop()
    told = escalate(db, mail_on=True)
    assert {(i["code"], i["step"], i["priority"]) for i in told} == {
        ("RMA-EXP", "inspect", "express"),
        ("RMA-EXPU", "inspect", "express"),
        ("RMA-EXPU", "put_away", "express"),
    }
    from server import mail

    assert send_escalation_mail(db, mail.MailSettings.from_env(smtp.env)) == 3
    (_to, message), *_ = smtp.mails
    assert "RMA RMA-EXP: not inspected since" in message.get_content()
    assert message.get_content().count("(general, priority express)") == 3
    _subject, body, count = digest_text(db)
    assert count == 4 and body.count("priority express") == 3 and "LPN-STD" in body
    with db.read() as conn:  # the sla.overdue webhooks' bodies carry it too
        bodies = [json.loads(b) for b in conn.execute(sa.select(deliveries.c.body)).scalars()]
    assert sorted((b["type"], b["data"]["code"], b["data"]["priority"]) for b in bodies) == [
        ("sla.overdue", "RMA-EXP", "express"),
        ("sla.overdue", "RMA-EXPU", "express"),
        ("sla.overdue", "RMA-EXPU", "express"),
    ]


def test_the_overdue_cli_and_sla_check_show_priorities(sqlite_storage, sla_file):
    shown = CliRunner().invoke(server_cli, ["sla", "check", "--sla-file", str(sla_file)])
    assert (
        shown.exit_code == 0 and "priority express: receive 2 days, inspect 4 hours, put_away 2 hours" in shown.stdout
    )
    db = sqlite_storage.db
    db.add_station("A")
    db.import_rmas([RmaRecord.model_validate(record("RMA-EXP", "express"))])
    Pusher(db).push(("rma.received", "RMA-EXP", {}, ago(hours=5)))
    listed = CliRunner().invoke(server_cli, ["sla", "overdue", "--db", sqlite_storage.url])
    assert listed.exit_code == 0 and listed.stdout.rstrip().endswith("general  express")
    assert [i["priority"] for i in overdue_report(db)] == ["express"]


def test_a_station_pulls_the_priority_and_keeps_the_servers_limits_across_a_restart(
    sqlite_storage, sqlite_server, sqlite_tokens, sla_file, tmp_path
):
    import_rmas(sqlite_server.url, sqlite_tokens["erp"], record("RMA-EXP", "express"), record("RMA-STD"))
    path = tmp_path / "station.db"
    with Store(path) as station:
        assert station.sla_policy() is DEFAULT_POLICY  # never heard from the server
        client = SyncClient(sqlite_server.url, sqlite_tokens["A"])
        try:
            report = client.sync(station)
        finally:
            client.close()
        assert report.sla_changed and not report.sla_error
        assert station.get_rma("RMA-EXP").priority == "express" and station.get_rma("RMA-STD").priority == "standard"
        station.receive("RMA-EXP", "A", "op1")
    with Store(path) as station:  # a restart, offline: the limits the server sent are still the ones
        assert station.sla_policy() == current_policy() and station.sla_policy().source == str(sla_file)
        from terminal.backlog import station_backlog

        (waiting,) = station_backlog(station, datetime.now(UTC) + timedelta(hours=5))
        assert (waiting.code, waiting.state) == ("RMA-EXP", "overdue")  # express: 4 hours, not the default 24
        client = SyncClient(sqlite_server.url, sqlite_tokens["A"])
        try:
            again = client.sync(station)
        finally:
            client.close()
        assert not again.sla_changed  # the same limits: nothing written


def test_against_an_older_server_without_the_route_the_station_keeps_its_limits(
    sqlite_storage, sqlite_server, sqlite_tokens, sla_file, tmp_path
):
    app = sqlite_server.server.config.app  # the server as released before GET /api/v1/sla
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", "") != "/api/v1/sla"]
    import_rmas(sqlite_server.url, sqlite_tokens["erp"], record("RMA-EXP", "express"))
    with Store(tmp_path / "station.db") as station:
        client = SyncClient(sqlite_server.url, sqlite_tokens["A"])
        try:
            report = client.sync(station)
        finally:
            client.close()
        assert report.pulled == 1 and not report.sla_changed and not report.sla_error  # the round went through
        assert station.sla_policy() is DEFAULT_POLICY


def test_an_older_station_finds_the_answers_it_knew(sqlite_storage, sqlite_server, sqlite_tokens, sla_file):
    """An older station never asks GET /api/v1/sla, and pulls without ``fields``: what it asks answers as before
    (its models refuse unknown fields), every RMA — an express one too — as a record of the default priority."""
    import_rmas(sqlite_server.url, sqlite_tokens["erp"], record("RMA-STD"), record("RMA-EXP", "express"))
    headers = {"Authorization": f"Bearer {sqlite_tokens['A']}"}
    status = requests.get(f"{sqlite_server.url}/api/v1/station", headers=headers, timeout=10).json()
    assert set(status) == set(StationStatus.model_fields)
    page = requests.get(f"{sqlite_server.url}/api/v1/changes", headers=headers, timeout=10).json()
    ChangePage.model_validate(page)
    first_release = {"rma_code", "order_ref", "customer_name", "reason", "status", "lines", "tracking_numbers"}
    assert [set(c["rma"]) for c in page["changes"]] == [first_release, first_release]
    newer = requests.get(f"{sqlite_server.url}/api/v1/changes?fields=priority", headers=headers, timeout=10).json()
    assert [c["rma"].get("priority") for c in newer["changes"]] == [None, "express"]
    sla = requests.get(f"{sqlite_server.url}/api/v1/sla", headers=headers, timeout=10)
    assert sla.status_code == 200 and policy_from_wire(SlaPolicy.model_validate(sla.json())) == current_policy()
    assert requests.get(f"{sqlite_server.url}/api/v1/sla", timeout=10).status_code == 401
    document = requests.get(f"{sqlite_server.url}/openapi.json", timeout=10).json()
    assert "/api/v1/sla" in document["paths"] and "SlaPolicy" in document["components"]["schemas"]
    assert "fields" in str(document["paths"]["/api/v1/changes"]["get"]["parameters"])
