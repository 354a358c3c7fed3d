"""The customer's status page: a signed link from the API, the steps with dates, nothing internal,
one 404 for every bad link, a rate limit, two languages."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import requests
import sqlalchemy as sa

from server.ui import status, store
from tests.server.conftest import HOSTILE, auth


def steps_of(html: str) -> list[tuple[str, str, str]]:
    """(step, class, date) of each step the page shows."""
    found = re.findall(
        r'<li class="(\w+)" data-step="(\w+)">\s*<span class="label">[^<]*</span>\s*<span class="date">([^<]*)</span>',
        html,
    )
    return [(step, kind, date) for kind, step, date in found]


def test_an_integration_gets_a_signed_link_that_expires(site):
    site.add_rma("RMA-LINK")
    answer = site.status_link("rma-link", days=7)  # the code as the ERP may write it
    assert answer.status_code == 200
    link = answer.json()
    assert link["rma_code"] == "RMA-LINK" and link["url"] == site.url + link["path"]
    expires = datetime.fromisoformat(link["expires_at"])
    assert 6.9 * 86400 < (expires - datetime.now(UTC)).total_seconds() <= 7 * 86400
    assert re.fullmatch(r"/status/[A-Za-z0-9_-]+\.\d+\.[A-Za-z0-9_-]{43}", link["path"])
    # a station may not hand out links; an unknown RMA has none
    station = requests.get(f"{site.url}/api/v1/rmas/RMA-LINK/status-link", headers=auth(site.station), timeout=10)
    assert station.status_code == 403
    assert site.status_link("RMA-NONE").status_code == 404
    assert requests.get(f"{site.url}/api/v1/rmas/RMA-LINK/status-link", timeout=10).status_code == 401
    assert "/api/v1/rmas/{code}/status-link" in requests.get(f"{site.url}/openapi.json", timeout=10).json()["paths"]


def test_the_page_shows_the_steps_with_dates_and_nothing_internal(site):
    site.add_rma("RMA-WAIT")
    waiting = requests.get(site.url + site.status_link("RMA-WAIT").json()["path"], timeout=10)
    today = datetime.now(UTC).date().isoformat()
    assert [(s, k) for s, k, _ in steps_of(waiting.text)] == [
        ("authorized", "done"),
        ("received", "waiting"),
        ("inspected", "waiting"),
    ]
    site.received_and_inspected("RMA-DONE")  # hostile text in the customer, reason, operator and note
    page = requests.get(site.url + site.status_link("RMA-DONE").json()["path"], timeout=10)
    assert page.status_code == 200
    assert steps_of(page.text) == [
        ("authorized", "done", today),
        ("received", "done", today),
        ("inspected", "done", today),
    ]
    assert "refund" not in page.text.lower()  # no refund decision in the database: no such step
    for internal in ("bench-1", "op1", "alert", "script", "/ui/photos", "discounted", "SKU-1", "line 1 unit 1"):
        assert internal not in page.text, internal
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"


def test_a_refund_decision_in_the_database_is_shown_when_there_is_one(site):
    site.add_rma("RMA-REFUND")
    site.push("RMA-REFUND", "rma.received")
    with site.db.write() as conn:  # the shape the handoff's refund decisions take (issue 11)
        conn.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS refund_decisions (rma_code TEXT, decided_at TEXT, amount REAL)"
        )
        conn.exec_driver_sql(
            "INSERT INTO refund_decisions VALUES ('RMA-REFUND', '2026-11-30T09:00:00.000+08:00', 12.5)"
        )
    page = requests.get(site.url + site.status_link("RMA-REFUND").json()["path"], timeout=10)
    assert ("refund", "done", "2026-11-30") in steps_of(page.text)
    assert "12.5" not in page.text


def test_a_wrong_altered_or_expired_link_tells_nothing(site):
    site.add_rma("RMA-SECRET")
    good = site.status_link("RMA-SECRET").json()["path"]
    code_part, expires, signature = good.removeprefix("/status/").split(".")
    secret = store.status_secret(site.db)
    other = status.make_token(secret, "RMA-OTHER", int(expires))  # signed, for an RMA that is not there
    past = status.make_token(secret, "RMA-SECRET", int(time.time()) - 1)
    wrong = [
        f"/status/{code_part}.{expires}.{'A' * 43}",  # forged signature
        f"/status/{code_part}.{int(expires) + 86400}.{signature}",  # expiry pushed back
        f"/status/{past}",  # expired
        f"/status/{other}",  # a valid signature for an RMA the server does not have
        "/status/RMA-SECRET",
        "/status/",
        "/status/a/b/c",
        "/status/%00%ff.1.x",
    ]
    answers = [requests.get(site.url + path, timeout=10) for path in wrong]
    assert [a.status_code for a in answers] == [404] * len(wrong)
    assert len({a.text for a in answers}) == 1  # the same page whatever was wrong
    assert "RMA-SECRET" not in answers[0].text
    assert requests.get(site.url + good, timeout=10).status_code == 200


def test_another_servers_secret_signs_nothing_here(site, fresh_site):
    fresh_site.add_rma("RMA-TWIN")
    site.add_rma("RMA-TWIN")
    theirs = fresh_site.status_link("RMA-TWIN").json()["path"]
    assert requests.get(site.url + theirs, timeout=10).status_code == 404
    with site.db.read() as conn:  # the secret is kept in the database, drawn once
        held = conn.execute(sa.text("SELECT value FROM meta WHERE key = 'status_link_secret'")).scalars().all()
    assert len(held) == 1 and bytes.fromhex(held[0]) == store.status_secret(site.db)


def test_the_page_speaks_chinese_when_asked(site):
    site.add_rma("RMA-ZH")
    path = site.status_link("RMA-ZH").json()["path"]
    by_header = requests.get(site.url + path, headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}, timeout=10)
    assert '<html lang="zh-CN">' in by_header.text and "退货已批准" in by_header.text and "尚未完成" in by_header.text
    assert "Return authorized" not in by_header.text
    by_query = requests.get(site.url + path + "?lang=zh-CN", headers={"Accept-Language": "en"}, timeout=10)
    assert "退货已批准" in by_query.text
    english = requests.get(site.url + path, headers={"Accept-Language": "fr, en;q=0.1"}, timeout=10)
    assert "Return authorized" in english.text
    missing = requests.get(site.url + "/status/nothing?lang=zh-CN", timeout=10)
    assert missing.status_code == 404 and "页面不存在" in missing.text


def test_the_status_page_is_rate_limited_per_address(fresh_site):
    fresh_site.add_rma("RMA-BUSY")
    path = fresh_site.status_link("RMA-BUSY").json()["path"]
    session = requests.Session()
    codes = [session.get(fresh_site.url + path, timeout=10).status_code for _ in range(40)]
    assert codes[0] == 200 and 429 in codes
    first_refusal = codes.index(429)
    assert first_refusal >= 20  # a burst is served
    refused = session.get(fresh_site.url + "/status/guess.1.x", timeout=10)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1  # guessing is limited too


def test_hostile_text_never_reaches_the_customer_page(site):
    # the RMA's own record carries markup: the page shows only the code and steps, escaped
    site.add_rma("RMA-X", customer=HOSTILE, reason=HOSTILE)
    page = requests.get(site.url + site.status_link("RMA-X").json()["path"], timeout=10)
    assert page.status_code == 200 and "<script" not in page.text and "alert" not in page.text
