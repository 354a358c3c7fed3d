"""Evidence photos reach the server after their events, on their own endpoint; one it lost is sent again."""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import pytest
import requests
import sqlalchemy as sa

from server.db import events as server_events
from server.db import photos as server_photos
from sync.client import SyncClient
from sync.protocol import MAX_PHOTO_BYTES
from sync.store import Inspection
from tests.helpers.server_queries import row_counts

CHECKLIST_HASH = "ab" * 32


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def image(ext: str, seed: int) -> bytes:
    """A real, small photo (random pixels, so every seed has its own hash)."""
    pixels = np.random.default_rng(seed).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    ok, encoded = cv2.imencode(ext, pixels)
    assert ok
    return encoded.tobytes()


def camera_photo(store, seed: int = 1) -> tuple[str, bytes]:
    """A photo as the station camera keeps it: photos/<sha256>.jpg beside the database."""
    data = image(".jpg", seed)
    sha = hashlib.sha256(data).hexdigest()
    folder = store.path.parent / "photos"
    folder.mkdir(exist_ok=True)
    (folder / f"{sha}.jpg").write_bytes(data)
    return sha, data


def inspect_with_photos(store, photos: list[dict], code: str = "RMA-1") -> int:
    """Receive ``code`` and inspect its one item with ``photos``; returns the item.inspected event's seq."""
    with store.write() as conn:
        store.upsert_rma(
            conn,
            {"rma_code": code, "status": "authorized"},
            [{"sku": "APP-1", "gtin": "4006381333931", "qty": 1, "category": "apparel"}],
        )
    store.receive(code, "A", "anna")
    saved = store.save_inspection(
        Inspection(
            rma_code=code,
            line_no=1,
            checklist_id="apparel",
            checklist_hash=CHECKLIST_HASH,
            answers=({"item": "stains", "kind": "pass_fail", "answer": "fail", "failed": True, "severity": "major"},),
            suggested="scrapped",
            final="scrapped",
            started_at="2026-11-21T10:00:00.000+00:00",
            photos=tuple(photos),
        ),
        "A",
        "qc1",
    )
    return saved.event_seq


def photo_record(sha: str, path, data: bytes, item: str = "stains") -> dict:
    return {"item": item, "sha256": sha, "path": str(path), "bytes": len(data)}


def server_photo(url: str, token: str, sha: str) -> requests.Response:
    return requests.get(f"{url}/api/v1/photos/{sha}", headers=auth(token), timeout=10)


def put_photo(url: str, token: str | None, sha: str, data, content_type: str = "image/jpeg") -> requests.Response:
    headers = {"Content-Type": content_type} | (auth(token) if token else {})
    return requests.put(f"{url}/api/v1/photos/{sha}", data=data, headers=headers, timeout=30)


# --- the station's round ---------------------------------------------------------------


def test_inspection_photos_reach_the_server_after_their_event(storage, server, tokens, make_station, tmp_path):
    a = make_station("A")
    cam_sha, cam_data = camera_photo(a)
    phone = image(".png", 2)  # a file the inspector named, outside the photo folder
    phone_sha = hashlib.sha256(phone).hexdigest()
    (tmp_path / "phone").mkdir()
    (tmp_path / "phone" / "IMG_0001.png").write_bytes(phone)
    seq = inspect_with_photos(
        a,
        [
            photo_record(cam_sha, a.path.parent / "photos" / f"{cam_sha}.jpg", cam_data),
            photo_record(phone_sha, tmp_path / "phone" / "IMG_0001.png", phone, item="packaging"),
            {"item": "label", "exception": "no camera at this station"},
        ],
    )

    report = SyncClient(server.url, tokens["A"]).sync(a)

    assert seq in [s for s, _ in storage.db.station_events("A")]
    assert (report.photos_sent, report.photos_waiting, report.photo_problems) == (2, 0, [])
    for sha, data, kind in ((cam_sha, cam_data, "image/jpeg"), (phone_sha, phone, "image/png")):
        answer = server_photo(server.url, tokens["erp"], sha)
        assert answer.status_code == 200 and answer.headers["content-type"] == kind
        assert hashlib.sha256(answer.content).hexdigest() == sha and answer.content == data
    with storage.db.read() as conn:  # the photos arrived after the event that refers to them
        event_at = conn.execute(
            sa.select(server_events.c.server_at).where(server_events.c.seq == seq, server_events.c.station == "A")
        ).scalar_one()
        photo_at = conn.execute(sa.select(sa.func.min(server_photos.c.received_at))).scalar_one()
    assert photo_at >= event_at
    assert "sent 2 photos, 0 waiting" in report.describe()
    again = SyncClient(server.url, tokens["A"]).sync(a)
    assert again.photos_sent == 0 and row_counts(storage.db)["photos"] == 2


