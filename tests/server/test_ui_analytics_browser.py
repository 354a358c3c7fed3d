"""The return analytics in a real browser (Debian's chromium via selenium, against `rma-server`):
from a chart's bar to the units behind it, to one RMA's timeline, and a table exported as CSV.

Screenshots are kept in ``test-artefacts/ui/`` (git ignores it).
"""

from __future__ import annotations

import csv

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.server.conftest import SUPERVISOR
from tests.server.test_ui_browser import browser as browser
from tests.server.test_ui_browser import served as served
from tests.server.test_ui_browser import shot
from tests.sync.conftest import wait_until


def test_a_manager_drills_from_the_reasons_chart_to_an_rma_and_exports_the_units(served, browser):
    site, _folder = served
    for code, confirmed in (("RMA-CHART-1", "yes"), ("RMA-CHART-2", "no")):
        site.add_rma(code, reason="尺码偏小")
        site.push(code, "rma.received")
        site.push(code, "item.inspected", line_no=1, sku="SHOE-1", final="resellable", reason_confirmed=confirmed)
    wait = WebDriverWait(browser, 20)
    browser.get(f"{site.url}/ui/analytics/reasons")
    wait.until(ec.presence_of_element_located((By.ID, "sign-in")))
    browser.find_element(By.ID, "name").send_keys(SUPERVISOR[0])
    browser.find_element(By.ID, "password").send_keys(SUPERVISOR[1])
    browser.find_element(By.ID, "sign-in").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#chart svg")))
    # the chart is styled (its <style> carries the page's nonce): the bars are not the browser's black
    bar = browser.find_element(
        By.CSS_SELECTOR, '#chart svg a[*|href*="reason=size_too_small"][*|href*="confirmed=yes"]'
    )
    fill = browser.execute_script("return getComputedStyle(arguments[0].querySelector('rect')).fill", bar)
    assert fill not in ("rgb(0, 0, 0)", ""), fill
    shot(browser, "analytics-1-reasons")

    bar.click()  # the bar of the confirmed size_too_small units
    wait.until(ec.url_contains("/ui/analytics/units"))
    assert "confirmed=yes" in browser.current_url
    shot(browser, "analytics-2-units")
    codes = [a.text for a in browser.find_elements(By.CSS_SELECTOR, 'td[data-key="rma_code"] a')]
    assert codes == ["RMA-CHART-1"]

    browser.find_element(By.LINK_TEXT, "Export CSV").click()
    exported = browser.downloads / "analytics-units.csv"
    assert wait_until(lambda: exported.exists() and exported.stat().st_size > 0, timeout=20), "no CSV arrived"
    rows = list(csv.DictReader(exported.read_text(encoding="utf-8-sig").splitlines()))
    assert [(r["rma_code"], r["reason_code"], r["reason_confirmed"]) for r in rows] == [
        ("RMA-CHART-1", "size_too_small", "yes")
    ]

    browser.find_element(By.LINK_TEXT, "RMA-CHART-1").click()  # on to the RMA's timeline
    wait.until(ec.url_to_be(f"{site.url}/ui/rmas/RMA-CHART-1"))
    assert "item.inspected" in browser.page_source
    shot(browser, "analytics-3-rma-timeline")
