"""Server throughput: many stations pushing at once, measured at the server, not at the clients.

    .venv/bin/python bench/server_bench.py                          # SQLite, PostgreSQL x 1 and 2 workers, both floors
    .venv/bin/python bench/server_bench.py --db sqlite --seconds 10 --stations 20

Every simulated station lives in ONE asyncio process with its own keep-alive
HTTP/1.1 connection (a few dozen lines of raw asyncio streams: no client
library eats the CPU the server needs).  Two phases per server:

* paced: each station records ``--rate`` events a second and pushes what is
  unacknowledged once a second (100 x 5 = 500 events/s offered, the busy
  warehouse of issue 14); achieved = events acknowledged / ``--seconds``;
* flat out: each station pushes batches of ``--flat-batch`` events back to
  back for ``--flat-seconds``.

For each phase: events/s achieved, p50/p99 per request (request written ->
whole answer read), the server's CPU time per request (user + system of the
server process and its worker processes, from /proc/<pid>/stat), and for
PostgreSQL the database's own CPU per request.  A bare FastAPI endpoint that
parses the same push body and answers a constant (same uvicorn, same
machine, same run) is measured beside it: the floor this server can approach; and
before each database's server, on the same fresh database, the raw-library floor of a push
that stores (bench/raw_floor.py: uvicorn and the bare driver, the same durable transaction).
After each phase the server's events are compared with what every station
sent: any duplicate or missing event is printed and fails the run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sync_bench import server_databases

from server.db import ServerDb
from tests.helpers.local_postgres import free_port

RMA = [sys.executable, "-c", "from terminal.cli import main; main()"]
TICK = os.sysconf("SC_CLK_TCK")

# The floor: same uvicorn, same body model, no storage.
BARE_APP = """
import sys, uvicorn
from fastapi import FastAPI
from sync.protocol import PushBatch
app = FastAPI()
@app.post("/api/v1/events")
def push(batch: PushBatch) -> dict:
    return {"epoch": "bare", "station": "bare", "acked_seq": batch.events[-1].seq if batch.events else batch.after_seq,
            "stored": len(batch.events), "duplicates": 0, "rejected": [], "conflicts": 0}
@app.get("/api/v1/health")
def health() -> dict:
    return {"status": "ok"}
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), workers=1, log_level="warning", access_log=False)
"""


# --- /proc -----------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from "state" on


def family(root: int) -> list[int]:
    """``root`` and every process below it."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields:
                parents.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def postmaster(url: str) -> int | None:
    """The PostgreSQL server process behind ``url`` (its command line names the port), None for SQLite."""
    if not url.startswith("postgresql"):
        return None
    port = f"-p {url.rsplit(':', 1)[1].split('/')[0]}"
    for entry in os.listdir("/proc"):
        try:
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if entry.isdigit() and "postgres" in command and port in command and "-D" in command:
            return int(entry)
    return None


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (fields 14 and 15 of /proc/<pid>/stat), and of
    the first one's children that have exited (16 and 17): PostgreSQL's backends come and go with
    the server's connection pool, and their CPU must not vanish from the count when they do."""
    total = 0
    for i, pid in enumerate(pids):
        fields = _stat(pid)
        if fields:
            total += int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if i == 0 else 0)
    return total / TICK


