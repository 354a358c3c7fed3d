"""The web UI's accounts, sessions and status links on both server databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import requests

from server.ui import status, store
from tests.helpers.server_thread import ServerThread
from tests.server.conftest import SUPERVISOR, Site, csrf_of


def test_sign_in_timeline_logout_and_the_status_page_on_both_databases(storage):
    server = ServerThread(storage.db, rate=0).start()
    try:
        site = Site(storage.db, server.url)
        sha = site.received_and_inspected("RMA-DB")
        session = site.sign_in(SUPERVISOR)
        page = session.get(f"{site.url}/ui/rmas/RMA-DB", timeout=10)
        assert page.status_code == 200 and f"/ui/photos/{sha}" in page.text
        assert session.get(f"{site.url}/ui/photos/{sha}", timeout=10).content == storage.db.photo(sha)[1]
        session.post(f"{site.url}/ui/logout", data={"csrf": csrf_of(page.text)}, timeout=10)
        assert session.get(f"{site.url}/ui/", timeout=10, allow_redirects=False).status_code == 303
        link = site.status_link("RMA-DB").json()
        shown = requests.get(site.url + link["path"], timeout=10)
        assert shown.status_code == 200 and shown.text.count('class="done"') == 4  # with the refund decided
        # the secret is drawn once and read back the same by every process sharing the database
        assert status.read_token(store.status_secret(storage.db), link["path"].removeprefix("/status/")) == "RMA-DB"
    finally:
        server.stop()
