"""Kill a writer with SIGKILL mid-stream, again and again: every acknowledged event survives."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

from sync.store import Store

WRITER = textwrap.dedent("""
    import sys
    from sync.store import Store
    store = Store(sys.argv[1])
    n = int(sys.argv[2])
    while True:
        n += 1
        if n % 3 == 0:
            receipt = store.receive(f"RMA-{n % 500}", "crash-bench", "op")  # projection + event
            seq = receipt.event_seq
        else:
            seq = store.record("note.added", "crash-bench", "op", {"n": n})
        if seq is not None:  # ALREADY RECEIVED writes nothing
            print(seq, flush=True)  # acknowledged only after the commit returned
""")


def test_sigkill_mid_stream_loses_no_acknowledged_event(tmp_path):
    db = tmp_path / "crash.db"
    with Store(db) as store, store.write() as conn:
        for n in range(500):
            store.upsert_rma(conn, {"rma_code": f"RMA-{n}", "status": "authorized"}, [{"sku": "S", "qty": 1}])
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    rng = random.Random(20261121)
    acknowledged: set[int] = set()
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    for round_no in range(25):
        proc = subprocess.Popen(
            [sys.executable, str(script), str(db), str(round_no * 100_000)], stdout=subprocess.PIPE, text=True, env=env
        )
        # the kill comes at a random moment after the writer's first commit (not after its start,
        # which on a loaded machine can take longer than the whole window)
        first = proc.stdout.readline()
        if first:
            acknowledged.add(int(first))
        deadline = time.monotonic() + rng.uniform(0.1, 0.6)
        while first and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            acknowledged.add(int(line))
        proc.send_signal(signal.SIGKILL)
        # lines already written before the kill were acknowledged too
        for line in proc.stdout:
            acknowledged.add(int(line))
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
    assert len(acknowledged) > 100  # the writer really wrote
    with Store(db) as store:
        assert store.integrity_check() == "ok"
        present = {r[0] for r in store.conn.execute("SELECT seq FROM outbox")}
        assert acknowledged <= present
        # the projection agrees with the events: every received RMA has exactly one receipt event
        received = {r[0] for r in store.conn.execute("SELECT code FROM rmas WHERE stage = 'received'")}
        events = [r[0] for r in store.conn.execute("SELECT rma_code FROM outbox WHERE type = 'rma.received'")]
        assert sorted(events) == sorted(received)
