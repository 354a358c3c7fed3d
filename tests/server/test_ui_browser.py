"""The web UI in a real browser: Debian's chromium, headless, driven by selenium through
chromedriver, against a real `rma-server` process on loopback.

Screenshots are kept in ``test-artefacts/ui/`` (git ignores it): one per page the test opens.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from server.db import ServerDb
from tests.helpers.local_postgres import free_port
from tests.server.conftest import HOSTILE, SUPERVISOR, Site
from tests.sync.conftest import wait_until

ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "ui"
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`rma-server` as an operator starts it, over a SQLite file this test also fills."""
    folder = tmp_path_factory.mktemp("browser")
    db_file = str(folder / "server.db")
    db = ServerDb(db_file)
    port = free_port()
    with open(folder / "server.log", "wb") as log:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "rma-server"), "--db", db_file, "--port", str(port), "--rate", "0"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            assert proc.poll() is None, (folder / "server.log").read_text()
            try:
                return requests.get(f"{url}/api/v1/health", timeout=2).ok
            except requests.RequestException:
                return False

        assert wait_until(healthy, timeout=60, every=0.1), "rma-server did not answer"
        yield Site(db, url), folder
        proc.terminate()
        proc.wait(20)
    db.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One headless chromium for the module, tablet-sized, downloading into a folder of its own."""
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.fail("chromium and chromedriver are needed: `./dev setup` installs chromium and chromium-driver")
    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1024,1366",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.downloads = downloads  # type: ignore[attr-defined]
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def shot(driver, name: str) -> None:
    assert driver.save_screenshot(str(ARTEFACTS / f"{name}.png"))


def no_alert(driver) -> bool:
    try:
        driver.switch_to.alert  # noqa: B018 - the property raises when no dialog is open
    except NoAlertPresentException:
        return True
    return False


def test_a_supervisor_signs_in_opens_the_overdue_list_an_rma_exports_csv_and_logs_out(served, browser):
    site, _folder = served
    sha = site.received_and_inspected("RMA-BROWSER")
    wait = WebDriverWait(browser, 20)

    browser.get(f"{site.url}/ui/overdue")  # signed out: the login page, and back here after
    wait.until(ec.presence_of_element_located((By.ID, "sign-in")))
    shot(browser, "1-login")
    browser.find_element(By.ID, "name").send_keys(SUPERVISOR[0])
    browser.find_element(By.ID, "password").send_keys(SUPERVISOR[1])
    browser.find_element(By.ID, "sign-in").click()
    wait.until(ec.url_to_be(f"{site.url}/ui/overdue"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Overdue and due soon"
    shot(browser, "2-overdue")

    browser.find_element(By.LINK_TEXT, "Home").click()
    wait.until(ec.presence_of_element_located((By.ID, "code")))
    shot(browser, "3-home")
    browser.find_element(By.LINK_TEXT, "RMA-BROWSER").click()  # from the table to the RMA
    wait.until(ec.url_to_be(f"{site.url}/ui/rmas/RMA-BROWSER"))
    # the hostile customer name reads as text, and nothing ran
    assert browser.find_element(By.CSS_SELECTOR, "dd.customer").text == HOSTILE
    assert no_alert(browser)
    photo = browser.find_element(By.CSS_SELECTOR, f'img[src="/ui/photos/{sha}"]')
    assert wait.until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", photo))
    assert browser.execute_script("return arguments[0].naturalWidth", photo) == 48  # the photo itself, decoded
    shot(browser, "4-rma-timeline")

    browser.find_element(By.LINK_TEXT, "Export CSV").click()
    exported = browser.downloads / "rma-RMA-BROWSER.csv"
    assert wait_until(lambda: exported.exists() and exported.stat().st_size > 0, timeout=20), "no CSV arrived"
    rows = list(csv.DictReader(exported.read_text(encoding="utf-8-sig").splitlines()))
    assert [r["what"] for r in rows] == ["authorized", "rma.received", "item.inspected", "rma.inspected"]
    assert rows[1]["operator"] == HOSTILE[:64]

    browser.find_element(By.ID, "logout").click()
    wait.until(ec.presence_of_element_located((By.ID, "sign-in")))
    browser.get(f"{site.url}/ui/")
    wait.until(ec.presence_of_element_located((By.ID, "sign-in")))  # the session is gone
    shot(browser, "5-signed-out")


def test_the_customer_opens_the_status_page_in_chinese(served, browser):
    site, _folder = served
    site.received_and_inspected("RMA-CUSTOMER", text="Eva Jensen")
    link = site.status_link("RMA-CUSTOMER").json()["url"]
    browser.get(link + "?lang=zh-CN")
    WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.CSS_SELECTOR, "ol.steps")))
    steps = [li.text.split("\n")[0] for li in browser.find_elements(By.CSS_SELECTOR, "ol.steps li.done")]
    assert steps == ["退货已批准", "包裹已签收", "商品已质检"]
    assert "Eva" not in browser.page_source and "bench-1" not in browser.page_source
    shot(browser, "6-status-zh-CN")
    browser.get(link.rsplit(".", 1)[0] + ".forged")
    assert browser.find_element(By.TAG_NAME, "h1").text == "页面不存在"  # the language chosen stays
    shot(browser, "7-status-wrong-link")
