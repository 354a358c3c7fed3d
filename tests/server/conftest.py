"""Web UI fixtures: the real server on a loopback port with a manager, a supervisor, an ERP and a
station; an RMA received and inspected with a photo and hostile text in every field a person wrote."""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from PIL import Image

from server.db import ServerDb
from server.ui import store
from tests.helpers.server_thread import ServerThread

MANAGER, SUPERVISOR = ("ann", "ann-password-1"), ("sam", "sam-password-1")
# text that would run as script or break the markup if a page did not escape it
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def stamp(hours_ago: float = 0.0) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat(timespec="milliseconds")


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (48, 32), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


class Site:
    """A running server with its users and tokens, and helpers to fill it."""

    def __init__(self, db: ServerDb, url: str):
        self.db, self.url = db, url
        store.add_user(db, MANAGER[0], "manager", MANAGER[1])
        store.add_user(db, SUPERVISOR[0], "supervisor", SUPERVISOR[1])
        self.erp = db.add_station("erp", "integration")
        self.station = db.add_station("bench-1")
        self.seq = 0

    def add_rma(self, code: str, customer: str = "Eva Jensen", reason: str = "wrong size") -> None:
        body = {
            "rmas": [
                {
                    "rma_code": code,
                    "status": "authorized",
                    "customer_name": customer,
                    "reason": reason,
                    "lines": [{"sku": "SKU-1", "qty": 1, "description": customer}],
                }
            ]
        }
        assert requests.post(f"{self.url}/api/v1/rmas", json=body, headers=auth(self.erp), timeout=10).ok

    def push(self, code: str, kind: str, operator: str = "op1", **payload) -> None:
        self.seq += 1
        event = {
            "seq": self.seq,
            "id": str(uuid.uuid4()),
            "type": kind,
            "operator": operator,
            "at": stamp(),
            "rma_code": code,
            "payload": payload,
        }
        answer = requests.post(
            f"{self.url}/api/v1/events",
            json={"after_seq": self.seq - 1, "events": [event]},
            headers=auth(self.station),
            timeout=10,
        )
        assert answer.ok and answer.json()["acked_seq"] == self.seq, answer.text

    def put_photo(self) -> str:
        data = png_bytes()
        sha = hashlib.sha256(data).hexdigest()
        answer = requests.put(
            f"{self.url}/api/v1/photos/{sha}",
            data=data,
            headers=auth(self.station) | {"Content-Type": "image/png"},
            timeout=10,
        )
        assert answer.status_code in (200, 201), answer.text
        return sha

    def received_and_inspected(self, code: str, text: str = HOSTILE) -> str:
        """An RMA received and inspected with a photo; ``text`` in its customer, reason, operator and note."""
        self.add_rma(code, customer=text, reason=text)
        self.push(code, "rma.received", operator=text[:64])
        sha = self.put_photo()
        self.push(
            code,
            "item.inspected",
            line_no=1,
            grade="discounted",
            note=text,
            photos=[{"item": "line 1 unit 1", "sha256": sha, "path": "x.png", "bytes": 1}],
        )
        self.push(code, "rma.inspected")
        return sha

    def status_link(self, code: str, **params) -> requests.Response:
        return requests.get(
            f"{self.url}/api/v1/rmas/{code}/status-link", params=params, headers=auth(self.erp), timeout=10
        )

    def sign_in(self, who: tuple[str, str]) -> requests.Session:
        """A browser-like session signed in as ``who`` (through the login form and its CSRF cookie)."""
        session = requests.Session()
        form = session.get(f"{self.url}/ui/login", timeout=10)
        answer = session.post(
            f"{self.url}/ui/login",
            data={"csrf": csrf_of(form.text), "name": who[0], "password": who[1], "next": "/ui/"},
            timeout=10,
        )
        assert answer.status_code == 200 and answer.url.endswith("/ui/"), answer.text
        return session


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def _site(tmp_path_factory) -> tuple[ServerDb, ServerThread]:
    db = ServerDb(str(tmp_path_factory.mktemp("ui") / "server.db"))
    return db, ServerThread(db, rate=0).start()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One server for a module's tests (each test uses RMAs and sessions of its own)."""
    db, server = _site(tmp_path_factory)
    yield Site(db, server.url)
    server.stop()
    db.close()


@pytest.fixture
def fresh_site(tmp_path_factory):
    """A server of its own, for a test that spends a rate limit."""
    db, server = _site(tmp_path_factory)
    yield Site(db, server.url)
    server.stop()
    db.close()