def test_photos_of_unacknowledged_events_are_not_sent(sqlite_storage, sqlite_server, sqlite_tokens, make_station):
    a = make_station("A")
    sha, data = camera_photo(a)
    inspect_with_photos(a, [photo_record(sha, a.path.parent / "photos" / f"{sha}.jpg", data)])
    client = SyncClient(sqlite_server.url, sqlite_tokens["A"])
    report = client.send_photos(a)  # nothing pushed yet: the server holds no event referring to it
    assert report.photos_sent == 0 and row_counts(sqlite_storage.db)["photos"] == 0
    assert client.sync(a).photos_sent == 1 and sqlite_storage.db.photo(sha)[1] == data


def test_a_photo_the_server_lost_is_sent_again(storage, server, tokens, make_station):
    a = make_station("A")
    sha, data = camera_photo(a)
    inspect_with_photos(a, [photo_record(sha, a.path.parent / "photos" / f"{sha}.jpg", data)])
    assert SyncClient(server.url, tokens["A"]).sync(a).photos_sent == 1
    with storage.db.write() as conn:  # the server's storage loses it
        conn.execute(server_photos.delete())
    assert server_photo(server.url, tokens["A"], sha).status_code == 404

    # within the recheck interval the station trusts the server's earlier word; past it, it asks again
    assert SyncClient(server.url, tokens["A"]).sync(a).photos_sent == 0
    report = SyncClient(server.url, tokens["A"], photo_recheck=0).sync(a)
    assert report.photos_sent == 1
    assert server_photo(server.url, tokens["A"], sha).content == data


def test_a_restored_server_gets_the_photos_its_backup_lacks(storage, server, tokens, make_station):
    a = make_station("A")
    storage.backup()  # before the inspection
    sha, data = camera_photo(a)
    inspect_with_photos(a, [photo_record(sha, a.path.parent / "photos" / f"{sha}.jpg", data)])
    client = SyncClient(server.url, tokens["A"])
    assert client.sync(a).photos_sent == 1
    server.stop()
    db = storage.restore()
    assert db.photo(sha) is None
    db.new_epoch()
    server.db = db
    server.start()
    report = client.sync(a)  # the default recheck interval: the new epoch alone makes it ask again
    assert report.epoch_changed and report.photos_sent == 1
    assert db.photo(sha) == ("image/jpeg", data)


