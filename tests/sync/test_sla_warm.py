"""The overdue report's clocks kept between reports (issue 12 part 6): made ahead at server start they give the
report a cold process gives; a clock kept while on time is reported once it turns due soon, then overdue; an RMA
received after its clock was kept runs its inspect clock from the receipt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests

from server import sla
from server.sla import STATES, overdue_report
from sync.sla import DEFAULT_POLICY
from tests.helpers.server_thread import ServerThread
from tests.sync.conftest import wait_until
from tests.sync.test_sla import ago, seed


def cold_report(db, now):
    sla._rma_clocks.clear()
    return overdue_report(db, now, policy=DEFAULT_POLICY)


def test_clocks_made_at_server_start_give_the_report_of_a_cold_process(sqlite_storage):
    db = sqlite_storage.db
    seed(db)
    erp = db.add_station("erp", "integration")
    now = datetime.now(UTC)
    cold = cold_report(db, now)
    assert {i["code"] for i in cold} == {"RMA-UNITS", "RMA-LATE", "RMA-COAT"}
    sla._rma_clocks.clear()
    sla.warm(db)
    assert len(sla._rma_clocks) == 4  # ONTIME (receive), LATE and COAT (inspect), the plate of UNITS not put away
    assert overdue_report(db, now, policy=DEFAULT_POLICY) == cold
    sla._rma_clocks.clear()
    running = ServerThread(db, rate=0).start()  # its start makes the clocks, in a thread
    try:
        assert wait_until(lambda: len(sla._rma_clocks) == 4)
        answer = requests.get(
            f"{running.url}/api/v1/reports/overdue", headers={"Authorization": f"Bearer {erp}"}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        assert [(i["code"], i["lpn"], i["state"]) for i in answer.json()["items"]] == [
            (i["code"], i["lpn"], i["state"]) for i in cold
        ]
    finally:
        running.stop()


def test_a_kept_clock_is_reported_when_it_turns_due_soon_and_then_overdue(sqlite_storage):
    db = sqlite_storage.db
    pusher = seed(db)
    now = datetime.now(UTC)
    overdue_report(db, now, policy=DEFAULT_POLICY)  # the clocks are kept from here on
    kept = {(h.kind, h.code, h.lpn): h.clock for h in sla._rma_clocks.values()}
    ontime = kept[("rma", "RMA-ONTIME", "")]
    assert ontime.state(now) not in STATES
    seen = set()
    for hours in (0, 12, 30, 100, 300, 320, 400):  # receive: 14 days
        at = now + timedelta(hours=hours)
        found = {(i["kind"], i["code"], i["lpn"]): i["state"] for i in overdue_report(db, at, policy=DEFAULT_POLICY)}
        assert found == {key: c.state(at) for key, c in kept.items() if c.state(at) in STATES}
        seen.add(found.get(("rma", "RMA-ONTIME", "")))
    assert {"due_soon", "overdue"} <= seen  # on time when kept, then due soon, then overdue
    pusher.push(("rma.received", "RMA-ONTIME", {}, ago(days=5)))  # received (days ago) after its clock was kept
    item = next(i for i in overdue_report(db, now, policy=DEFAULT_POLICY) if i["code"] == "RMA-ONTIME")
    assert (item["step"], item["state"]) == ("inspect", "overdue")
    assert item == next(i for i in cold_report(db, now) if i["code"] == "RMA-ONTIME")
