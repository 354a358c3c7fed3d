"""The return analytics pages over plain HTTP: every page draws its chart and table, every figure
links to the units behind it, the units link to the RMA's timeline, every table exports as CSV."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
import requests

from tests.server.conftest import HOSTILE, MANAGER, SUPERVISOR


@pytest.fixture(scope="module")
def returns(site):
    """Three RMAs received, inspected (one with the customer's reason confirmed, one not) and one put away."""
    for code, reason, confirmed, grade, failed in (
        ("RMA-AN-1", "质量问题", "yes", "scrapped", "powers_on"),
        ("RMA-AN-2", "defective", "no", "resellable", ""),
        ("RMA-AN-3", HOSTILE, "", "discounted", "housing"),
    ):
        site.add_rma(code, reason=reason)
        site.push(code, "rma.received")
        site.push(
            code,
            "item.inspected",
            line_no=1,
            unit_no=1,
            sku="SKU-1",
            category="consumer_electronics",
            final=grade,
            channel={"scrapped": "recycle", "resellable": "restock", "discounted": "b_stock"}[grade],
            lpn=f"LP{code[-1]}",
            reason_confirmed=confirmed or None,
            checklist={"id": "consumer_electronics", "hash": "e" * 64},
            answers=[{"item": failed, "failed": True, "severity": "major"}] if failed else [],
        )
    site.push("RMA-AN-1", "unit.put_away", lpn="LP1", bin="RECYCLE-1")
    return site


@pytest.fixture(scope="module")
def manager(returns):
    return returns.sign_in(MANAGER)


def links(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]+)"', page)]


def test_the_reasons_page_charts_and_tabulates_the_finding_and_drills_to_the_rma(returns, manager):
    page = manager.get(f"{returns.url}/ui/analytics/reasons", timeout=10)
    assert page.status_code == 200, page.text
    assert "<svg" in page.text and "<script" not in page.text.split("<main>")[1]
    nonce = re.search(r"'nonce-([^']+)'", page.headers["content-security-policy"]).group(1)
    assert f'<style nonce="{nonce}"' in page.text
    found = links(page.text)
    confirmed = [h for h in found if "reason=defective" in h and "confirmed=yes" in h]
    assert confirmed, found  # the chart's bar and the table's cell
    units = manager.get(returns.url + confirmed[0], timeout=10)
    assert units.status_code == 200
    assert links(units.text).count("/ui/rmas/RMA-AN-1") == 1 and "RMA-AN-2" not in units.text
    timeline = manager.get(f"{returns.url}/ui/rmas/RMA-AN-1", timeout=10)
    assert timeline.status_code == 200 and "item.inspected" in timeline.text
    # a reason the vocabulary does not know is 'unclassified', and its text is never markup
    assert "unclassified" in page.text and HOSTILE not in page.text


def test_every_analytics_table_exports_as_csv(returns, manager):
    for path, key in (
        ("reasons", "reason_code"),
        ("rates?by=supplier", "supplier"),
        ("rates?by=checklist", "checklist"),
        ("checks", "item"),
        ("throughput?by=operator", "operator"),
        ("cycle-times", "step"),
        ("trends?per=week", "week"),
        ("units?reason=defective", "rma_code"),
        ("receipts", "rma_code"),
    ):
        page = manager.get(f"{returns.url}/ui/analytics/{path}", timeout=10)
        assert page.status_code == 200, (path, page.text)
        [export] = [h for h in links(page.text) if "format=csv" in h]
        answer = manager.get(returns.url + export, timeout=10)
        assert answer.headers["content-type"].startswith("text/csv"), path
        rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
        assert rows and key in rows[0], (path, rows)
    checks = manager.get(f"{returns.url}/ui/analytics/checks?format=csv", timeout=10)
    top = next(csv.DictReader(io.StringIO(checks.content.decode("utf-8-sig"))))
    assert (top["checklist"], top["fails"], top["units"]) == ("consumer_electronics", "1", "3")
    steps = manager.get(f"{returns.url}/ui/analytics/cycle-times?format=csv", timeout=10)
    counts = [r["count"] for r in csv.DictReader(io.StringIO(steps.content.decode("utf-8-sig")))]
    assert counts == ["3", "3", "1"]


def test_analytics_need_a_sign_in_and_speak_chinese(returns):
    signed_out = requests.get(f"{returns.url}/ui/analytics/reasons", timeout=10, allow_redirects=False)
    assert signed_out.status_code == 303 and "/ui/login" in signed_out.headers["location"]
    supervisor = returns.sign_in(SUPERVISOR)
    page = supervisor.get(f"{returns.url}/ui/analytics/reasons?lang=zh-CN", timeout=10)
    assert page.status_code == 200 and "客户说得对吗" in page.text and "属实" in page.text
    bad = supervisor.get(f"{returns.url}/ui/analytics/trends?since=yesterday", timeout=10)
    assert bad.status_code == 422
