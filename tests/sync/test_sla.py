"""SLA clocks on the server (issue 12 part 1): the overdue report and its API, escalation told once by a real
webhook receiver and a real SMTP server (aiosmtpd) across a restart, hostile text kept out of mail headers,
a mail retried after the SMTP server was down, and the daily digest."""

from __future__ import annotations

import email
import email.policy
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from server import mail
from server.cli import server as server_cli
from server.db import ServerDb
from server.sla import escalate, escalations, overdue_report, send_daily_digest, send_escalation_mail
from sync.protocol import PushBatch, RmaRecord
from tests.helpers.local_postgres import free_port
from tests.helpers.server_thread import ServerThread
from tests.helpers.webhook_receiver import WebhookReceiver
from tests.sync.conftest import wait_until
from tests.sync.test_webhooks import FAST, add_endpoint, new_secret

SUPERVISOR = "shift.lead@warehouse.example"


class Inbox:
    """What the local SMTP server was handed: (envelope recipients, parsed message) per mail."""

    def __init__(self):
        self.mails: list[tuple[list[str], email.message.EmailMessage]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.lock:
            self.mails.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def count(self) -> int:
        with self.lock:
            return len(self.mails)


@pytest.fixture
def smtp():
    """A real SMTP server on a loopback port (aiosmtpd), and the environment that points the server at it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.env = {
        "RMA_SMTP_HOST": "127.0.0.1",
        "RMA_SMTP_PORT": str(controller.port),
        "RMA_SMTP_FROM": "rma-server@warehouse.example",
        "RMA_SLA_MAIL_TO": SUPERVISOR,
    }
    yield inbox
    controller.stop()


def ago(**delta) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat(timespec="milliseconds")


def rma(code: str, qty: int = 1, category: str = "general") -> RmaRecord:
    return RmaRecord.model_validate(
        {"rma_code": code, "status": "authorized", "lines": [{"sku": "SKU-1", "qty": qty, "category": category}]}
    )


class Pusher:
    """Events of station A, pushed straight into the server database in order."""

    def __init__(self, db: ServerDb):
        self.db, self.seq = db, db.station_status("A").acked_seq

    def push(self, *events: tuple[str, str, dict, str]) -> list[str]:
        batch, ids = [], []
        for kind, code, payload, at in events:
            self.seq += 1
            ids.append(str(uuid.uuid4()))
            batch.append(
                {"seq": self.seq, "id": ids[-1], "type": kind, "operator": "op1", "at": at, "rma_code": code}
                | {"payload": payload}
            )
        result = self.db.push("A", PushBatch.model_validate({"after_seq": self.seq - len(batch), "events": batch}))
        assert result.stored == len(batch) and not result.rejected, result
        return ids


def seed(db: ServerDb) -> Pusher:
    """An RMA on time, one overdue for inspection, one of apparel received as long ago, a unit not put away."""
    db.add_station("A")
    db.import_rmas([rma("RMA-ONTIME"), rma("RMA-LATE"), rma("RMA-COAT", category="apparel"), rma("RMA-UNITS", 2)])
    pusher = Pusher(db)
    unit = {"line_no": 1, "category": "general", "channel": "restock"}
    pusher.push(
        ("rma.received", "RMA-LATE", {}, ago(days=2)),
        ("rma.received", "RMA-COAT", {}, ago(days=2)),
        ("rma.received", "RMA-UNITS", {}, ago(days=3)),
        ("item.inspected", "RMA-UNITS", unit | {"unit_no": 1, "lpn": "LPN-WAITS"}, ago(days=2)),
        ("item.inspected", "RMA-UNITS", unit | {"unit_no": 2, "lpn": "LPN-PLACED"}, ago(days=2)),
        ("rma.inspected", "RMA-UNITS", {}, ago(days=2)),
        ("unit.put_away", "RMA-UNITS", {"lpn": "LPN-PLACED", "bin": "A-1"}, ago(days=1)),
    )
    return pusher


def test_the_overdue_report_lists_what_is_late_oldest_due_first(sqlite_storage, tmp_path, monkeypatch):
    db = sqlite_storage.db
    seed(db)
    erp = db.add_station("erp", "integration")
    sla_file = tmp_path / "sla.yaml"
    sla_file.write_text("due_soon: 90%\ncategories:\n  apparel:\n    inspect: 10 days\n", encoding="utf-8")
    monkeypatch.setenv("RMA_SLA_FILE", str(sla_file))
    running = ServerThread(db, rate=0).start()
    try:
        answer = requests.get(
            f"{running.url}/api/v1/reports/overdue", headers={"Authorization": f"Bearer {erp}"}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        report = answer.json()
        found = [(i["kind"], i["code"], i["lpn"], i["step"], i["state"]) for i in report["items"]]
        assert found == [
            ("unit", "RMA-UNITS", "LPN-WAITS", "put_away", "overdue"),  # due 8 h after its inspection
            ("rma", "RMA-LATE", "", "inspect", "overdue"),  # due 24 h after its receipt
            ("rma", "RMA-COAT", "", "inspect", "due_soon"),  # apparel: 10 days, the last 90% of them
        ]
        assert (report["overdue"], report["due_soon"], report["policy"]) == (2, 1, str(sla_file))
        late = report["items"][1]
        assert 47.9 < late["age_hours"] < 48.5 and late["category"] == "general"
        assert datetime.fromisoformat(late["due_at"]) - datetime.fromisoformat(late["started_at"]) == timedelta(days=1)
        soon = requests.get(
            f"{running.url}/api/v1/reports/overdue?state=due_soon",
            headers={"Authorization": f"Bearer {erp}"},
            timeout=10,
        ).json()
        assert [i["code"] for i in soon["items"]] == ["RMA-COAT"] and soon["items"][0]["category"] == "apparel"
        station = requests.get(
            f"{running.url}/api/v1/reports/overdue",
            headers={"Authorization": f"Bearer {db.add_station('B')}"},
            timeout=10,
        )
        assert station.status_code == 403
        wrong = requests.get(
            f"{running.url}/api/v1/reports/overdue?state=late", headers={"Authorization": f"Bearer {erp}"}, timeout=10
        )
        assert wrong.status_code == 422
        document = requests.get(f"{running.url}/openapi.json", timeout=10).json()
        assert "state" in str(document["paths"]["/api/v1/reports/overdue"]["get"]["parameters"])
    finally:
        running.stop()


def test_an_overdue_return_is_told_once_by_webhook_and_mail_also_after_a_restart(storage, smtp, tmp_path, monkeypatch):
    for name, value in {**FAST, **smtp.env, "RMA_SLA_CHECK": "0.05", "RMA_SLA_DIGEST_AT": "off"}.items():
        monkeypatch.setenv(name, value)
    pusher = seed(storage.db)
    receiver = WebhookReceiver(new_secret()).start()
    try:
        add_endpoint(tmp_path, storage.url, receiver.url, receiver.secret, events="sla.overdue")
        running = ServerThread(storage.db, rate=0).start()
        try:
            assert wait_until(lambda: len(receiver.delivered()) == 3 and smtp.count() == 1)
        finally:
            running.stop()
        storage.db.close()
        storage.db = ServerDb(storage.url)  # the server restarted: what it told is in its database
        Pusher.__init__(pusher, storage.db)
        pusher.push(("rma.received", "RMA-ONTIME", {}, ago(days=2)))  # becomes overdue while it is down
        running = ServerThread(storage.db, rate=0).start()
        try:
            assert wait_until(lambda: len(receiver.delivered()) == 4 and smtp.count() == 2)
        finally:
            running.stop()
    finally:
        receiver.stop()
    told = sorted((r.body["data"]["code"], r.body["data"]["step"]) for r in receiver.requests if r.verified)
    assert told == [
        ("RMA-COAT", "inspect"),
        ("RMA-LATE", "inspect"),
        ("RMA-ONTIME", "inspect"),
        ("RMA-UNITS", "put_away"),
    ]
    assert {r.body["type"] for r in receiver.requests} == {"sla.overdue"}
    (first_to, first), (_, second) = smtp.mails
    assert first_to == [SUPERVISOR] and first["Subject"] == "RMA Station: 3 returns became overdue"
    assert "RMA-ONTIME" not in first.get_content() and "LPN-WAITS" in first.get_content()
    assert second["Subject"] == "RMA Station: RMA RMA-ONTIME is overdue (inspect)"
    assert escalate(storage.db) == []  # a third look finds nothing new to tell


def test_hostile_names_do_not_break_the_mail_headers(sqlite_storage, smtp):
    db = sqlite_storage.db
    db.add_station("A")
    code = "RMA-<b>X</b>\r\nBcc: victim@evil.example\x00\x1b[31m"
    db.import_rmas([rma(code, category="[bold]toys\r\nX-Injected: yes\n")])
    Pusher(db).push(("rma.received", code.upper(), {}, ago(days=3)))
    new = escalate(db, mail_on=True)
    assert len(new) == 1 and new[0]["code"] == code.upper()
    assert send_escalation_mail(db, mail.MailSettings.from_env(smtp.env)) == 1
    (to, message), *_ = smtp.mails
    assert to == [SUPERVISOR]
    headers = ["Content-Transfer-Encoding", "Content-Type", "Date", "From", "MIME-Version", "Message-ID"]
    assert sorted(message.keys()) == [*headers, "Subject", "To"]
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
    assert "BCC: VICTIM@EVIL.EXAMPLE" in message["Subject"]  # shown as the text it is, on the one line
    assert "X-Injected: yes" in message.get_content() and "\x00" not in message.get_content()


def test_a_mail_the_smtp_server_did_not_take_is_sent_on_a_later_try(sqlite_storage, smtp):
    db = sqlite_storage.db
    seed(db)
    assert len(escalate(db, mail_on=True)) == 3
    down = mail.MailSettings.from_env({**smtp.env, "RMA_SMTP_PORT": str(free_port())})
    assert send_escalation_mail(db, down) == 0
    with db.read() as conn:
        rows = conn.execute(sa.select(escalations.c.mail, escalations.c.mail_error)).all()
    assert {r.mail for r in rows} == {"pending"} and all("cannot reach" in r.mail_error for r in rows)
    settings = mail.MailSettings.from_env(smtp.env)
    assert send_escalation_mail(db, settings) == 0  # not due again yet: the backoff
    assert send_escalation_mail(db, settings, clock=lambda: datetime.now(UTC).timestamp() + 3600) == 3
    assert smtp.count() == 1
    with db.read() as conn:
        assert {r.mail for r in conn.execute(sa.select(escalations.c.mail))} == {"sent"}


def test_the_digest_goes_once_a_day_and_on_demand(sqlite_storage, smtp, monkeypatch):
    db = sqlite_storage.db
    seed(db)
    settings = mail.MailSettings.from_env(smtp.env)
    assert send_daily_digest(db, settings) is True
    assert send_daily_digest(db, settings) is False  # today's is sent
    (_, daily), *_ = smtp.mails
    assert daily["Subject"].endswith(": 3 overdue, 0 due soon")
    assert "put_away (1):" in daily.get_content() and "LPN-WAITS" in daily.get_content()
    shown = CliRunner().invoke(server_cli, ["digest", "--db", sqlite_storage.url])
    assert shown.exit_code == 0 and "3 overdue" in shown.stdout
    for name, value in smtp.env.items():
        monkeypatch.setenv(name, value)
    sent = CliRunner().invoke(server_cli, ["digest", "--send", "--db", sqlite_storage.url])
    assert sent.exit_code == 0, sent.stderr
    assert smtp.count() == 2 and f"sent to {SUPERVISOR}" in sent.stdout
    assert len(overdue_report(db)) == 3  # nothing of it changed what is overdue


def test_the_server_does_not_start_with_a_bad_sla_file_and_says_every_problem(tmp_path, monkeypatch):
    bad = tmp_path / "sla.yaml"
    bad.write_text("limits:\n  inspect: tomorrow\ncategories:\n  apparel:\n    wash: 2 hours\n", encoding="utf-8")
    monkeypatch.setenv("RMA_SLA_FILE", "")  # `sla check` puts its file in force in this process: undone after
    refused = CliRunner().invoke(server_cli, ["--db", str(tmp_path / "s.db"), "--port", "0", "--sla-file", str(bad)])
    assert refused.exit_code == 1
    assert refused.stderr.splitlines() == [
        f"{bad}:2: 'tomorrow' is not a limit for inspect: write a positive number of hours or days",
        f"{bad}:5: 'wash' is not a step; the steps are receive, inspect, put_away",
        f"rma: the SLA file {bad} has 2 problem(s); nothing was started",
    ]
    good = tmp_path / "good.yaml"
    good.write_text("categories:\n  apparel:\n    inspect: 2 days\n", encoding="utf-8")
    shown = CliRunner().invoke(server_cli, ["sla", "check", "--sla-file", str(good)])
    assert shown.exit_code == 0 and "apparel: inspect 2 days" in shown.stdout
