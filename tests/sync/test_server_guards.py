"""Issue 9 cases 9 and 10: the token before the body, deadlines for headers and bodies, failed
authentications limited per address; photos decoded, not sniffed, and served with nosniff."""

from __future__ import annotations

import hashlib
import io
import socket

import pytest
import requests
from PIL import Image

from tests.helpers.server_queries import row_counts
from tests.helpers.server_thread import ServerThread
from tests.sync.test_photo_sync import image, put_photo, server_photo

HEAD = (
    "POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    "Content-Length: {length}\r\n{auth}\r\n"
)


def raw(port: int, data: bytes, wait: float = 30.0) -> bytes:
    """Send ``data`` on a new connection and read until the server answers and closes (or ``wait`` passes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(data)
        got = b""
        try:
            while chunk := sock.recv(65536):
                got += chunk
        except TimeoutError:
            pass
        return got


@pytest.fixture
def guarded(sqlite_storage):
    """A server with short deadlines and a small allowance of failed authentications."""
    server = ServerThread(sqlite_storage.db, rate=0, header_timeout=0.5, body_timeout=0.5, auth_failures=3).start()
    yield server
    server.stop()


# --- case 9 ---------------------------------------------------------------------------


def test_a_bad_token_is_refused_before_the_body_is_read(sqlite_server, sqlite_tokens):
    # 3 MB announced, none sent: the answer comes at once, without waiting for the body
    for auth in ("", "Authorization: Bearer not-a-token\r\n"):
        answer = raw(sqlite_server.port, HEAD.format(length=3_000_000, auth=auth).encode(), wait=10)
        assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    photo = (
        f"PUT /api/v1/photos/{'0' * 64} HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
        f"Content-Length: {19 * 2**20}\r\n\r\n"
    ).encode()
    assert raw(sqlite_server.port, photo, wait=10).startswith(b"HTTP/1.1 401")


def test_slow_headers_are_cut(guarded):
    answer = raw(guarded.port, b"POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the rest
    assert answer.startswith(b"HTTP/1.1 408")


def test_slow_headers_of_a_later_request_on_a_kept_connection_are_cut_and_whole_ones_are_answered(guarded):
    with socket.create_connection(("127.0.0.1", guarded.port), timeout=30) as sock:
        for _ in range(2):  # whole requests, one after another on the connection: answered, the connection kept
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            answer = sock.recv(65536)
            assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line
        got = b""
        while chunk := sock.recv(65536):
            got += chunk
    assert got.startswith(b"HTTP/1.1 408"), got[:200]


def test_a_slow_body_gets_408_and_nothing_is_stored(sqlite_storage, guarded, sqlite_tokens):
    head = HEAD.format(length=1000, auth=f"Authorization: Bearer {sqlite_tokens['A']}\r\n").encode()
    answer = raw(guarded.port, head + b'{"after_seq": 0, "events": [')  # the rest never comes
    assert answer.startswith(b"HTTP/1.1 408") and b"did not arrive in time" in answer
    assert row_counts(sqlite_storage.db)["events"] == 0


def test_failed_authentications_are_limited_per_address(guarded, sqlite_tokens):
    url = f"{guarded.url}/api/v1/station"
    answers = [requests.get(url, headers={"Authorization": f"Bearer guess-{i}"}, timeout=5) for i in range(5)]
    assert [a.status_code for a in answers[:3]] == [401, 401, 401]
    assert answers[3].status_code == 429 and int(answers[3].headers["Retry-After"]) >= 1
    assert "failed authentications" in answers[3].json()["detail"]
    # the probe needs no token and is not limited
    assert requests.get(f"{guarded.url}/api/v1/health", timeout=5).status_code == 200


def test_the_openapi_document_lists_the_guards_answers(sqlite_server):
    paths = requests.get(f"{sqlite_server.url}/openapi.json", timeout=5).json()["paths"]
    push = paths["/api/v1/events"]["post"]["responses"]
    assert {"200", "401", "403", "408", "413", "422", "429", "503"} <= set(push)


# --- case 10: photos -------------------------------------------------------------------


def test_html_that_starts_like_a_jpeg_is_refused(sqlite_storage, sqlite_server, sqlite_tokens):
    fake = b"\xff\xd8\xff<html><script>alert(1)</script></html>"
    answer = put_photo(sqlite_server.url, sqlite_tokens["A"], hashlib.sha256(fake).hexdigest(), fake)
    assert answer.status_code == 422 and "not a whole JPEG image" in answer.json()["detail"]
    cut = image(".jpg", 5)[:300]  # a real JPEG, cut short
    answer = put_photo(sqlite_server.url, sqlite_tokens["A"], hashlib.sha256(cut).hexdigest(), cut)
    assert answer.status_code == 422
    png_as_webp = image(".png", 6)
    fake_webp = b"RIFF\x00\x00\x00\x00WEBP" + png_as_webp
    answer = put_photo(
        sqlite_server.url, sqlite_tokens["A"], hashlib.sha256(fake_webp).hexdigest(), fake_webp, "image/webp"
    )
    assert answer.status_code == 422
    assert row_counts(sqlite_storage.db)["photos"] == 0


@pytest.mark.parametrize("kind,pil", [("image/jpeg", "JPEG"), ("image/png", "PNG"), ("image/webp", "WEBP")])
def test_a_real_photo_is_stored_and_served_with_nosniff(sqlite_server, sqlite_tokens, kind, pil):
    buf = io.BytesIO()
    Image.effect_noise((64, 48), 40).convert("RGB").save(buf, pil)
    data = buf.getvalue()
    sha = hashlib.sha256(data).hexdigest()
    assert put_photo(sqlite_server.url, sqlite_tokens["A"], sha, data, kind).status_code == 201
    served = server_photo(sqlite_server.url, sqlite_tokens["A"], sha)
    assert served.content == data and served.headers["Content-Type"] == kind
    assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_request_headers_over_16_kib_are_refused(sqlite_server):
    # bounded by the server's own HTTP protocol (server/run.py), whichever parser it runs on
    padding = b"X-Padding: " + b"a" * 20_000 + b"\r\n"
    answer = raw(sqlite_server.port, b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n" + padding + b"\r\n", wait=10)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert requests.get(f"{sqlite_server.url}/api/v1/health", timeout=5).status_code == 200
