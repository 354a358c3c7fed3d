"""`rma conflicts`: what a supervisor sees after two stations received the same parcel offline."""

from __future__ import annotations

import subprocess
import sys

from sync.client import SyncClient
from tests.sync.test_server_api import post_rmas, rma


def test_conflicts_lists_what_the_server_reported(sqlite_server, sqlite_tokens, make_station, tmp_path):
    assert post_rmas(sqlite_server.url, sqlite_tokens["erp"], [rma("RMA-77")]).status_code == 200
    a, b = make_station("A"), make_station("B")
    clients = {
        "A": SyncClient(sqlite_server.url, sqlite_tokens["A"]),
        "B": SyncClient(sqlite_server.url, sqlite_tokens["B"]),
    }
    for store, name in ((a, "A"), (b, "B")):
        clients[name].sync(store)
        store.receive("RMA-77", name, "op1")  # both offline
    for store, name in ((a, "A"), (b, "B"), (a, "A")):
        clients[name].sync(store)

    def conflicts(store) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-m", "terminal", "conflicts", "--db", str(store.path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        return done.stdout.splitlines()

    for store in (a, b):
        [line] = conflicts(store)
        assert line.startswith("CONFLICT received_twice RMA-77 stations A, B")
    fresh = make_station("C")
    assert conflicts(fresh) == ["no conflicts, no refused events (as of the last sync)"]