def test_a_photo_file_gone_from_the_station_is_reported_and_events_still_sync(
    sqlite_storage, sqlite_server, sqlite_tokens, make_station, tmp_path
):
    a = make_station("A")
    sha, data = camera_photo(a)
    path = a.path.parent / "photos" / f"{sha}.jpg"
    changed = image(".jpg", 7)
    changed_sha = hashlib.sha256(changed).hexdigest()
    edited = tmp_path / "edited.jpg"
    edited.write_bytes(changed)
    seq = inspect_with_photos(
        a, [photo_record(sha, path, data), photo_record(changed_sha, edited, changed, item="packaging")]
    )
    inspect_with_photos(a, [], code="RMA-2")
    path.unlink()
    edited.write_bytes(image(".jpg", 8))  # edited after the inspection

    report = SyncClient(sqlite_server.url, sqlite_tokens["A"]).sync(a)

    assert a.acked_seq() == a.last_seq() and seq in [s for s, _ in sqlite_storage.db.station_events("A")]
    assert report.photos_sent == 0 and len(report.photo_problems) == 2
    gone = next(p for p in report.photo_problems if sha[:12] in p)
    assert "missing" in gone and str(path) in gone
    assert "changed since the inspection" in next(p for p in report.photo_problems if changed_sha[:12] in p)
    assert "PHOTO PROBLEM" in report.describe() and "(and 1 more)" in report.describe()
    assert {p["sha256"] for p in a.photo_problems()} == {sha, changed_sha}
    assert row_counts(sqlite_storage.db)["photos"] == 0

    path.write_bytes(data)  # the file is put back: the next check sends it and clears the problem
    report = SyncClient(sqlite_server.url, sqlite_tokens["A"], photo_recheck=0).sync(a)
    assert report.photos_sent == 1 and sqlite_storage.db.photo(sha)[1] == data
    assert [p["sha256"] for p in a.photo_problems()] == [changed_sha]


def test_server_unreachable_for_photos_keeps_them_waiting(
    sqlite_storage, sqlite_server, sqlite_tokens, make_station, fault_proxy
):
    a = make_station("A")
    sha, data = camera_photo(a)
    inspect_with_photos(a, [photo_record(sha, a.path.parent / "photos" / f"{sha}.jpg", data)])
    # requests: GET /station, POST /events, GET /changes, POST /photos/missing, then every PUT fails
    proxy = fault_proxy(sqlite_server.port, lambda n: "500" if n >= 4 else "pass")
    report = SyncClient(proxy.url, sqlite_tokens["A"], attempts=2, backoff=0.01).sync(a)
    assert proxy.counts["500"] == 2
    assert a.acked_seq() == a.last_seq() and report.waiting == 0
    assert report.photos_sent == 0 and report.photos_waiting == 1 and "500" in report.photo_error
    report = SyncClient(sqlite_server.url, sqlite_tokens["A"]).sync(a)
    assert (report.photos_sent, report.photos_waiting) == (1, 0)


# --- the endpoint --------------------------------------------------------------------


def test_photo_endpoint_checks_hash_size_type_and_token(sqlite_storage, sqlite_server, sqlite_tokens):
    url, token = sqlite_server.url, sqlite_tokens["A"]
    data = image(".jpg", 3)
    sha = hashlib.sha256(data).hexdigest()
    other = hashlib.sha256(b"something else").hexdigest()

    assert put_photo(url, None, sha, data).status_code == 401
    assert put_photo(url, "not-a-token", sha, data).status_code == 401
    assert put_photo(url, sqlite_tokens["erp"], sha, data).status_code == 403
    wrong = put_photo(url, token, other, data)
    assert wrong.status_code == 422 and sha in wrong.json()["detail"]
    assert put_photo(url, token, "not-a-hash", data).status_code == 422
    assert put_photo(url, token, sha, data, "application/pdf").status_code == 415
    assert put_photo(url, token, sha, data, "image/png").status_code == 422  # a JPEG sent as PNG
    text = b"not an image at all"
    assert put_photo(url, token, hashlib.sha256(text).hexdigest(), text).status_code == 422
    assert row_counts(sqlite_storage.db)["photos"] == 0

    first, second = put_photo(url, token, sha, data), put_photo(url, sqlite_tokens["B"], sha, data)
    assert (first.status_code, first.json()["stored"]) == (201, True)
    assert (second.status_code, second.json()["stored"]) == (200, False)
    assert row_counts(sqlite_storage.db)["photos"] == 1

    missing = requests.post(
        f"{url}/api/v1/photos/missing", json={"sha256": [sha, other]}, headers=auth(token), timeout=10
    )
    assert missing.json() == {"sha256": [other]}
    assert requests.post(f"{url}/api/v1/photos/missing", json={"sha256": [sha]}, timeout=10).status_code == 401
    assert server_photo(url, token, other).status_code == 404
    assert requests.get(f"{url}/api/v1/photos/{sha}", timeout=10).status_code == 401


