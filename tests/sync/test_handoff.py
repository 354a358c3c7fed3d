"""The handoff (issue 11 part 6, server side): the integration feed by cursor, the server's view of bins and
containers, refund decisions under each RMA's refund policy, and their webhooks (refund.decided, stock.moved),
through the real server on loopback over SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import uuid

import pytest
import requests
import sqlalchemy as sa
from click.testing import CliRunner

from server.cli import server as server_cli
from server.db import rmas
from sync.imports import read_rma_file
from tests.helpers.webhook_receiver import WebhookReceiver
from tests.sync.conftest import wait_until
from tests.sync.test_webhooks import FAST, add_endpoint, new_secret

AT = "2026-11-21T10:00:00.000+08:00"


class Station:
    """A station that pushes hand-made events through the real API, seq after seq."""

    def __init__(self, url: str, token: str):
        self.url, self.token, self.seq = url, token, 0

    def event(self, event_type: str, rma_code: str | None = None, **payload) -> dict:
        self.seq += 1
        return {
            "seq": self.seq,
            "id": str(uuid.uuid4()),
            "type": event_type,
            "operator": "op1",
            "at": AT,
            "rma_code": rma_code,
            "payload": payload,
        }

    def push(self, *events: dict, after: int | None = None) -> dict:
        first = events[0]["seq"] - 1 if after is None else after
        answer = requests.post(
            f"{self.url}/api/v1/events",
            json={"after_seq": first, "events": list(events)},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def send(self, event_type: str, rma_code: str | None = None, **payload) -> dict:
        """One event, pushed at once; the event."""
        ev = self.event(event_type, rma_code, **payload)
        result = self.push(ev)
        assert result["stored"] == 1 and not result["rejected"], result
        return ev


def get(url: str, token: str, path: str, **params):
    return requests.get(f"{url}/api/v1{path}", params=params, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def import_rma(url: str, erp: str, code: str, lines: list[tuple[str, int, float | None]], **extra) -> None:
    rma = {
        "rma_code": code,
        "order_ref": f"SO-{code}",
        "status": "authorized",
        "lines": [
            {"sku": sku, "qty": qty, **({"value": value} if value is not None else {})} for sku, qty, value in lines
        ],
        **extra,
    }
    answer = requests.post(
        f"{url}/api/v1/rmas", json={"rmas": [rma]}, headers={"Authorization": f"Bearer {erp}"}, timeout=30
    )
    assert answer.status_code == 200, answer.text


def inspected(station: Station, code: str, line: int, unit: int, grade: str, channel: str, lpn: str, **more) -> dict:
    return station.event(
        "item.inspected",
        code,
        line_no=line,
        unit_no=unit,
        sku=f"SKU-{line}",
        final=grade,
        channel=channel,
        lpn=lpn,
        bin=channel.upper(),
        **more,
    )


def whole_feed(url: str, token: str, limit: int) -> list[dict]:
    items, cursor = [], 0
    while True:
        page = get(url, token, "/feed", cursor=cursor, limit=limit)
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        if not body["has_more"]:
            assert body["cursor"] == (items[-1]["cursor"] if items else cursor)
            return items
        cursor = body["cursor"]


# --- the feed and the bins ------------------------------------------------------------------------


def test_the_feed_gives_each_unit_and_container_step_once_by_cursor_and_the_bins_say_where_units_are(
    storage, server, tokens
):
    import_rma(server.url, tokens["erp"], "RMA-F1", [("SKU-1", 2, None)])
    a, b = Station(server.url, tokens["A"]), Station(server.url, tokens["B"])
    batch = [
        a.event("rma.received", "RMA-F1", scanned="RMA-F1"),  # a receipt: not a unit step, not in the feed
        inspected(a, "RMA-F1", 1, 1, "resellable", "restock", "LP1AAAA"),
        inspected(a, "RMA-F1", 1, 2, "discounted", "b_stock", "lp1bbbb"),  # plates compared in capitals
        a.event(
            "unit.put_away", "RMA-F1", lpn="LP1AAAA", bin="tote-7", channel="restock", rma="RMA-F1", line=1, unit=1
        ),
        a.event("unit.put_away", "RMA-F1", lpn="LP1BBBB", bin="B-GRADE", channel="b_stock", line=1, unit=2),
        a.event("container.closed", container="TOTE-7", kind="tote", units=["LP1AAAA"], counts={"restock": 1}),
    ]
    assert a.push(*batch)["stored"] == len(batch)
    assert a.push(*batch)["duplicates"] == len(batch)  # a retry adds nothing to the feed
    b.send("container.moved", container="TOTE-7", to="DOCK-2")
    b.send("container.shipped", container="TOTE-7", to="WMS-DC1", units=["LP1AAAA"])
    b.send("bin.counted", bin="B-GRADE", expected=["LP1BBBB", "LP1CCCC"], found=["LP1BBBB", "LP9XXXX"],
           missing=["LP1CCCC"], extra=["LP9XXXX"])  # fmt: skip
    b.send("item.undeclared", "RMA-F1", barcode="6901234567892", lpn="LP1DDDD")

    items = whole_feed(server.url, tokens["erp"], limit=3)
    assert [i["kind"] for i in items] == [
        "item.inspected",
        "item.inspected",
        "unit.put_away",
        "unit.put_away",
        "container.closed",
        "container.moved",
        "container.shipped",
        "bin.counted",
        "item.undeclared",
    ]
    assert [i["cursor"] for i in items] == sorted({i["cursor"] for i in items})
    assert [i["event_id"] for i in items[:5]] == [e["id"] for e in batch[1:]]
    first = items[0]
    assert (first["lpn"], first["grade"], first["channel"], first["rma_code"], first["station"]) == (
        "LP1AAAA",
        "resellable",
        "restock",
        "RMA-F1",
        "A",
    )
    assert items[1]["lpn"] == "LP1BBBB"
    assert (items[2]["bin"], items[2]["channel"], items[2]["detail"]["from"]) == ("TOTE-7", "restock", None)
    assert items[4]["detail"] == {"container_kind": "tote", "units": ["LP1AAAA"], "counts": {"restock": 1}}
    assert (items[5]["bin"], items[5]["detail"]["to"], items[5]["station"]) == ("TOTE-7", "DOCK-2", "B")
    assert items[6]["detail"] == {"to": "WMS-DC1", "units": ["LP1AAAA"]}
    assert items[7]["detail"]["missing"] == ["LP1CCCC"] and items[7]["detail"]["extra"] == ["LP9XXXX"]
    assert items[8]["detail"] == {"barcode": "6901234567892"} and items[8]["lpn"] == "LP1DDDD"
    after = get(server.url, tokens["A"], "/feed", cursor=items[-1]["cursor"]).json()  # a station token reads it too
    assert after["items"] == [] and after["cursor"] == items[-1]["cursor"] and not after["has_more"]

    views = {v["name"]: v for v in get(server.url, tokens["erp"], "/bins").json()["bins"]}
    assert set(views) == {"TOTE-7", "B-GRADE"}
    tote, grade_b = views["TOTE-7"], views["B-GRADE"]
    assert (tote["kind"], tote["state"], tote["moved_to"], tote["counts"]) == (
        "tote",
        "shipped",
        "WMS-DC1",
        {"restock": 1},
    )
    assert [(u["lpn"], u["state"], u["grade"], u["rma_code"]) for u in tote["units"]] == [
        ("LP1AAAA", "shipped", "resellable", "RMA-F1")
    ]
    assert (grade_b["kind"], grade_b["state"]) == ("bin", "open")
    assert [(u["lpn"], u["channel"], u["line_no"], u["unit_no"]) for u in grade_b["units"]] == [
        ("LP1BBBB", "b_stock", 1, 2)
    ]
    count = grade_b["last_count"]
    assert (count["missing"], count["extra"], count["station"], count["operator"]) == (
        ["LP1CCCC"],
        ["LP9XXXX"],
        "B",
        "op1",
    )
    one = get(server.url, tokens["erp"], "/bins", bin="b-grade").json()["bins"]
    assert [v["name"] for v in one] == ["B-GRADE"]

    done = CliRunner().invoke(server_cli, ["bins", "--db", storage.url])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert any(ln.startswith("B-GRADE") and "open" in ln and "1 unit" in ln for ln in lines)
    assert any("1 missing" in ln and "LP1CCCC" in ln and "1 extra" in ln and "LP9XXXX" in ln for ln in lines)
    assert any(ln.startswith("TOTE-7") and "shipped to WMS-DC1" in ln for ln in lines)
    assert any("LP1AAAA" in ln and "RMA-F1" in ln for ln in lines)
    done = CliRunner().invoke(server_cli, ["bins", "NOPE", "--db", storage.url])
    assert done.exit_code == 1 and "no bin or container NOPE" in done.stderr


def test_a_payload_of_the_wrong_shape_is_stored_and_fails_nothing(sqlite_storage, sqlite_server, sqlite_tokens):
    a = Station(sqlite_server.url, sqlite_tokens["A"])
    odd = [
        a.event("unit.put_away", lpn=5, bin=["B"], channel={"x": 1}),
        a.event("container.closed", container="C-1", units="LP1", counts=[1, 2], kind=None),
        a.event("container.shipped", container=None, units=[None, 3, "lp2"]),
        a.event("bin.counted", bin="B-9", expected="many", missing={"a": 1}),
        a.event("item.inspected", "RMA-NONE", line_no="x", final=7, lpn=True),
        a.event("line.not_received", "RMA-NONE", line_no=-1, quantity="all"),
    ]
    result = a.push(*odd)
    assert result["stored"] == len(odd) and not result["rejected"]
    items = whole_feed(sqlite_server.url, sqlite_tokens["erp"], limit=100)
    assert len(items) == 5 and items[0]["lpn"] == "5" and items[0]["bin"] is None
    views = {v["name"]: v for v in get(sqlite_server.url, sqlite_tokens["erp"], "/bins").json()["bins"]}
    assert views["C-1"]["state"] == "closed" and views["C-1"]["units"] == []
    assert views["B-9"]["last_count"]["expected"] is None


# --- refund decisions -----------------------------------------------------------------------------


def test_after_inspection_the_refund_is_decided_once_every_unit_is_inspected(storage, server, tokens):
    import_rma(server.url, tokens["erp"], "RMA-R1", [("SKU-1", 1, 100.0), ("SKU-2", 2, 20.0)])
    a = Station(server.url, tokens["A"])
    a.send("rma.received", "RMA-R1")
    pending = get(server.url, tokens["erp"], "/rmas/rma-r1/refund").json()
    assert (pending["state"], pending["policy"], pending["decision"]) == ("pending", "after_inspection", None)
    a.push(
        inspected(a, "RMA-R1", 1, 1, "resellable", "restock", "LP2A"),
        inspected(a, "RMA-R1", 2, 1, "discounted", "b_stock", "LP2B"),
    )
    assert get(server.url, tokens["erp"], "/rmas/RMA-R1/refund").json()["state"] == "pending"
    last = a.push(inspected(a, "RMA-R1", 2, 2, "scrapped", "return_to_vendor", "LP2C"))  # the supplier's fault
    assert last["stored"] == 1
    refund = get(server.url, tokens["erp"], "/rmas/RMA-R1/refund").json()
    assert (refund["state"], refund["decision"], refund["amount"]) == ("decided", "full", 140.0)
    assert refund["reason"] == "all 3 unit(s) received and inspected, none scrapped for customer damage"
    assert [(ln["line_no"], ln["refunded"], ln["customer_damage"]) for ln in refund["lines"]] == [(1, 1, 0), (2, 2, 0)]
    assert refund["id"].startswith("rfd_") and refund["station"] == "A"
    # decided once: a re-inspection afterwards changes nothing
    a.send("item.inspected", "RMA-R1", line_no=1, unit_no=1, final="scrapped", channel="recycle", lpn="LP2A")
    assert get(server.url, tokens["erp"], "/rmas/RMA-R1/refund").json() == refund
    timeline = get(server.url, tokens["erp"], "/rmas/RMA-R1").json()["timeline"]
    steps = [s for s in timeline if s["what"] == "refund.decided"]
    assert len(steps) == 1 and steps[0]["detail"]["decision"] == "full" and steps[0]["event_id"] == refund["id"]
    whats = [s["what"] for s in timeline]
    assert whats.index("refund.decided") > whats.index("rma.received")


def test_lines_not_received_and_customer_damage_make_a_partial_refund_and_nothing_left_none(storage, server, tokens):
    import_rma(server.url, tokens["erp"], "RMA-P1", [("SKU-1", 2, 10.0), ("SKU-2", 1, 5.0)])
    import_rma(server.url, tokens["erp"], "RMA-N1", [("SKU-9", 1, None)])
    a = Station(server.url, tokens["A"])
    a.push(
        a.event("rma.received", "RMA-P1"),
        a.event("line.not_received", "RMA-P1", line_no=2, quantity=1),
        inspected(a, "RMA-P1", 1, 1, "resellable", "restock", "LP3A"),
        inspected(a, "RMA-P1", 1, 2, "scrapped", "recycle", "LP3B"),  # scrapped, not the supplier's: customer damage
        a.event("rma.received", "RMA-N1"),
        a.event("line.not_received", "RMA-N1", line_no=1, quantity=1),
        a.event("rma.inspected", "RMA-N1"),
    )
    partial = get(server.url, tokens["erp"], "/rmas/RMA-P1/refund").json()
    assert (partial["decision"], partial["amount"]) == ("partial", 10.0)
    assert partial["reason"] == "line 1 (SKU-1): 1 scrapped for customer damage; line 2 (SKU-2): 1 of 1 not received"
    assert [(ln["refunded"], ln["not_received"], ln["customer_damage"]) for ln in partial["lines"]] == [
        (1, 0, 1),
        (0, 1, 0),
    ]
    none = get(server.url, tokens["erp"], "/rmas/RMA-N1/refund").json()
    assert (none["decision"], none["amount"], none["reason"]) == ("none", None, "line 1 (SKU-9): 1 of 1 not received")
    assert get(server.url, tokens["erp"], "/rmas/RMA-NOPE/refund").status_code == 404


def test_on_receipt_the_refund_is_decided_at_the_receipt_scan_and_a_cancelled_rma_gets_none(storage, server, tokens):
    import_rma(server.url, tokens["erp"], "RMA-Q1", [("SKU-1", 3, 9.5)], refund_policy="on_receipt")
    import_rma(server.url, tokens["erp"], "RMA-C1", [("SKU-1", 1, None)], refund_policy="on_receipt")
    import_rma(
        server.url, tokens["erp"], "RMA-C1", [("SKU-1", 1, None)], refund_policy="on_receipt", status="cancelled"
    )
    b = Station(server.url, tokens["B"])
    b.send("item.inspected", "RMA-Q1", line_no=1, unit_no=1, final="scrapped", channel="destroy")  # not the trigger
    assert get(server.url, tokens["erp"], "/rmas/RMA-Q1/refund").json()["state"] == "pending"
    receipt = b.send("rma.received", "RMA-Q1")
    refund = get(server.url, tokens["erp"], "/rmas/RMA-Q1/refund").json()
    assert (refund["state"], refund["policy"], refund["decision"], refund["amount"]) == (
        "decided",
        "on_receipt",
        "full",
        28.5,
    )
    assert (
        refund["event_id"] == receipt["id"]
        and refund["reason"] == "refund on receipt: received at B; all 3 unit(s) refunded"
    )
    b.send("rma.received", "RMA-C1")
    assert get(server.url, tokens["erp"], "/rmas/RMA-C1/refund").json()["state"] == "pending"


def test_two_stations_closing_the_last_lines_at_once_decide_exactly_once(storage, server, tokens):
    # A closes line 1 as not received while B inspects line 2, of the same 100 RMAs, in one push each at the
    # same instant: without the RMA rows locked, each transaction misses the other's line and none decides
    codes = [f"RMA-T{n:03d}" for n in range(100)]
    lines = [{"sku": "S1", "qty": 1}, {"sku": "S2", "qty": 1}]
    answer = requests.post(
        f"{server.url}/api/v1/rmas",
        json={"rmas": [{"rma_code": c, "status": "authorized", "lines": lines} for c in codes]},
        headers={"Authorization": f"Bearer {tokens['erp']}"},
        timeout=30,
    )
    assert answer.status_code == 200
    a, b = Station(server.url, tokens["A"]), Station(server.url, tokens["B"])
    batches = {
        a: [a.event("line.not_received", code, line_no=1, quantity=1) for code in codes],
        b: [inspected(b, code, 2, 1, "resellable", "restock", f"LP{code}B") for code in codes],
    }
    go = threading.Barrier(2)

    def run(station: Station) -> None:  # each station's inspections in one push: the two transactions overlap
        go.wait()
        station.push(*batches[station])

    threads = [threading.Thread(target=run, args=(s,)) for s in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    states = {code: get(server.url, tokens["erp"], f"/rmas/{code}/refund").json()["decision"] for code in codes}
    assert set(states.values()) == {"partial"}, [c for c, s in states.items() if s != "partial"]
    steps = get(server.url, tokens["erp"], f"/rmas/{codes[-1]}").json()["timeline"]
    assert [s["what"] for s in steps].count("refund.decided") == 1
    assert storage.db.station_events("A") and storage.db.station_events("B")


def test_the_import_reads_the_refund_policy_column_with_the_same_problem_lines(storage, tmp_path):
    text = (
        "rma_code,status,sku,qty,refund_policy\n"
        "RMA-I1,authorized,SKU-1,1,On Receipt\n"
        "RMA-I2,authorized,SKU-1,1,\n"
        "RMA-I3,authorized,SKU-1,1,at once\n"
        "RMA-I4,authorized,SKU-1,1,on_receipt\n"
        "RMA-I4,authorized,SKU-2,1,after_inspection\n"
    )
    parsed = read_rma_file(text=text, kind="csv", name="rmas.csv")
    assert {p.rma["rma_code"]: p.rma.get("refund_policy") for p in parsed.rmas} == {
        "RMA-I1": "on_receipt",
        "RMA-I2": None,
    }
    assert parsed.errors == [
        (4, "refund_policy 'at once' is not on_receipt or after_inspection"),
        (5, "RMA RMA-I4 not loaded because of the errors above"),
        (6, "refund_policy 'after_inspection' differs from the one given before for RMA-I4"),
    ]
    source = tmp_path / "rmas.csv"
    source.write_text(text, encoding="utf-8")
    done = CliRunner().invoke(server_cli, ["import", "rmas", str(source), "--db", storage.url])
    assert done.exit_code == 1 and "rmas.csv:4: refund_policy 'at once'" in done.stderr
    from server.handoff.views import refund_of

    assert refund_of(storage.db, "RMA-I1").policy == "on_receipt"
    assert refund_of(storage.db, "RMA-I2").policy == "after_inspection"
    assert refund_of(storage.db, "RMA-I3") is None
    with storage.db.read() as conn:  # the default policy is left out of the record: older stations still pull it
        stored = dict(conn.execute(sa.select(rmas.c.code, rmas.c.record)).all())
    assert json.loads(stored["RMA-I1"])["refund_policy"] == "on_receipt"
    assert "refund_policy" not in json.loads(stored["RMA-I2"])


# --- webhooks: refund.decided and stock.moved ------------------------------------------------------


@pytest.fixture
def fast_hooks(monkeypatch):
    for name, value in FAST.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def hook_receiver():
    made = WebhookReceiver(new_secret()).start()
    yield made
    made.stop()


def test_refund_decisions_and_stock_movements_arrive_as_signed_webhooks(
    fast_hooks, storage, server, tokens, hook_receiver, tmp_path
):
    hook = hook_receiver
    out = add_endpoint(tmp_path, storage.url, hook.url, hook.secret, "refund.decided,stock.moved")
    assert "refund.decided, stock.moved" in out
    import_rma(server.url, tokens["erp"], "RMA-W1", [("SKU-1", 1, 49.0)], refund_policy="on_receipt")
    a = Station(server.url, tokens["A"])
    receipt = a.event("rma.received", "RMA-W1")
    unit = inspected(a, "RMA-W1", 1, 1, "resellable", "restock", "LP4A")
    put = a.event("unit.put_away", "RMA-W1", lpn="LP4A", bin="TOTE-9", channel="restock", line=1, unit=1)
    closed = a.event("container.closed", container="TOTE-9", kind="tote", units=["LP4A"], counts={"restock": 1})
    shipped = a.event("container.shipped", container="TOTE-9", to="WMS-DC1", units=["LP4A"])
    a.push(receipt, unit, put, closed, shipped)
    assert wait_until(lambda: len(hook.delivered()) == 3, timeout=30)
    got = {r.body["type"]: [] for r in hook.requests}
    for r in hook.requests:
        assert r.verified
        got[r.body["type"]].append(r.body["data"])
    [refund] = got["refund.decided"]
    assert (refund["rma_code"], refund["decision"], refund["policy"], refund["amount"], refund["order_ref"]) == (
        "RMA-W1",
        "full",
        "on_receipt",
        49.0,
        "SO-RMA-W1",
    )
    assert refund["event_id"] == receipt["id"] and refund["lines"][0]["refunded"] == 1
    assert refund == {k: v for k, v in get(server.url, tokens["erp"], "/rmas/RMA-W1/refund").json().items()
                      if k != "state"} | {"order_ref": "SO-RMA-W1"}  # fmt: skip
    moves = sorted(got["stock.moved"], key=lambda d: d["seq"])
    assert [(m["event"], m["event_id"]) for m in moves] == [
        ("unit.put_away", put["id"]),
        ("container.shipped", shipped["id"]),
    ]
    assert moves[1]["payload"]["to"] == "WMS-DC1"
    assert len({r.id for r in hook.requests}) == 3  # one delivery id each


def test_the_openapi_document_has_the_handoff_routes_and_their_answers(sqlite_server):
    document = requests.get(f"{sqlite_server.url}/openapi.json", timeout=30).json()
    paths, schemas = document["paths"], document["components"]["schemas"]
    assert {"/api/v1/feed", "/api/v1/bins", "/api/v1/rmas/{code}/refund"} <= set(paths)
    assert {"FeedPage", "FeedItem", "BinsPage", "BinView", "RefundDecision", "RefundLine"} <= set(schemas)
    assert [p["name"] for p in paths["/api/v1/feed"]["get"]["parameters"]] == ["cursor", "limit"]
    assert "404" in paths["/api/v1/rmas/{code}/refund"]["get"]["responses"]


def test_the_movements_export_has_put_aways_and_shipments_with_their_line_and_unit(
    sqlite_storage, sqlite_server, sqlite_tokens
):
    a = Station(sqlite_server.url, sqlite_tokens["A"])
    put = a.send("unit.put_away", "RMA-E1", lpn="LP5A", bin="RESTOCK", channel="restock", line=2, unit=3)
    shipped = a.send("container.shipped", container="RESTOCK", to="WMS-DC1", units=["LP5A"])
    done = CliRunner().invoke(server_cli, ["export", "movements", "--format", "json", "--db", sqlite_storage.url])
    assert done.exit_code == 0, done.output
    rows = {r["event_id"]: r for r in json.loads(done.stdout)}
    assert (rows[put["id"]]["kind"], rows[put["id"]]["line_no"], rows[put["id"]]["unit_no"]) == ("stock.moved", 2, 3)
    assert (rows[shipped["id"]]["type"], rows[shipped["id"]]["kind"]) == ("container.shipped", "stock.moved")


def test_the_bins_come_a_page_of_about_so_many_units_at_a_time(
    sqlite_storage, sqlite_server, sqlite_tokens, monkeypatch
):
    """Issue 12 part 6: a floor of millions of units is not one answer; every bin comes once, whole."""
    from server.handoff import views as handoff_views

    a = Station(sqlite_server.url, sqlite_tokens["A"])
    for n, place in enumerate(["B-1", "B-1", "B-2", "B-3", "B-3", "B-3", "B-4"]):
        a.send("unit.put_away", "RMA-P1", lpn=f"LPP{n}", bin=place, channel="restock")
    monkeypatch.setattr(handoff_views, "PAGE_UNITS", 3)
    pages, after = [], ""
    while True:
        page = get(sqlite_server.url, sqlite_tokens["erp"], "/bins", after=after).json()
        pages.append([(v["name"], len(v["units"])) for v in page["bins"]])
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert pages == [[("B-1", 2), ("B-2", 1)], [("B-3", 3)], [("B-4", 1)]]
    monkeypatch.setattr(handoff_views, "PAGE_UNITS", 5000)
    whole = get(sqlite_server.url, sqlite_tokens["erp"], "/bins").json()
    assert [v["name"] for v in whole["bins"]] == ["B-1", "B-2", "B-3", "B-4"] and whole["next_after"] is None