# --- the load generator ---------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection; just enough HTTP for JSON answers with Content-Length."""

    def __init__(self, port: int, token: str):
        self.port, self.token = port, token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {self.token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await self.writer.drain()
        status = int((await self.reader.readline()).split()[1])
        length, close = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
            elif name.lower() == b"connection" and value.strip().lower() == b"close":
                close = True
        data = await self.reader.readexactly(length)
        if close:
            self.close()
        return status, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = self.reader = None


class Station:
    """A simulated station: its outbox in memory, what the server acknowledged."""

    def __init__(self, name: str, port: int, token: str):
        self.name, self.conn = name, Connection(port, token)
        self.sent: list[tuple[int, str]] = []  # (seq, id) recorded
        self.acked = 0
        self.latencies: list[float] = []
        self.errors = 0

    def record(self, n: int) -> None:
        at = datetime.now(UTC).isoformat(timespec="milliseconds")
        for _ in range(n):
            seq = len(self.sent) + 1
            self.sent.append((seq, uuid.uuid4().hex))
        self._at = at

    def body(self, limit: int) -> bytes:
        events = [
            {
                "seq": seq,
                "id": eid,
                "type": "parcel.unexpected",
                "operator": "op1",
                "at": self._at,
                "payload": {"scanned": f"1Z{self.name}{seq:09d}", "source": "wedge"},
            }
            for seq, eid in self.sent[self.acked : self.acked + limit]
        ]
        return json.dumps({"after_seq": self.acked, "events": events}).encode()

    async def push(self, limit: int) -> None:
        if self.acked >= len(self.sent):
            return  # nothing new: no request
        body = self.body(limit)
        t = time.perf_counter()
        try:
            status, data = await self.conn.post("/api/v1/events", body)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            self.conn.close()
            self.errors += 1
            return
        self.latencies.append(time.perf_counter() - t)
        if status == 200:
            self.acked = max(self.acked, json.loads(data)["acked_seq"])
        else:
            self.errors += 1


async def paced(stations: list[Station], rate: int, seconds: float) -> None:
    """Each station records ``rate`` events a second and pushes what is unacknowledged once a second."""

    async def run(st: Station, offset: float) -> None:
        await asyncio.sleep(offset)
        start = time.perf_counter()
        for tick in range(int(seconds)):
            st.record(rate)
            await st.push(10_000)
            await asyncio.sleep(max(0.0, start + tick + 1 - time.perf_counter()))
        for _ in range(20):  # the last ones, if an answer was refused
            if st.acked >= len(st.sent):
                break
            await st.push(10_000)
            await asyncio.sleep(0.2)

    n = len(stations)
    await asyncio.gather(*(run(st, i / n) for i, st in enumerate(stations)))  # not all in step


async def flat_out(stations: list[Station], batch: int, seconds: float) -> None:
    """Each station pushes ``batch`` new events as soon as its last push was answered."""
    deadline = time.perf_counter() + seconds

    async def run(st: Station) -> None:
        while time.perf_counter() < deadline:
            if st.acked >= len(st.sent):
                st.record(batch)
            await st.push(batch)
        for _ in range(20):
            if st.acked >= len(st.sent):
                break
            await st.push(10_000)

    await asyncio.gather(*(run(st) for st in stations))


async def run_phase(phase: str, stations: list[Station], a: argparse.Namespace) -> None:
    try:
        if phase == "paced":
            await paced(stations, a.rate, a.seconds)
        else:
            await flat_out(stations, a.flat_batch, a.flat_seconds)
    finally:
        for st in stations:
            st.conn.close()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000 if ordered else 0.0


# --- servers ------------------------------------------------------------------------


def wait_ready(proc: subprocess.Popen, port: int, seconds: float = 30) -> None:
    for _ in range(int(seconds / 0.05)):
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).raise_for_status()
            return
        except requests.RequestException:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("server did not start")


