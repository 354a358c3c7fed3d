"""Issue 9, the server's side: a bad wire never gives a 500, nothing is acknowledged past a gap,
a changed re-send or a foreign correction is reported, times are times.  SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
import requests

from sync.client import SyncClient
from sync.protocol import MAX_SEQ
from tests.helpers.server_queries import inspected_item, refused_events
from tests.sync.test_server_api import auth, event, post_rmas, push, rma


def stamp(delta: timedelta = timedelta(0)) -> str:
    return (datetime.now(UTC) + delta).isoformat(timespec="milliseconds")


# --- case 4: consecutive after after_seq, or refused -----------------------------------


def test_a_batch_with_a_gap_is_refused_and_nothing_is_acknowledged_past_it(storage, server, tokens):
    answer = push(server.url, tokens["A"], [event(1), event(3)])
    assert answer.status_code == 422 and "consecutive" in answer.json()["detail"]
    answer = push(server.url, tokens["A"], [event(2)], after_seq=0)  # does not start at after_seq + 1
    assert answer.status_code == 422 and "consecutive" in answer.json()["detail"]
    assert storage.db.station_events("A") == []
    assert push(server.url, tokens["A"], [event(1)]).json()["acked_seq"] == 1
    answer = push(server.url, tokens["A"], [event(MAX_SEQ)], after_seq=1)
    assert answer.status_code == 422 and "consecutive" in answer.json()["detail"]
    assert storage.db.station_status("A").acked_seq == 1
    assert [s for s, _ in storage.db.station_events("A")] == [1]


def test_the_real_client_sends_consecutive_runs(storage, server, tokens, make_station):
    a = make_station("A", events=23)
    client = SyncClient(server.url, tokens["A"], batch=5)
    assert client.sync(a).waiting == 0
    assert [s for s, _ in storage.db.station_events("A")] == list(range(1, 24))


# --- case 5: every number bounded, duplicate ids refused, never a 500 ---------------------


@pytest.mark.parametrize(
    "body",
    [
        {"after_seq": 0, "events": [{"seq": 10**20}]},
        {"after_seq": 10**20, "events": []},
        {"after_seq": -1, "events": []},
        {"after_seq": MAX_SEQ + 1, "events": []},
        {"after_seq": 0, "events": [{"seq": MAX_SEQ + 1}]},
    ],
)
def test_numbers_out_of_bounds_get_422_not_500(storage, server, tokens, body):
    answer = requests.post(f"{server.url}/api/v1/events", json=body, headers=auth(tokens["A"]), timeout=10)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] and "\n" not in answer.json()["detail"]


def test_a_cursor_out_of_bounds_gets_422_not_500(storage, server, tokens):
    answer = requests.get(
        f"{server.url}/api/v1/changes", params={"after": 10**20}, headers=auth(tokens["A"]), timeout=10
    )
    assert answer.status_code == 422, answer.text


def test_two_events_with_one_id_in_a_batch_get_422_and_nothing_is_stored(storage, server, tokens):
    first = event(1)
    answer = push(server.url, tokens["A"], [first, event(2, id=first["id"])])
    assert answer.status_code == 422, answer.text
    assert first["id"] in answer.json()["detail"] and "twice" in answer.json()["detail"]
    assert storage.db.station_events("A") == []


def test_an_id_stored_under_another_station_is_a_rejection_and_the_rest_of_the_batch_is_stored(storage, server, tokens):
    taken = event(1)
    assert push(server.url, tokens["A"], [taken]).json()["stored"] == 1
    batch = [event(1), event(2, id=taken["id"]), event(3), event(4)]  # B's seq 2 carries A's event id
    answer = push(server.url, tokens["B"], batch)
    assert answer.status_code == 200
    body = answer.json()
    assert body["acked_seq"] == 4 and body["stored"] == 3 and body["duplicates"] == 0
    assert [(r["seq"], r["id"]) for r in body["rejected"]] == [(2, taken["id"])]
    assert "already stored under another station or seq" in body["rejected"][0]["reason"]
    assert [s for s, _ in storage.db.station_events("B")] == [1, 3, 4]
    assert [(s, i) for s, i, _ in refused_events(storage.db, "B")] == [(2, taken["id"])]
    assert storage.db.station_events("A") == [(1, taken["id"])]
    # the same batch again: every event is held (stored or refused), nothing changes
    again = push(server.url, tokens["B"], batch).json()
    assert again["acked_seq"] == 4 and again["stored"] == 0 and again["duplicates"] == 4 and again["rejected"] == []
    assert [s for s, _ in storage.db.station_events("B")] == [1, 3, 4]


def test_a_payload_number_that_is_not_finite_is_a_rejection_not_a_500(storage, server, tokens):
    event = (
        f'{{"seq": 1, "id": "{uuid.uuid4()}", "type": "note.added", "operator": "op", "at": "{stamp()}", '
        '"payload": {"x": NaN}}'
    )
    body = f'{{"after_seq": 0, "events": [{event}]}}'
    answer = requests.post(
        f"{server.url}/api/v1/events",
        data=body,
        timeout=10,
        headers=auth(tokens["A"]) | {"Content-Type": "application/json"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["acked_seq"] == 1 and "finite" in answer.json()["rejected"][0]["reason"]


# --- case 6: a changed re-send of an acknowledged seq is a rejection ----------------------


@pytest.mark.parametrize("change", ["id", "type", "payload", "rma_code"])
def test_a_changed_resend_is_rejected_with_its_reason_and_kept_on_the_server(storage, server, tokens, change):
    original = event(1, rma_code="RMA-1")
    assert push(server.url, tokens["A"], [original]).json()["stored"] == 1
    changed = dict(original)
    changed[change] = {
        "id": str(uuid.uuid4()),
        "type": "note.added",
        "payload": {"scanned": "OTHER"},
        "rma_code": "RMA-2",
    }[change]
    answer = push(server.url, tokens["A"], [changed]).json()
    assert answer["duplicates"] == 0 and answer["acked_seq"] == 1
    [refused] = answer["rejected"]
    assert refused["seq"] == 1 and change.split("_")[0] in refused["reason"] and "kept" in refused["reason"]
    assert storage.db.station_events("A") == [(1, original["id"])]  # the first stays
    assert refused_events(storage.db, "A") == [(1, changed["id"], refused["reason"])]
    # the same changed re-send again: listed again, stored once, never a 500
    again = push(server.url, tokens["A"], [changed])
    assert again.status_code == 200 and again.json()["rejected"][0]["reason"] == refused["reason"]
    assert len(refused_events(storage.db, "A")) == 1
    # the unchanged re-send is still a plain duplicate
    assert push(server.url, tokens["A"], [original]).json()["duplicates"] == 1


def test_a_station_records_a_changed_resend_and_rma_conflicts_shows_it(storage, server, tokens, make_station):
    first = make_station("A", events=3)
    SyncClient(server.url, tokens["A"]).sync(first)
    other = make_station("A2", events=3)  # another database speaking with A's token, seq 1-3 its own
    with other.write() as conn:
        other.set_state(conn, "acked_seq", "0")
    client = SyncClient(server.url, tokens["A"])
    client.epoch = storage.db.epoch()
    report = client.push(other)
    assert len(report.rejected) == 3
    done = subprocess.run(
        [sys.executable, "-m", "terminal", "conflicts", "--db", str(other.path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3 and all(line.startswith("REFUSED event") and "already holds" in line for line in lines)
    assert [r["seq"] for r in other.sync_rejections()] == [1, 2, 3]
    assert [s for s, _ in storage.db.station_events("A")] == [1, 2, 3]
    assert [e for _, e in storage.db.station_events("A")] == [e.id for e in first.events(0, 10)]


# --- case 7: `at` is an RFC 3339 time near the server's clock ------------------------------


@pytest.mark.parametrize(
    "at",
    [
        "not a date at all",
        "0001-01-01T00:00:00+00:00",
        "9999-12-31T23:59:59+00:00",
        "2026-11-21T10:00:00",
        "2026-11-21",
        "2026-13-40T10:00:00Z",
        "far-future",
        "ancient",
    ],
)
def test_a_time_that_is_not_a_sane_time_is_a_rejection(storage, server, tokens, at):
    at = {"far-future": stamp(timedelta(days=2)), "ancient": stamp(timedelta(days=-11 * 366))}.get(at, at)
    answer = push(server.url, tokens["A"], [event(1, at=at), event(2, at=stamp())])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["acked_seq"] == 2 and body["stored"] == 1
    [refused] = body["rejected"]
    assert refused["seq"] == 1 and "at" in refused["reason"]


def test_times_in_other_offsets_and_with_z_are_accepted(storage, server, tokens):
    now = datetime.now(UTC)
    shanghai = (now - timedelta(minutes=5)).astimezone(timezone(timedelta(hours=8))).isoformat()
    zulu = (now - timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    answer = push(server.url, tokens["A"], [event(1, at=shanghai), event(2, at=zulu)]).json()
    assert answer["stored"] == 2 and answer["rejected"] == []


def test_the_timeline_sorts_by_time_not_by_text(storage, server, tokens):
    assert post_rmas(server.url, tokens["erp"], [rma("RMA-T")]).status_code == 200
    # 23:30 in Shanghai (15:30 UTC) is earlier than 12:00 in New York (17:00 UTC); as text it sorts after it
    early, late = "2026-11-30T23:30:00.000+08:00", "2026-11-30T12:00:00.000-05:00"
    events = [
        event(1, type="item.inspected", rma_code="RMA-T", at=late, payload={"line_no": 1}),
        event(2, type="rma.received", rma_code="RMA-T", at=early, payload={}),
    ]
    assert push(server.url, tokens["A"], events).json()["stored"] == 2
    timeline = requests.get(f"{server.url}/api/v1/rmas/RMA-T", headers=auth(tokens["A"]), timeout=5).json()
    assert [t["what"] for t in timeline["timeline"] if t["event_id"]] == ["rma.received", "item.inspected"]


# --- case 8: a correction only of the same station's events ------------------------------


def test_station_a_cannot_undo_station_bs_receipt(storage, server, tokens):
    assert post_rmas(server.url, tokens["erp"], [rma("RMA-U")]).status_code == 200
    receipt = event(1, type="rma.received", rma_code="RMA-U", at=stamp(), payload={})
    assert push(server.url, tokens["B"], [receipt]).json()["stored"] == 1
    undo = event(1, type="rma.receive_undone", rma_code="RMA-U", at=stamp(), refers_to=receipt["id"], payload={})
    answer = push(server.url, tokens["A"], [undo]).json()
    assert answer["stored"] == 1 and answer["conflicts"] == 1
    timeline = requests.get(f"{server.url}/api/v1/rmas/RMA-U", headers=auth(tokens["A"]), timeout=5).json()
    assert timeline["stage"] == "received"
    [conflict] = timeline["conflicts"]
    assert conflict["kind"] == "foreign_correction" and conflict["stations"] == ["B", "A"]
    assert conflict["event_ids"] == [receipt["id"], undo["id"]]
    # B's own undo still works
    own = event(2, type="rma.receive_undone", rma_code="RMA-U", at=stamp(), refers_to=receipt["id"], payload={})
    assert push(server.url, tokens["B"], [own], after_seq=1).json()["conflicts"] == 0
    timeline = requests.get(f"{server.url}/api/v1/rmas/RMA-U", headers=auth(tokens["A"]), timeout=5).json()
    assert timeline["stage"] == "expected"


def test_station_a_cannot_replace_station_bs_inspection(storage, server, tokens, make_station):
    assert post_rmas(server.url, tokens["erp"], [rma("RMA-V")]).status_code == 200
    theirs = event(1, type="item.inspected", rma_code="RMA-V", at=stamp(), payload={"line_no": 1, "result": "fail"})
    assert push(server.url, tokens["B"], [theirs]).json()["stored"] == 1
    ours = event(
        1,
        type="item.inspected",
        rma_code="RMA-V",
        at=stamp(),
        refers_to=theirs["id"],
        payload={"line_no": 1, "result": "pass"},
    )
    answer = push(server.url, tokens["A"], [ours]).json()
    assert answer["conflicts"] == 1
    assert inspected_item(storage.db, "RMA-V", "line 1 unit 1") == (theirs["id"], "B")
    a = make_station("A")
    SyncClient(server.url, tokens["A"]).sync(a)
    assert [c["kind"] for c in a.sync_conflicts("RMA-V")] == ["foreign_correction"]
    # B correcting its own inspection replaces it, without a conflict
    fixed = event(
        2,
        type="item.inspected",
        rma_code="RMA-V",
        at=stamp(),
        refers_to=theirs["id"],
        payload={"line_no": 1, "result": "pass"},
    )
    assert push(server.url, tokens["B"], [fixed], after_seq=1).json()["conflicts"] == 0
    assert inspected_item(storage.db, "RMA-V", "line 1 unit 1") == (fixed["id"], "B")


def test_a_retry_of_an_event_stored_before_times_were_checked_is_still_a_duplicate(storage, server, tokens):
    import sqlalchemy as sa

    from server.db import events as server_events

    old = event(1, at="2026-11-21 10:00")  # no offset: stored by a server from before the check
    with storage.db.write() as conn:
        conn.execute(
            server_events.insert().values(
                station="A",
                seq=1,
                event_id=old["id"],
                type=old["type"],
                operator="op1",
                at=old["at"],
                server_at="2026-11-21T10:00:01.000+00:00",
                payload='{"scanned": "P1"}',
            )
        )
        conn.execute(sa.text("UPDATE stations SET acked_seq = 1 WHERE name = 'A'"))
    answer = push(server.url, tokens["A"], [old]).json()
    assert answer["duplicates"] == 1 and answer["rejected"] == []