def test_oversized_photo_gets_413_with_a_clear_line(sqlite_storage, sqlite_server, sqlite_tokens):
    big = b"\xff\xd8\xff" + bytes(MAX_PHOTO_BYTES)
    answer = put_photo(sqlite_server.url, sqlite_tokens["A"], hashlib.sha256(big).hexdigest(), big)
    assert answer.status_code == 413 and "photo larger than" in answer.json()["detail"]
    chunked = put_photo(
        sqlite_server.url,
        sqlite_tokens["A"],
        hashlib.sha256(big).hexdigest(),
        (big[i : i + 2**20] for i in range(0, len(big), 2**20)),
    )  # no Content-Length
    assert chunked.status_code == 413 and "photo larger than" in chunked.json()["detail"]
    assert row_counts(sqlite_storage.db)["photos"] == 0
    # the limit is the photo endpoint's own: the events' body limit is smaller
    real = image(".jpg", 4)
    just_fits = real + bytes(MAX_PHOTO_BYTES - len(real))  # a real JPEG (the server decodes it), padded
    sha = hashlib.sha256(just_fits).hexdigest()
    assert put_photo(sqlite_server.url, sqlite_tokens["A"], sha, just_fits).status_code == 201
    assert len(sqlite_storage.db.photo(sha)[1]) == MAX_PHOTO_BYTES


@pytest.mark.parametrize("size", [MAX_PHOTO_BYTES + 1])
def test_a_station_photo_over_the_limit_is_a_problem_not_a_crash(
    sqlite_storage, sqlite_server, sqlite_tokens, make_station, tmp_path, size
):
    a = make_station("A")
    big = b"\xff\xd8\xff" + bytes(size - 3)
    sha = hashlib.sha256(big).hexdigest()
    (tmp_path / "huge.jpg").write_bytes(big)
    inspect_with_photos(a, [photo_record(sha, tmp_path / "huge.jpg", big)])
    report = SyncClient(sqlite_server.url, sqlite_tokens["A"]).sync(a)
    assert a.acked_seq() == a.last_seq()
    assert len(report.photo_problems) == 1 and "too big" in report.photo_problems[0]


def test_rma_sync_prints_a_photo_problem_and_exits_0(sqlite_storage, sqlite_server, sqlite_tokens, make_station):
    import os
    import subprocess
    import sys

    a = make_station("A")
    sha, data = camera_photo(a)
    path = a.path.parent / "photos" / f"{sha}.jpg"
    inspect_with_photos(a, [photo_record(sha, path, data)])
    path.unlink()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from terminal.cli import main; main()",
            "sync",
            "--once",
            "--db",
            str(a.path),
            "--server",
            sqlite_server.url,
            "--token",
            sqlite_tokens["A"],
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"RMA_STATION_CONFIG": os.devnull},
    )
    assert done.returncode == 0, done.stderr
    assert "PHOTO PROBLEM" in done.stdout and "missing" in done.stdout and "0 waiting" in done.stdout
    assert len(sqlite_storage.db.station_events("A")) == a.last_seq()


def test_the_same_photo_sent_at_once_by_many_is_stored_once(storage, server, tokens):
    from concurrent.futures import ThreadPoolExecutor

    data = image(".jpg", 11)
    sha = hashlib.sha256(data).hexdigest()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: put_photo(server.url, tokens["AB"[i % 2]], sha, data), range(8)))
    assert all(a.status_code in (200, 201) for a in answers), [a.text for a in answers]
    assert sum(a.json()["stored"] for a in answers) == 1
    assert row_counts(storage.db)["photos"] == 1 and storage.db.photo(sha) == ("image/jpeg", data)
