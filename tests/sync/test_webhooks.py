"""Outbound webhooks (issue 11 part 6): signed deliveries from the server's outbox to a real receiver
that answers 500, hangs and goes away; the dead-letter list and replay by CLI; a server SIGKILLed
mid-delivery loses nothing; several PostgreSQL workers never send one delivery twice."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from click.testing import CliRunner

from server.cli import server as server_cli
from server.hooks.outbox import deliveries
from tests.helpers.local_postgres import free_port
from tests.helpers.server_thread import ServerThread
from tests.helpers.webhook_receiver import WebhookReceiver, verify
from tests.sync.conftest import ServerStorage, wait_until
from tests.sync.test_server_process import ENV, RMA_CLI, ServerProcess

FAST = {
    "RMA_WEBHOOK_BACKOFF": "0.05",
    "RMA_WEBHOOK_BACKOFF_CAP": "0.2",
    "RMA_WEBHOOK_TIMEOUT": "1",
    "RMA_WEBHOOK_TRIES": "4",
    "RMA_WEBHOOK_POLL": "0.05",
}


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def cli(*args: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(server_cli, list(args))
    return done.exit_code, done.stdout, done.stderr


def add_endpoint(tmp_path, db_url: str, url: str, secret: str, events: str = "receipt,inspection") -> str:
    secret_file = tmp_path / f"secret-{uuid.uuid4().hex[:6]}"
    secret_file.write_text(secret + "\n")
    code, out, err = cli("webhooks", "add", url, "--events", events, "--secret-file", str(secret_file), "--db", db_url)
    assert code == 0, err
    return out


def event(seq: int, kind: str = "parcel.unexpected", **payload) -> dict:
    return {
        "seq": seq,
        "id": str(uuid.uuid4()),
        "type": kind,
        "operator": "op1",
        "at": "2026-11-21T10:00:00.000+00:00",
        "payload": payload or {"scanned": f"P{seq}"},
    }


def push(url: str, token: str, events: list[dict], after_seq: int = 0) -> dict:
    answer = requests.post(
        f"{url}/api/v1/events",
        json={"after_seq": after_seq, "events": events},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def delivery_rows(url: str) -> list:
    from server.db import ServerDb

    db = ServerDb(url, create=False)
    try:
        with db.read() as conn:
            return conn.execute(sa.select(deliveries).order_by(deliveries.c.created_at)).all()
    finally:
        db.close()


def all_delivered(url: str) -> bool:
    return {r.status for r in delivery_rows(url)} == {"delivered"}


@pytest.fixture
def hooked(storage, monkeypatch):
    """The real server in a thread over ``storage``, with short webhook timeouts and backoff."""
    for name, value in FAST.items():
        monkeypatch.setenv(name, value)
    running = ServerThread(storage.db, rate=0).start()
    yield running
    running.stop()


@pytest.fixture
def receiver():
    made = []

    def make(**options) -> WebhookReceiver:
        r = WebhookReceiver(new_secret(), **options).start()
        made.append(r)
        return r

    yield make
    for r in made:
        r.stop()


# --- signature and body ----------------------------------------------------------------------


def test_a_pushed_receipt_arrives_signed_and_verifies_with_the_readme_recipe(storage, hooked, receiver, tmp_path):
    hook = receiver()
    add_endpoint(tmp_path, storage.url, hook.url, hook.secret, "receipt")
    token = storage.db.add_station("A")
    sent = event(1, "parcel.unexpected", scanned="SF1234567890")
    push(hooked.url, token, [sent])
    assert wait_until(lambda: hook.delivered(), timeout=30)
    got = hook.requests[0]
    assert got.verified and got.id.startswith("dlv_")
    assert got.body["type"] == "receipt"
    assert got.body["data"]["event_id"] == sent["id"] and got.body["data"]["station"] == "A"
    assert got.body["data"]["payload"] == {"scanned": "SF1234567890"}
    assert not verify(new_secret(), {"webhook-id": got.id, "webhook-timestamp": got.timestamp}, b"{}")


def test_each_endpoint_gets_only_its_kinds_and_a_retried_push_queues_nothing_twice(storage, hooked, receiver, tmp_path):
    receipts, inspections = receiver(), receiver()
    add_endpoint(tmp_path, storage.url, receipts.url, receipts.secret, "receipt")
    add_endpoint(tmp_path, storage.url, inspections.url, inspections.secret, "inspection")
    token = storage.db.add_station("A")
    batch = [event(1), event(2, "item.inspected", line_no=1, final="resellable"), event(3, "rmas.imported")]
    push(hooked.url, token, batch)
    push(hooked.url, token, batch)  # the station's retry: duplicates, no new deliveries
    assert wait_until(lambda: receipts.delivered() and inspections.delivered(), timeout=30)
    rows = delivery_rows(storage.url)
    assert sorted(r.event_id for r in rows) == sorted([batch[0]["id"], batch[1]["id"]])
    assert [r.body["data"]["event_id"] for r in receipts.requests] == [batch[0]["id"]]
    assert [r.body["data"]["event"] for r in inspections.requests] == ["item.inspected"]


# --- a receiver that misbehaves ----------------------------------------------------------------


def test_a_500_is_retried_with_the_same_delivery_id_until_it_is_taken(storage, hooked, receiver, tmp_path):
    hook = receiver()
    hook.mode = "500"
    add_endpoint(tmp_path, storage.url, hook.url, hook.secret)
    push(hooked.url, storage.db.add_station("A"), [event(1)])
    assert wait_until(lambda: len(hook.requests) >= 2, timeout=30)
    hook.mode = "ok"
    assert wait_until(lambda: hook.delivered(), timeout=30)
    ids = {r.id for r in hook.requests}
    assert len(ids) == 1 and all(r.verified for r in hook.requests)
    assert wait_until(lambda: all_delivered(storage.url), timeout=30)
    [row] = delivery_rows(storage.url)
    assert row.attempts >= 3 and row.id in ids


def test_a_loop_that_seldom_looks_sends_each_push_at_once_and_each_retry_when_it_is_due(
    storage, receiver, tmp_path, monkeypatch
):
    """Issue 14: an idle loop looks for other processes' work every RMA_WEBHOOK_POLL s only (each look is a
    transaction); a push in this process wakes it, and a failed try is tried again when its delay is over."""
    for name, value in {**FAST, "RMA_WEBHOOK_POLL": "3600"}.items():
        monkeypatch.setenv(name, value)
    hook = receiver()
    add_endpoint(tmp_path, storage.url, hook.url, hook.secret)
    running = ServerThread(storage.db, rate=0).start()
    try:
        token = storage.db.add_station("A")
        for n in range(1, 6):
            push(running.url, token, [event(n)], after_seq=n - 1)
            assert wait_until(lambda n=n: len(hook.delivered()) == n, timeout=30)
        hook.mode = "500"
        push(running.url, token, [event(6)], after_seq=5)
        assert wait_until(lambda: sum(r.answered == "500" for r in hook.requests) >= 2, timeout=30)
        hook.mode = "ok"
        assert wait_until(lambda: len(hook.delivered()) == 6, timeout=30)
    finally:
        running.stop()


def test_the_delivery_loop_is_woken_only_once_the_push_that_queued_deliveries_has_committed(
    storage, receiver, tmp_path
):
    """Woken before the commit, the loop could look, find nothing yet and sleep RMA_WEBHOOK_POLL s (5)."""
    from server.hooks import outbox
    from sync.protocol import PushBatch

    hook = receiver()
    add_endpoint(tmp_path, storage.url, hook.url, hook.secret)
    storage.db.add_station("A")
    at_commit: list[bool] = []

    def committing(_conn) -> None:
        at_commit.append(outbox.wake.is_set())

    sa.event.listen(storage.db.engine, "commit", committing)
    try:
        outbox.wake.clear()
        result = storage.db.push("A", PushBatch.model_validate({"after_seq": 0, "events": [event(1)]}))
    finally:
        sa.event.remove(storage.db.engine, "commit", committing)
    assert result.stored == 1 and len(delivery_rows(storage.url)) == 1
    assert at_commit == [False]  # not woken while the deliveries could not be seen yet
    assert outbox.wake.is_set()  # woken after


def test_a_receiver_that_hangs_times_out_and_is_tried_again(storage, hooked, receiver, tmp_path):
    hook = receiver(hang=30)
    hook.mode = "hang"
    add_endpoint(tmp_path, storage.url, hook.url, hook.secret)
    push(hooked.url, storage.db.add_station("A"), [event(1)])
    assert wait_until(lambda: any(r.attempts >= 1 for r in delivery_rows(storage.url)), timeout=30)
    [row] = delivery_rows(storage.url)
    assert row.status == "pending" and "no answer" in row.last_error
    hook.mode = "ok"
    assert wait_until(lambda: hook.delivered(), timeout=30)
    assert wait_until(lambda: all_delivered(storage.url), timeout=30)


def test_a_receiver_that_goes_away_gets_everything_when_it_comes_back(storage, hooked, receiver, tmp_path):
    hook = receiver()
    add_endpoint(tmp_path, storage.url, hook.url, hook.secret)
    hook.stop()  # the port is closed
    sent = [event(n) for n in range(1, 21)]
    push(hooked.url, storage.db.add_station("A"), sent)
    assert wait_until(lambda: any("cannot reach" in (r.last_error or "") for r in delivery_rows(storage.url)), 30)
    assert not hook.requests
    hook.start()  # back, on the same port
    assert wait_until(lambda: len(hook.delivered()) == len(sent), timeout=60)
    assert {r.body["data"]["event_id"] for r in hook.requests} == {e["id"] for e in sent}
    assert wait_until(lambda: all_delivered(storage.url), timeout=30)


# --- the dead-letter list and replay -----------------------------------------------------------


def test_after_n_tries_a_delivery_is_dead_and_replay_by_cli_sends_it_again(storage, hooked, receiver, tmp_path):
    hook = receiver()
    hook.mode = "500"
    add_endpoint(tmp_path, storage.url, hook.url, hook.secret)
    push(hooked.url, storage.db.add_station("A"), [event(1), event(2)])
    assert wait_until(lambda: {r.status for r in delivery_rows(storage.url)} == {"dead"}, timeout=60)
    rows = delivery_rows(storage.url)
    assert all(r.attempts == int(FAST["RMA_WEBHOOK_TRIES"]) for r in rows)
    code, out, _ = cli("webhooks", "dead", "--db", storage.url)
    assert code == 0 and all(r.id in out for r in rows) and "HTTP 500" in out
    hook.mode = "ok"
    code, out, _ = cli("webhooks", "replay", rows[0].id, "--db", storage.url)
    assert code == 0 and out.startswith("1 delivery")
    assert wait_until(lambda: hook.delivered() == {rows[0].id}, timeout=30)
    code, out, _ = cli("webhooks", "replay", "--all-dead", "--db", storage.url)
    assert code == 0 and out.startswith("1 delivery")
    assert wait_until(lambda: hook.delivered() == {r.id for r in rows}, timeout=30)
    code, out, _ = cli("webhooks", "dead", "--db", storage.url)
    assert out.strip() == "no dead deliveries"


def test_webhook_commands_refuse_bad_input_with_one_line(sqlite_storage, tmp_path):
    url = sqlite_storage.url
    good, weak = tmp_path / "good", tmp_path / "weak"
    good.write_text(new_secret())
    weak.write_text("whsec_" + base64.b64encode(b"short").decode())
    cases = [
        (["add", "ftp://erp/hook", "--events", "receipt", "--secret-file", str(good)], "not an http"),
        (["add", "http://erp/hook", "--events", "refund", "--secret-file", str(good)], "'refund' is not an event kind"),
        (["add", "http://erp/hook", "--events", "receipt", "--secret-file", str(weak)], "at least 16"),
        (["add", "http://erp/hook", "--events", "receipt", "--secret-file", str(tmp_path / "none")], "cannot read"),
        (["remove", "42"], "no webhook endpoint 42"),
        (["replay", "dlv_nope"], "no delivery dlv_nope"),
        (["replay"], "delivery ids or --all-dead"),
    ]
    for args, said in cases:
        code, out, err = cli("webhooks", *args, "--db", url)
        assert code == 1 and said in err and err.count("\n") == 1, (args, out, err)


def test_a_removed_endpoint_gets_nothing_more(storage, hooked, receiver, tmp_path):
    hook = receiver()
    said = add_endpoint(tmp_path, storage.url, hook.url, hook.secret)
    endpoint_id = said.split(":")[0].split()[-1]
    code, out, _ = cli("webhooks", "list", "--db", storage.url)
    assert code == 0 and hook.url in out
    code, out, _ = cli("webhooks", "remove", endpoint_id, "--db", storage.url)
    assert code == 0
    push(hooked.url, storage.db.add_station("A"), [event(1)])
    assert delivery_rows(storage.url) == []
    code, out, _ = cli("webhooks", "list", "--db", storage.url)
    assert hook.url not in out


# --- the server killed mid-delivery; several workers ---------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def served_storage(request, tmp_path):
    pg = request.getfixturevalue("postgres") if request.param == "postgresql" else None
    s = ServerStorage(request.param, tmp_path, pg)
    s.db.close()  # the server process owns it
    yield s


def test_a_server_killed_mid_delivery_loses_no_delivery(served_storage, receiver, tmp_path):
    storage = served_storage
    hook = receiver(delay=0.02)  # slow enough that the kill lands mid-delivery
    add_endpoint(tmp_path, storage.url, hook.url, hook.secret)
    code, token, err = cli("add-station", "A", "--db", storage.url)
    assert code == 0, err
    env = {**ENV, **FAST, "RMA_WEBHOOK_LEASE": "3"}
    with open(tmp_path / "server.log", "wb") as log:
        first = HookedServer(storage.url, log, env).wait_ready()
        sent = [event(n) for n in range(1, 301)]
        push(first.url, token.strip(), sent)
        assert wait_until(lambda: len(hook.delivered()) >= 20, timeout=60)
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(10)
        before = len(hook.delivered())
        assert before < len(sent), "every delivery went before the kill; nothing was tested"
        second = HookedServer(storage.url, log, env).wait_ready()
        try:
            assert wait_until(lambda: len(hook.delivered()) == len(sent), timeout=120)
            assert wait_until(lambda: all_delivered(storage.url), timeout=30)
        finally:
            second.stop()
    rows = delivery_rows(storage.url)
    assert {r.id for r in rows} == hook.delivered()  # every delivery id arrived: 0 lost
    assert all(r.verified for r in hook.requests)
    # at least once: a receiver dedupes on webhook-id, so one event is one delivery id
    by_id = {}
    for r in hook.requests:
        by_id.setdefault(r.id, set()).add(r.body["data"]["event_id"])
    assert all(len(events) == 1 for events in by_id.values())
    assert {next(iter(v)) for v in by_id.values()} == {e["id"] for e in sent}


class HookedServer(ServerProcess):
    """`rma server` as its own process, with the webhook settings in its environment."""

    def __init__(self, url: str, log, env: dict, workers: int = 1):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [*RMA_CLI, "server", "--db", url, "--port", str(self.port), "--rate", "0", "--workers", str(workers)]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, env=env)


def test_several_postgresql_workers_send_each_delivery_once(pg_storage, receiver, tmp_path):
    storage = pg_storage
    storage.db.close()
    hook = receiver(delay=0.002)
    add_endpoint(tmp_path, storage.url, hook.url, hook.secret)
    code, token, err = cli("add-station", "A", "--db", storage.url)
    assert code == 0, err
    with open(tmp_path / "server.log", "wb") as log:
        proc = HookedServer(storage.url, log, {**ENV, **FAST, "RMA_WEBHOOK_TIMEOUT": "10"}, workers=3)
        proc.wait_ready()
        try:
            sent = [event(n) for n in range(1, 601)]
            for start in range(0, len(sent), 100):
                push(proc.url, token.strip(), sent[start : start + 100], after_seq=start)
            assert wait_until(lambda: len(hook.delivered()) == len(sent), timeout=120)
        finally:
            proc.stop()
    assert max(hook.ids.values()) == 1, [i for i, n in hook.ids.items() if n > 1][:5]
    assert len(hook.requests) == len(sent)


# --- the README's receiver -------------------------------------------------------------------------


def test_the_readme_example_receiver_verifies_refuses_and_dedupes(sqlite_storage, monkeypatch, receiver, tmp_path):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    code_block = readme.split("**Verifying**", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    port = free_port()
    secret = new_secret()
    (tmp_path / "erp.secret").write_text(secret)
    (tmp_path / "hook.py").write_text(code_block.replace("9000", str(port)))
    proc = subprocess.Popen([sys.executable, "hook.py"], cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    for name, value in FAST.items():
        monkeypatch.setenv(name, value)
    running = ServerThread(sqlite_storage.db, rate=0).start()
    try:
        assert wait_until(lambda: _listening(port), timeout=30)
        hook_url = f"http://127.0.0.1:{port}/hooks"
        forged = requests.post(
            hook_url,
            data=b"{}",
            headers={"webhook-id": "dlv_x", "webhook-timestamp": str(int(time.time())), "webhook-signature": "v1,AAAA"},
            timeout=10,
        )
        assert forged.status_code == 401
        add_endpoint(tmp_path, sqlite_storage.url, hook_url, secret)
        token = sqlite_storage.db.add_station("A")
        sent = [event(1), event(2)]
        push(running.url, token, sent)
        assert proc.stdout is not None
        assert {proc.stdout.readline().split()[1] for _ in sent} == {e["id"] for e in sent}
        assert wait_until(lambda: all_delivered(sqlite_storage.url), timeout=30)
        again = delivery_rows(sqlite_storage.url)[0]
        code, _, err = cli("webhooks", "replay", again.id, "--db", sqlite_storage.url)
        assert code == 0, err

        def sent_again() -> bool:
            row = next(r for r in delivery_rows(sqlite_storage.url) if r.id == again.id)
            return row.status == "delivered" and row.delivered_at not in (None, again.delivered_at)

        assert wait_until(sent_again, timeout=30)
        later = event(3)
        push(running.url, token, [later], after_seq=2)
        assert proc.stdout.readline().split() == ["receipt", later["id"]]  # the replayed one was a duplicate
    finally:
        running.stop()
        proc.kill()
        proc.wait()


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_retry_delays_are_full_jitter_under_a_doubling_cap():
    from server.hooks.delivery import HookSettings

    settings = HookSettings(backoff=1.0, backoff_cap=30.0)
    for attempts, bound in ((1, 1.0), (2, 2.0), (3, 4.0), (5, 16.0), (6, 30.0), (20, 30.0)):
        drawn = [settings.retry_delay(attempts) for _ in range(2000)]
        assert all(0.0 <= d <= bound for d in drawn)
        assert min(drawn) < bound * 0.05 and max(drawn) > bound * 0.95  # the whole range, not a fixed delay
