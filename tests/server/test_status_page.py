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
        ("refund", "done", today),  # decided by the server once the station said the RMA is inspected
    ]
    assert "refund" not in [step for step, _, _ in steps_of(waiting.text)]  # no refund decided yet: no such step
    for internal in ("bench-1", "op1", "alert", "script", "/ui/photos", "discounted", "SKU-1", "line 1 unit 1"):
        assert internal not in page.text, internal
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"


def test_the_refund_step_appears_when_the_server_decides_the_refund(site):
    site.add_rma("RMA-REFUND")
    site.push("RMA-REFUND", "rma.received")
    link = site.status_link("RMA-REFUND").json()["path"]
    before = steps_of(requests.get(site.url + link, timeout=10).text)
    assert "refund" not in [step for step, _, _ in before]  # decided after inspection, by default
    site.push("RMA-REFUND", "item.inspected", line_no=1, unit_no=1, final="resellable", channel="restock")
    site.push("RMA-REFUND", "rma.inspected")
    page = requests.get(site.url + link, timeout=10)
    assert ("refund", "done", datetime.now(UTC).date().isoformat()) in steps_of(page.text)
    assert "full" not in page.text.lower() and "restock" not in page.text  # when, not what


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
    codes = [session.get(fresh_site.url + path, timeout=10).status_code for _ in range(80)]
    assert codes[0] == 200 and 429 in codes
    first_refusal = codes.index(429)
    assert first_refusal >= 50  # a burst is served
    refused = session.get(fresh_site.url + "/status/guess.1.x", timeout=10)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1  # guessing is limited too


def test_hostile_text_never_reaches_the_customer_page(site):
    # the RMA's own record carries markup: the page shows only the code and steps, escaped
    site.add_rma("RMA-X", customer=HOSTILE, reason=HOSTILE)
    page = requests.get(site.url + site.status_link("RMA-X").json()["path"], timeout=10)
    assert page.status_code == 200 and "<script" not in page.text and "alert" not in page.text