def start_rma_server(url: str, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [*RMA, "server", "--db", url, "--port", str(port), "--rate", "0", "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_ready(proc, port)
    return proc, port


def start_raw(url: str, stations: int) -> tuple[subprocess.Popen, int]:
    """The raw-library floor (bench/raw_floor.py) over ``url``: uvicorn and the driver, no server code."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("raw_floor.py")), str(port), url, str(stations)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_ready(proc, port)
    return proc, port


def start_bare() -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", BARE_APP, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=Path(__file__).resolve().parent.parent,
    )
    wait_ready(proc, port)
    return proc, port


def measure(
    label: str,
    proc: subprocess.Popen,
    port: int,
    tokens: dict[str, str],
    a: argparse.Namespace,
    db: ServerDb | None,
    pg_pid: int | None,
) -> list[dict]:
    rows = []
    for phase in ("paced", "flat"):
        stations = [Station(name, port, token) for name, token in tokens.items()]
        if db is not None:  # a phase goes on where the last left each station's stream
            for st in stations:
                st.sent = db.station_events(st.name)
                st.acked = len(st.sent)
        server_pids, pg_pids = family(proc.pid), family(pg_pid) if pg_pid else []
        cpu0, pg0, t0 = cpu_seconds(server_pids), cpu_seconds(pg_pids), time.perf_counter()
        before = sum(len(st.sent) for st in stations)
        asyncio.run(run_phase(phase, stations, a))
        took = time.perf_counter() - t0
        # the families again: backends (and their CPU) that came during the phase count too
        server_pids, pg_pids = family(proc.pid), family(pg_pid) if pg_pid else []
        cpu, pg = cpu_seconds(server_pids) - cpu0, cpu_seconds(pg_pids) - pg0
        requests_made = sum(len(st.latencies) for st in stations)
        lat = [x for st in stations for x in st.latencies]
        sent = sum(len(st.sent) for st in stations) - before
        dup = lost = 0
        if db is not None:
            for st in stations:
                held = db.station_events(st.name)
                dup += len(held) - len({seq for seq, _ in held})
                lost += len(set(st.sent) - set(held))
        rows.append(
            {
                "server": label,
                "phase": phase,
                "events_per_s": sent / (a.seconds if phase == "paced" else took),
                "offered": len(stations) * a.rate if phase == "paced" else None,
                "p50": pct(lat, 50),
                "p99": pct(lat, 99),
                "requests": requests_made,
                "cpu_ms": 1000 * cpu / max(1, requests_made),
                "pg_ms": 1000 * pg / max(1, requests_made),
                "events_per_request": sent / max(1, requests_made),
                "errors": sum(st.errors for st in stations),
                "dup": dup,
                "lost": lost,
            }
        )
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--workers", default="1,2", help="server processes to try on PostgreSQL, comma separated")
    p.add_argument("--stations", type=int, default=100)
    p.add_argument("--rate", type=int, default=5, help="paced: events per second per station")
    p.add_argument("--seconds", type=float, default=20, help="paced: how long")
    p.add_argument("--flat-batch", type=int, default=100, help="flat out: events per push")
    p.add_argument("--flat-seconds", type=float, default=10, help="flat out: how long")
    p.add_argument("--no-bare", action="store_true", help="skip the bare FastAPI floor")
    p.add_argument("--no-raw", action="store_true", help="skip the raw-library floor of each database")
    a = p.parse_args()

    rows: list[dict] = []
    if not a.no_bare:
        proc, port = start_bare()
        try:
            rows += measure(
                "bare FastAPI, 1 process", proc, port, {f"st{i:03d}": "x" for i in range(a.stations)}, a, None, None
            )
        finally:
            proc.terminate()
            proc.wait(20)
    kinds = ["sqlite", "postgresql"] if a.db == "both" else [a.db]
    for kind in kinds:
        for i, workers in enumerate([1] if kind == "sqlite" else [int(w) for w in a.workers.split(",")]):
            for _, url, work in server_databases(kind):  # a fresh database (cluster) per run, removed after
                if i == 0 and not a.no_raw:  # the floor of this database: uvicorn and the driver alone
                    proc, port = start_raw(str(work / "raw.db") if kind == "sqlite" else url, a.stations)
                    try:
                        names = {f"st{n:03d}": f"st{n:03d}" for n in range(a.stations)}  # the token is the name
                        rows += measure(f"raw {kind} floor, 1 process", proc, port, names, a, None, postmaster(url))
                    finally:
                        proc.terminate()
                        proc.wait(20)
                db = ServerDb(url)
                tokens = {f"st{i:03d}": db.add_station(f"st{i:03d}") for i in range(a.stations)}
                proc, port = start_rma_server(url, workers)
                try:
                    rows += measure(
                        f"{kind}, {workers} process{'es' if workers > 1 else ''}",
                        proc, port, tokens, a, db, postmaster(url),
                    )  # fmt: skip
                finally:
                    proc.terminate()
                    proc.wait(20)
                    db.close()

    print(
        f"machine: {os.cpu_count()} cores; {a.stations} stations in one asyncio process; paced {a.rate} events/s "
        f"each for {a.seconds:.0f} s, pushed every second; flat out {a.flat_batch} events per push for "
        f"{a.flat_seconds:.0f} s"
    )
    print(
        f"{'server':28} {'phase':6} {'events/s':>9} {'offered':>8} {'p50 ms':>7} {'p99 ms':>7} {'requests':>8} "
        f"{'ev/req':>6} {'server CPU ms/req':>17} {'db CPU ms/req':>13} {'errors':>6} dup/lost"
    )
    for r in rows:
        print(
            f"{r['server']:28} {r['phase']:6} {r['events_per_s']:9.0f} {r['offered'] or '':>8} {r['p50']:7.1f} "
            f"{r['p99']:7.1f} {r['requests']:8d} {r['events_per_request']:6.1f} {r['cpu_ms']:17.2f} "
            f"{r['pg_ms']:13.2f} {r['errors']:6d} {r['dup']}/{r['lost']}"
        )
    sys.exit(1 if any(r["dup"] or r["lost"] for r in rows) else 0)


if __name__ == "__main__":
    main()
