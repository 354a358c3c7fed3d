"""The supervisors' view at scale: every report, page and export over real HTTP on a big PostgreSQL database.

    nice .venv/bin/python bench/supervisor_bench.py                              # 1,000,000 RMAs, 10,000,000 events
    nice .venv/bin/python bench/supervisor_bench.py --rmas 20000 --events 200000  # the quick run (< 1 min)

Builds once (cached: a PostgreSQL cluster folder under ``bench/out/``, started again on the next
run) a server database through the real schema (``ServerDb.create``) with ``--rmas`` RMAs and about
``--events`` events over ``--days`` days, written with ``INSERT ... SELECT`` over
``generate_series`` (the events' indexes are dropped while loading and made again after):

* RMAs imported with a category, a SKU of 5,000 (lot and supplier from it), a customer of
  ``rmas / 5`` (so some return often), a reason and a refund policy; 1% cancelled;
* per RMA a receipt (1 to 7 days after authorisation; 0.5% of the older ones never arrive),
  one to five units, each ``item.inspected`` (checks, a grade, a channel, the reason confirmed or
  not, a license plate, for some a serial) 1 to 30 hours later and ``unit.put_away`` into one of
  500 bins 0.5 to 10 hours after that, ``rma.inspected``, and filler events the floor also sends
  (``parcel.attached``, ``container.closed``, ``bin.counted``, ``item.mismatch``) up to the event
  count; what would happen after now has not happened (the open backlog), and a few steps
  stall (overdue);
* the tables production keeps beside the events, as the push's projection and the analytics
  fold would have left them: ``inspected_items``, ``changes``, ``customer_returns``, the handoff's
  feed, units, bins, items and refund decisions, and the analytics fact tables with the fold's
  cursor at the end (then ``analytics.refresh`` runs, as a report would, and finds nothing left).

Then it starts the real server (``rma server --db URL --workers 2``), signs a supervisor in
(``rma server add-user``) and times over HTTP every API report and every web page and CSV
export (p50 and max of ``--repeat`` requests each), then one round of the background jobs in
this process: the SLA watch (escalation), the analytics fold after a push of 500 new events, the
digest.  Each row is printed with the 1 s target beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server_bench import wait_ready  # noqa: E402  (bench/: the script's own folder)

from qc_checklists.reasons import reason_code  # noqa: E402
from tests.helpers.local_postgres import LocalPostgres, PostgresUnavailable, free_port  # noqa: E402

OUT = ROOT / "bench" / "out"
RMA = [sys.executable, "-c", "from terminal.cli import main; main()"]
TARGET = 1.0  # seconds: issue 12 part 6
SUPERVISOR = ("sup", "supervisor-password-1")
CATEGORIES = ("electronics", "apparel", "shoes", "home", "toys", "general")
REASONS = ("defective", "wrong size", "not as described", "damaged in transit", "changed mind", "")
CHECKS = ("power_on", "screen", "packaging", "accessories", "seams", "sole")
STATIONS = 12
BUILD_VERSION = "2"  # a change to the build's data makes a new cluster


# --- a cluster that stays -----------------------------------------------------------------


class KeptPostgres(LocalPostgres):
    """A :class:`LocalPostgres` in a fixed folder that is kept: started again when it is there."""

    def __init__(self, folder: Path):
        super().__init__(fsync=False)
        shutil.rmtree(self.dir, ignore_errors=True)  # the temporary folder the base class made
        self.dir = folder
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.run_as:
            import pwd

            account = pwd.getpwnam(self.run_as[2])
            os.chown(self.dir, account.pw_uid, account.pw_gid)
        # modest: the machine has 2 cores and other work beside this
        self._options = (
            f"-k {self.dir} -p {self.port} -c listen_addresses=127.0.0.1 -c max_connections=100 "
            "-c shared_buffers=256MB -c work_mem=16MB -c maintenance_work_mem=256MB -c effective_cache_size=2GB "
            "-c max_wal_size=4GB -c checkpoint_timeout=30min -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_parallel_workers_per_gather=1 -c jit=off"
        )

    @property
    def built(self) -> bool:
        return (self.dir / "data" / "PG_VERSION").exists()

    def start(self) -> KeptPostgres:
        if not self.built:
            self._run(
                str(self.bindir / "initdb"), "-D", str(self.dir / "data"), "-A", "trust", "-U", self.user,
                "-E", "UTF8", "--no-sync",
            )  # fmt: skip
        (self.dir / "data" / "postmaster.pid").unlink(missing_ok=True)  # a run that was killed
        self.resume()
        return self

    def stop(self) -> None:
        """Stop the cluster and keep its folder."""
        if (self.dir / "data" / "postmaster.pid").exists():
            self.halt()


# --- the build -------------------------------------------------------------------------------

ISO = """to_char(({0}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') || '+00:00'"""


def iso(column: str) -> str:
    return ISO.format(column)


def event_id(pk: str) -> str:
    """The event id of the event with this pk (a UUID's shape, from its md5)."""
    m = f"md5({pk}::text || 'ev')"
    return (
        f"substr({m}, 1, 8) || '-' || substr({m}, 9, 4) || '-4' || substr({m}, 14, 3) || '-a' || substr({m}, 18, 3)"
        f" || '-' || substr({m}, 21, 12)"
    )


def station(pk: str) -> str:
    return f"'st' || lpad(({h(pk, 21, STATIONS)} + 1)::text, 2, '0')"


def operator(pk: str) -> str:
    return f"'op' || lpad(({h(pk, 22, 60)})::text, 2, '0')"


def h(n: str, salt: int, mod: int) -> str:
    """A cheap deterministic pseudo-random number in 0..mod-1 from an integer expression."""
    return f"((({n})::bigint * {2654435761 + 2 * salt} + {salt * 7919}) % 4294967296 % {mod})"


def build_sql(rmas: int, events: int, days: int, now: datetime) -> list[tuple[str, str]]:
    """The build's statements, (what, sql), in order."""
    start = now - timedelta(days=days)
    reason_cases = " ".join(f"WHEN {i} THEN '{r}'" for i, r in enumerate(REASONS))
    code_cases = " ".join(f"WHEN {i} THEN '{reason_code(r)}'" for i, r in enumerate(REASONS))
    category_cases = " ".join(f"WHEN {i} THEN '{c}'" for i, c in enumerate(CATEGORIES))
    now_sql = f"'{now.isoformat()}'::timestamptz"
    span = days * 86400
    steps: list[tuple[str, str]] = []
    # one row per RMA: what happened to it and when
    steps.append(
        (
            "b_rma",
            f"""
        CREATE UNLOGGED TABLE b_rma AS
        SELECT i, code, created, units, sku_no, category, reason_no, customer_no, refund_on_receipt, cancelled,
               CASE WHEN cancelled OR lost OR received > {now_sql} THEN NULL ELSE received END AS received
        FROM (
          SELECT i, 'RMA-' || lpad(i::text, 8, '0') AS code,
                 created,
                 1 + {h("i", 1, 5)} AS units,
                 {h("i", 2, 5000)} AS sku_no,
                 CASE {h("i", 2, 5000)} % {len(CATEGORIES)} {category_cases} END AS category,
                 {h("i", 3, len(REASONS))} AS reason_no,
                 {h("i", 4, max(1, rmas // 5))} AS customer_no,
                 {h("i", 5, 10)} = 0 AS refund_on_receipt,
                 {h("i", 6, 100)} = 0 AS cancelled,
                 ({h("i", 7, 200)} = 0 AND created < {now_sql} - interval '20 days') AS lost,
                 created + make_interval(secs => 86400 + {h("i", 8, 6 * 86400)}) AS received
          FROM (SELECT i, '{start.isoformat()}'::timestamptz + make_interval(secs => {span}.0 * i / {rmas}) AS created
                FROM generate_series(1, {rmas}) AS i) AS t
        ) AS r""",
        )
    )
    # one row per unit of a received RMA: its inspection and put-away
    steps.append(
        (
            "b_unit",
            f"""
        CREATE UNLOGGED TABLE b_unit AS
        SELECT i, code, unit_no, sku_no, category, reason_no, received, grade, channel, confirmed, fails, serial,
               (ARRAY{list(CHECKS)})[1 + (i + unit_no) % {len(CHECKS)}] AS failed_item,
               md5(category || CASE WHEN inspected < {now_sql} - interval '{days // 2} days' THEN 'v1' ELSE 'v2' END)
                 AS cl_hash,
               'LPN-' || lpad(i::text, 8, '0') || '-' || unit_no AS lpn,
               CASE WHEN inspected > {now_sql} OR stall_inspect THEN NULL ELSE inspected END AS inspected,
               CASE WHEN inspected > {now_sql} OR stall_inspect OR put_away > {now_sql} OR stall_put THEN NULL
                    ELSE put_away END AS put_away,
               'B-' || lpad(({h("i * 7 + unit_no", 9, 500)})::text, 3, '0') AS bin
        FROM (
          SELECT r.i, r.code, u AS unit_no, r.sku_no, r.category, r.reason_no, r.received,
                 r.received + make_interval(secs => 3600 + {h("r.i * 7 + u", 10, 29 * 3600)}) AS inspected,
                 ({h("r.i", 11, 500)} = 0 AND r.received < {now_sql} - interval '3 days') AS stall_inspect,
                 ({h("r.i * 7 + u", 12, 500)} = 0) AS stall_put,
                 r.received + make_interval(secs => 3600 + {h("r.i * 7 + u", 10, 29 * 3600)}
                                               + 1800 + {h("r.i * 7 + u", 13, 34200)}) AS put_away,
                 CASE WHEN {h("r.i * 7 + u", 14, 100)} < 60 THEN 'resellable'
                      WHEN {h("r.i * 7 + u", 14, 100)} < 85 THEN 'discounted' ELSE 'scrapped' END AS grade,
                 CASE WHEN {h("r.i * 7 + u", 14, 100)} < 60 THEN 'restock'
                      WHEN {h("r.i * 7 + u", 14, 100)} < 78 THEN 'b_stock'
                      WHEN {h("r.i * 7 + u", 14, 100)} < 85 THEN 'refurbish'
                      WHEN {h("r.i * 7 + u", 14, 100)} < 92 THEN 'return_to_vendor'
                      WHEN {h("r.i * 7 + u", 14, 100)} < 97 THEN 'recycle' ELSE 'destroy' END AS channel,
                 CASE {h("r.i * 7 + u", 15, 5)} WHEN 0 THEN 'no' WHEN 1 THEN 'unclear' WHEN 2 THEN ''
                      ELSE 'yes' END AS confirmed,
                 {h("r.i * 7 + u", 16, 8)} AS fails,
                 CASE WHEN r.category <> 'electronics' THEN ''
                      WHEN {h("r.i * 7 + u", 17, 1000)} = 0 THEN 'SN' || lpad(((r.i - 1) * 7 + u)::text, 9, '0')
                      ELSE 'SN' || lpad((r.i * 7 + u)::text, 9, '0') END AS serial
          FROM b_rma AS r, generate_series(1, r.units) AS u
          WHERE r.received IS NOT NULL
        ) AS t""",
        )
    )
    steps.append(("b_unit key", "CREATE INDEX ON b_unit (i, unit_no)"))
    # the events: one row each, pk in the order the server stored them (by time)
    base = """(SELECT count(*) FROM b_rma WHERE received IS NOT NULL) * 2
               + (SELECT count(*) FROM b_unit WHERE inspected IS NOT NULL)
               + (SELECT count(*) FROM b_unit WHERE put_away IS NOT NULL)"""
    steps.append(
        (
            "b_events",
            f"""
        CREATE UNLOGGED TABLE b_events AS
        SELECT row_number() OVER (ORDER BY at, i, n) AS pk, type, rma_code, at, payload, i, n, lpn, bin, grade, channel
        FROM (
          SELECT 'rma.received' AS type, code AS rma_code, received AS at,
                 '{{"parcel_key": "SF' || lpad(i::text, 10, '0') || '"}}' AS payload, i, 0 AS n,
                 NULL AS lpn, NULL AS bin, NULL AS grade, NULL AS channel
          FROM b_rma WHERE received IS NOT NULL
          UNION ALL
          SELECT 'item.inspected', code, inspected,
                 '{{"answers": [' ||
                   CASE WHEN fails = 1 THEN '{{"failed": true, "item": "' || failed_item || '", "severity": "major"}}, '
                        WHEN fails = 2 THEN '{{"failed": true, "item": "packaging", "severity": "minor"}}, ' ELSE '' END
                   || '{{"failed": false, "item": "label"}}], "category": "' || category || '", "channel": "' || channel
                 || '", "checklist": {{"hash": "' || cl_hash || '", "id": "' || category || '"}}, "ended_at": "'
                 || {iso("inspected")} || '", "final": "' || grade || '", '
                 || CASE WHEN serial <> '' THEN '"gtin": "0400000' || lpad(sku_no::text, 6, '0') || '", ' ELSE '' END
                 || '"line_no": 1, "lpn": "' || lpn || '", "reason_confirmed": "' || confirmed || '", '
                 || CASE WHEN serial <> '' THEN '"serial": "' || serial || '", ' ELSE '' END
                 || '"sku": "SKU-' || lpad(sku_no::text, 5, '0') || '", "unit_no": ' || unit_no || '}}',
                 i, unit_no, lpn, NULL, grade, channel
          FROM b_unit WHERE inspected IS NOT NULL
          UNION ALL
          SELECT 'unit.put_away', code, put_away,
                 '{{"bin": "' || bin || '", "channel": "' || channel || '", "line": 1, "lpn": "' || lpn
                 || '", "unit": ' || unit_no || '}}', i, 10 + unit_no, lpn, bin, NULL, channel
          FROM b_unit WHERE put_away IS NOT NULL
          UNION ALL
          SELECT 'rma.inspected', r.code, max(u.inspected) + interval '1 minute', '{{}}', r.i, 20,
                 NULL, NULL, NULL, NULL
          FROM b_rma AS r JOIN b_unit AS u ON u.i = r.i
          GROUP BY r.i, r.code HAVING count(u.inspected) = count(*)
          UNION ALL
          SELECT CASE WHEN {h("r.i * 13 + f", 18, 100)} < 70 THEN 'parcel.attached'
                      WHEN {h("r.i * 13 + f", 18, 100)} < 85 THEN 'container.closed'
                      WHEN {h("r.i * 13 + f", 18, 100)} < 99 THEN 'bin.counted' ELSE 'item.mismatch' END,
                 r.code, r.received + make_interval(secs => 60 * f),
                 '{{"bin": "B-' || lpad(({h("r.i + f", 19, 500)})::text, 3, '0') || '", "gtin": "0400000'
                 || lpad(r.sku_no::text, 6, '0') || '", "serial": "SN' || lpad((r.i * 7 + 1)::text, 9, '0')
                 || '", "tracking": "SF' || lpad(r.i::text, 10, '0') || '"}}', r.i, 30 + f,
                 NULL, 'B-' || lpad(({h("r.i + f", 19, 500)})::text, 3, '0'), NULL, NULL
          FROM b_rma AS r,
               generate_series(1, greatest(0, round(({events} - ({base})) / greatest(1, {rmas})::numeric
                                                    + ({h("r.i", 20, 100)} - 50) / 100.0)::int)) AS f
          WHERE r.received IS NOT NULL AND r.received + make_interval(secs => 60 * f) < {now_sql}
        ) AS e""",
        )
    )
    steps.append(("b_events key", "CREATE INDEX ON b_events (i, n)"))
    steps.append(
        (
            "events",
            f"""
        INSERT INTO events (pk, station, seq, event_id, type, operator, at, server_at, rma_code, refers_to, payload)
        SELECT pk, {station("pk")}, pk, {event_id("pk")}, type, {operator("pk")}, {iso("at")},
               {iso("at + interval '3 seconds'")}, rma_code, NULL, payload
        FROM b_events ORDER BY pk""",
        )
    )
    steps.append(("events seq", "SELECT setval(pg_get_serial_sequence('events', 'pk'), (SELECT max(pk) FROM events))"))
    steps.append(
        (
            "stations",
            """UPDATE stations SET acked_seq = m.seq FROM (SELECT station, max(seq) AS seq FROM events GROUP BY station)
                AS m WHERE m.station = stations.name""",
        )
    )
    record = (
        """'{"rma_code":"' || r.code || '","order_ref":"SO-' || lpad(r.i::text, 8, '0') || '","customer_name":"客户 '
        || r.customer_no || '","reason":"' || CASE r.reason_no """
        + reason_cases
        + """ END || '","status":"' || CASE WHEN r.cancelled THEN 'cancelled' ELSE 'authorized' END
        || '","lines":[{"sku":"SKU-' || lpad(r.sku_no::text, 5, '0') || '","gtin":"","description":"Item ' || r.sku_no
        || '","qty":' || r.units || ',"category":"' || r.category || '","value":' || (10 + r.sku_no % 490)
        || '.0,"lot":"L' || lpad((r.sku_no % 200)::text, 3, '0') || '","supplier":"SUP-'
        || lpad((r.sku_no % 40)::text, 2, '0') || '"}],"tracking_numbers":["SF' || lpad(r.i::text, 10, '0') || '"]'
        || CASE WHEN r.refund_on_receipt THEN ',"refund_policy":"on_receipt"' ELSE '' END || '}'"""
    )
    steps.append(
        (
            "rmas",
            f"""
        INSERT INTO rmas (code, record, status, stage, received_station, received_event, created_at, updated_at)
        SELECT r.code, {record}, CASE WHEN r.cancelled THEN 'cancelled' ELSE 'authorized' END,
               CASE WHEN ri.pk IS NOT NULL THEN 'inspected' WHEN rv.pk IS NOT NULL THEN 'received' ELSE 'expected' END,
               CASE WHEN rv.pk IS NOT NULL THEN {station("rv.pk")} END,
               CASE WHEN rv.pk IS NOT NULL THEN {event_id("rv.pk")} END, {iso("r.created")}, {iso("r.created")}
        FROM b_rma AS r
        LEFT JOIN b_events AS rv ON rv.i = r.i AND rv.n = 0
        LEFT JOIN b_events AS ri ON ri.i = r.i AND ri.n = 20""",
        )
    )
    steps.append(
        (
            "changes",
            "INSERT INTO changes (kind, key, body, at)"
            " SELECT 'rma', code, record, created_at FROM rmas ORDER BY created_at",
        )
    )
    steps.append(
        (
            "customer_returns",
            f"""INSERT INTO customer_returns (rma_code, customer_key, authorized_at)
                SELECT code, encode(sha256(('customer-' || customer_no)::bytea), 'hex'), {iso("created")}
                FROM b_rma WHERE NOT cancelled""",
        )
    )
    inspected = "JOIN b_events AS e ON e.i = u.i AND e.n = u.unit_no"
    steps.append(
        (
            "inspected_items",
            f"""INSERT INTO inspected_items (rma_code, item, event_id, station)
                SELECT u.code, 'line 1 unit ' || u.unit_no, {event_id("e.pk")}, {station("e.pk")}
                FROM b_unit AS u {inspected}""",
        )
    )
    # the handoff (as server/handoff/projection.py leaves it)
    steps.append(
        (
            "handoff_feed",
            f"""INSERT INTO handoff_feed (kind, event_id, station, operator, at, server_at, rma_code, lpn, bin, body)
                SELECT type, {event_id("pk")}, {station("pk")}, {operator("pk")}, {iso("at")},
                       {iso("at + interval '3 seconds'")}, rma_code, lpn, bin,
                       '{{"channel": ' || coalesce('"' || channel || '"', 'null') || ', "detail": {{}}, "grade": '
                       || coalesce('"' || grade || '"', 'null') || '}}'
                FROM b_events WHERE type IN ('item.inspected', 'unit.put_away', 'container.closed', 'bin.counted')
                ORDER BY pk""",
        )
    )
    steps.append(
        (
            "handoff_units",
            f"""INSERT INTO handoff_units (lpn, rma_code, line_no, unit_no, sku, grade, channel, bin, state, event_id,
                                           updated_at)
                SELECT u.lpn, u.code, 1, u.unit_no, 'SKU-' || lpad(u.sku_no::text, 5, '0'), u.grade, u.channel,
                       CASE WHEN u.put_away IS NOT NULL THEN u.bin END,
                       CASE WHEN u.put_away IS NOT NULL THEN 'put_away' ELSE 'inspected' END,
                       {event_id("e.pk")}, {iso("e.at + interval '3 seconds'")}
                FROM b_unit AS u JOIN b_events AS e ON e.i = u.i
                     AND e.n = CASE WHEN u.put_away IS NOT NULL THEN 10 + u.unit_no ELSE u.unit_no END""",
        )
    )
    steps.append(
        (
            "handoff_bins",
            f"""INSERT INTO handoff_bins (name, kind, state, event_id, updated_at)
                SELECT DISTINCT bin, 'bin', 'open', 'build', {iso(now_sql)} FROM b_unit WHERE put_away IS NOT NULL""",
        )
    )
    steps.append(
        (
            "handoff_items",
            f"""INSERT INTO handoff_items (rma_code, line_no, unit_no, grade, channel, lpn, event_id)
                SELECT u.code, 1, u.unit_no, u.grade, u.channel, u.lpn, {event_id("e.pk")}
                FROM b_unit AS u {inspected}""",
        )
    )
    steps.append(
        (
            "handoff_refunds",
            f"""INSERT INTO handoff_refunds (rma_code, id, decision, policy, reason, lines, amount, event_id, station,
                                             operator, at, decided_at)
                SELECT r.code, 'rfd_' || md5(e.pk::text), CASE WHEN r.refund_on_receipt THEN 'full' ELSE 'partial' END,
                       CASE WHEN r.refund_on_receipt THEN 'on_receipt' ELSE 'after_inspection' END,
                       'the policy was met', '[]', NULL, {event_id("e.pk")}, {station("e.pk")}, {operator("e.pk")},
                       {iso("e.at")}, {iso("e.at + interval '3 seconds'")}
                FROM b_rma AS r JOIN b_events AS e ON e.i = r.i
                     AND e.n = CASE WHEN r.refund_on_receipt THEN 0 ELSE 20 END""",
        )
    )
    # the analytics fact tables (as server/analytics.py's fold leaves them)
    secs = "extract(epoch FROM date_trunc('milliseconds', {1}) - date_trunc('milliseconds', {0}))::int"
    steps.append(
        (
            "an_rmas",
            f"""INSERT INTO an_rmas (rma_code, reason_code, received_event, received_at, day, receive_secs)
                SELECT r.code, CASE r.reason_no {code_cases} END, {event_id("e.pk")}, {iso("r.received")},
                       to_char(r.received AT TIME ZONE 'UTC', 'YYYY-MM-DD'), {secs.format("r.created", "r.received")}
                FROM b_rma AS r JOIN b_events AS e ON e.i = r.i AND e.n = 0""",
        )
    )
    steps.append(
        (
            "an_units",
            f"""INSERT INTO an_units (event_id, rma_code, line_no, unit_no, lpn, sku, category, lot, supplier,
                                      checklist,
                                      checklist_id, reason_code, reason_confirmed, grade, channel, station, operator,
                                      inspected_at, day, week, hour, received_at, inspect_secs, put_away_at,
                                      putaway_secs)
                SELECT {event_id("e.pk")}, u.code, 1, u.unit_no, u.lpn, 'SKU-' || lpad(u.sku_no::text, 5, '0'),
                       u.category, 'L' || lpad((u.sku_no % 200)::text, 3, '0'),
                       'SUP-' || lpad((u.sku_no % 40)::text, 2, '0'), u.category || '@' || substr(u.cl_hash, 1, 12),
                       u.category, CASE u.reason_no {code_cases} END, u.confirmed, u.grade, u.channel,
                       {station("e.pk")}, {operator("e.pk")},
                       {iso("u.inspected")}, to_char(u.inspected AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
                       to_char(u.inspected AT TIME ZONE 'UTC', 'IYYY-"W"IW'),
                       to_char(u.inspected AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24'),
                       {iso("u.received")}, {secs.format("u.received", "u.inspected")},
                       CASE WHEN u.put_away IS NOT NULL THEN {iso("u.put_away")} END,
                       {secs.format("u.inspected", "u.put_away")}
                FROM b_unit AS u {inspected}""",
        )
    )
    steps.append(
        (
            "an_checks",
            f"""INSERT INTO an_checks (event_id, item, checklist_id, severity, rma_code, day)
                SELECT {event_id("e.pk")}, CASE WHEN u.fails = 1 THEN u.failed_item ELSE 'packaging' END, u.category,
                       CASE WHEN u.fails = 1 THEN 'major' ELSE 'minor' END, u.code,
                       to_char(u.inspected AT TIME ZONE 'UTC', 'YYYY-MM-DD')
                FROM b_unit AS u {inspected} WHERE u.fails IN (1, 2)""",
        )
    )
    steps.append(("an_cursor", "UPDATE an_cursor SET pk = (SELECT max(pk) FROM events) WHERE name = 'events'"))
    steps.append(("drop build tables", "DROP TABLE b_events, b_unit, b_rma"))
    return steps


def _constraints_and_indexes(conn, table: str) -> list[tuple[str, str]]:
    """(drop, create) statements of a table's secondary indexes and unique constraints (not its primary key)."""
    out = []
    for name, definition in conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'u'",
        (table,),
    ).fetchall():
        out.append(
            (
                f'ALTER TABLE {table} DROP CONSTRAINT "{name}"',
                f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}',
            )
        )
    taken = {name for name, _ in conn.execute(
        "SELECT conname, 1 FROM pg_constraint WHERE conrelid = %s::regclass", (table,)
    ).fetchall()}  # fmt: skip
    for name, definition in conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", (table,)
    ).fetchall():
        if name not in taken:
            out.append((f'DROP INDEX "{name}"', definition))
    return out


LOADED = ("events", "rmas", "changes", "customer_returns", "inspected_items", "an_units", "an_checks", "an_rmas")
LOADED += ("handoff_feed", "handoff_units", "handoff_items", "handoff_refunds")


def build(url: str, a: argparse.Namespace) -> dict:
    """Fill the server database; returns what the timing needs (tokens, a few codes)."""
    import psycopg
    import sqlalchemy as sa

    from server import analytics
    from server.db import ServerDb, events, rmas

    started = time.perf_counter()
    now = datetime.now(UTC).replace(microsecond=0)
    db = ServerDb(url)  # the real schema
    for n in range(1, STATIONS + 1):
        db.add_station(f"st{n:02d}")
    info = {
        "erp": db.add_station("erp", "integration"),
        "pusher": db.add_station("bench-push"),
        "built_at": now.isoformat(),
        "rmas": a.rmas,
    }
    db.close()
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET work_mem = '64MB'")
        conn.execute("SET maintenance_work_mem = '512MB'")
        kept = [pair for table in LOADED for pair in _constraints_and_indexes(conn, table)]
        for drop, _create in kept:
            conn.execute(drop)
        for what, sql in build_sql(a.rmas, a.events, a.days, now):
            t0 = time.perf_counter()
            conn.execute(sql)
            print(f"  {what:20} {time.perf_counter() - t0:7.1f} s", flush=True)
        t0 = time.perf_counter()
        for _drop, create in kept:
            conn.execute(create)
        print(f"  {'indexes':20} {time.perf_counter() - t0:7.1f} s", flush=True)
        t0 = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        print(f"  {'vacuum analyze':20} {time.perf_counter() - t0:7.1f} s", flush=True)
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("rmas", "events", "an_units")}
        info["sample"] = [
            r[0]
            for r in conn.execute(
                "SELECT code FROM rmas WHERE stage = 'inspected' ORDER BY code LIMIT 5 OFFSET %s", (a.rmas // 2,)
            ).fetchall()
        ]
        info["bins"] = [r[0] for r in conn.execute("SELECT name FROM handoff_bins ORDER BY name LIMIT 3").fetchall()]
        info["skus"] = [
            r[0]
            for r in conn.execute("SELECT sku FROM an_units GROUP BY sku ORDER BY count(*) DESC LIMIT 1").fetchall()
        ]
    db = ServerDb(url, create=False)
    t0 = time.perf_counter()
    left = analytics.refresh(db.write, events, rmas)  # as a report would: the fold finds its cursor at the end
    print(f"  {'analytics.refresh':20} {time.perf_counter() - t0:7.1f} s ({left} events read)", flush=True)
    with db.read() as conn:
        info["feed_cursor"] = int(conn.execute(sa.text("SELECT max(cursor) FROM handoff_feed")).scalar() or 0)
    db.close()
    info["counts"] = counts
    info["build_seconds"] = round(time.perf_counter() - started, 1)
    print(f"built: {counts} in {info['build_seconds']} s", flush=True)
    return info


# --- the timing ------------------------------------------------------------------------------


def sign_in(base: str) -> requests.Session:
    session = requests.Session()
    form = session.get(f"{base}/ui/login", timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    answer = session.post(
        f"{base}/ui/login",
        data={"csrf": csrf.group(1) if csrf else "", "name": SUPERVISOR[0], "password": SUPERVISOR[1], "next": "/ui/"},
        timeout=60,
    )
    if not answer.url.endswith("/ui/"):
        raise SystemExit(f"could not sign in: {answer.status_code}")
    return session


ONLY: list[str] = []  # --only: the rows whose name holds one of these (all when empty)


def timed(rows: list[dict], what: str, call, repeat: int) -> None:
    if ONLY and not any(part in what for part in ONLY):
        return
    took, sizes, status = [], [], set()
    for _ in range(repeat):
        t0 = time.perf_counter()
        try:
            answer = call()
        except requests.RequestException as exc:  # a server process that died under it, a timeout
            answer = None
            status.add(type(exc).__name__)
        took.append(time.perf_counter() - t0)
        if isinstance(answer, requests.Response):
            status.add(answer.status_code)
            sizes.append(len(answer.content))
        if took[-1] > 10 * TARGET:
            break  # ten times too slow: once is enough to say so
    rows.append(
        {
            "what": what,
            "p50": statistics.median(took),
            "max": max(took),
            "status": ",".join(str(s) for s in sorted(status, key=str)) or "-",
            "kb": (statistics.median(sizes) / 1024) if sizes else None,
        }
    )
    r = rows[-1]
    print(f"  {what:52} p50 {r['p50']:7.3f} s  max {r['max']:7.3f} s  {r['status']}", flush=True)


def http_rows(base: str, info: dict, a: argparse.Namespace) -> list[dict]:
    ui = sign_in(base)
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {info['erp']}"
    station = requests.Session()
    station.headers["Authorization"] = f"Bearer {info['pusher']}"
    code = info["sample"][0]
    sku = info["skus"][0] if info["skus"] else "SKU-00001"
    month_ago = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
    link = api.get(f"{base}/api/v1/rmas/{code}/status-link", timeout=60).json()["path"]

    def get(session, path):
        return lambda: session.get(base + path, timeout=600)

    rows: list[dict] = []
    n = a.repeat
    api_paths = [
        ("API reports/overdue", "/api/v1/reports/overdue"),
        ("API reports/reasons", "/api/v1/reports/reasons"),
        (f"API reports/reasons?sku={sku}&since (30 d)", f"/api/v1/reports/reasons?sku={sku}&since={month_ago}"),
        ("API reports/reasons?format=csv", "/api/v1/reports/reasons?format=csv"),
        ("API reports/reasons?category=electronics", "/api/v1/reports/reasons?category=electronics"),
        ("API reports/reasons?supplier=SUP-07", "/api/v1/reports/reasons?supplier=SUP-07"),
        ("API reports/reasons?checklist=electronics", "/api/v1/reports/reasons?checklist=electronics"),
        ("API reports/units?reason=defective&confirmed=no", "/api/v1/reports/units?reason=defective&confirmed=no"),
        ("API reports/units?format=csv", "/api/v1/reports/units?format=csv"),
        ("API reports/risk", "/api/v1/reports/risk"),
        (f"API rmas/{code} (timeline)", f"/api/v1/rmas/{code}"),
    ]
    for what, path in api_paths:
        timed(rows, what, get(api, path), n)
    timed(rows, "API feed (first page, 500)", get(station, "/api/v1/feed?cursor=0"), n)
    timed(rows, "API feed (last page)", get(station, f"/api/v1/feed?cursor={max(0, info['feed_cursor'] - 100)}"), n)
    timed(rows, "API bins", get(station, "/api/v1/bins"), n)
    timed(rows, f"API bins?bin={info['bins'][0]}", get(station, f"/api/v1/bins?bin={info['bins'][0]}"), n)
    timed(rows, f"API rmas/{code}/refund", get(station, f"/api/v1/rmas/{code}/refund"), n)
    pages = [
        ("UI home", "/ui/"),
        ("UI overdue", "/ui/overdue"),
        ("UI overdue CSV", "/ui/overdue?format=csv"),
        (f"UI rmas/{code}", f"/ui/rmas/{code}"),
        ("UI analytics/reasons", "/ui/analytics/reasons"),
        ("UI analytics/reasons (30 d)", f"/ui/analytics/reasons?since={month_ago}"),
        ("UI analytics/reasons CSV", "/ui/analytics/reasons?format=csv"),
    ]
    for by in ("sku", "category", "lot", "supplier", "checklist", "reason", "station", "operator"):
        pages.append((f"UI analytics/rates?by={by}", f"/ui/analytics/rates?by={by}"))
    pages += [
        ("UI analytics/rates?by=sku CSV", "/ui/analytics/rates?by=sku&format=csv"),
        ("UI analytics/checks", "/ui/analytics/checks"),
        ("UI analytics/checks CSV", "/ui/analytics/checks?format=csv"),
        ("UI analytics/throughput", "/ui/analytics/throughput"),
        ("UI analytics/throughput?by=operator", "/ui/analytics/throughput?by=operator"),
        ("UI analytics/throughput CSV", "/ui/analytics/throughput?format=csv"),
        ("UI analytics/cycle-times", "/ui/analytics/cycle-times"),
        ("UI analytics/cycle-times (30 d)", f"/ui/analytics/cycle-times?since={month_ago}"),
        ("UI analytics/cycle-times CSV", "/ui/analytics/cycle-times?format=csv"),
        ("UI analytics/trends", "/ui/analytics/trends"),
        ("UI analytics/trends?per=week", "/ui/analytics/trends?per=week"),
        ("UI analytics/trends CSV", "/ui/analytics/trends?format=csv"),
        ("UI analytics/units?reason=defective", "/ui/analytics/units?reason=defective"),
        (f"UI analytics/units?sku={sku}", f"/ui/analytics/units?sku={sku}"),
        ("UI analytics/units?failed=electronics/screen", "/ui/analytics/units?failed=electronics/screen"),
        ("UI analytics/units?step=inspected_put_away", "/ui/analytics/units?step=inspected_put_away"),
        ("UI analytics/units CSV", "/ui/analytics/units?reason=defective&format=csv"),
        ("UI analytics/receipts", "/ui/analytics/receipts"),
        ("UI analytics/receipts CSV", "/ui/analytics/receipts?format=csv"),
    ]
    for what, path in pages:
        timed(rows, what, get(ui, path), n)
    timed(rows, "status page /status/...", lambda: requests.get(base + link, timeout=600), n)
    return rows


def push_events(base: str, info: dict, count: int) -> None:
    """``count`` new events from the bench's own station, in batches of 100, as a station sends them."""
    station = requests.Session()
    station.headers["Authorization"] = f"Bearer {info['pusher']}"
    seq = station.get(f"{base}/api/v1/station", timeout=60).json()["acked_seq"]
    codes = info["sample"]
    now = datetime.now(UTC)
    for start in range(0, count, 100):
        batch = []
        for k in range(start, min(count, start + 100)):
            seq += 1
            code = codes[k % len(codes)]
            at = (now - timedelta(seconds=count - k)).isoformat(timespec="milliseconds")
            kind = ("parcel.attached", "item.inspected", "unit.put_away", "bin.counted")[k % 4]
            payload: dict = {"tracking": f"SF{k:010d}"}
            if kind == "item.inspected":
                payload = {
                    "line_no": 1,
                    "unit_no": 100 + k,
                    "lpn": f"LPN-BENCH-{seq}",
                    "final": "resellable",
                    "channel": "restock",
                    "category": "general",
                    "reason_confirmed": "yes",
                    "answers": [{"item": "screen", "failed": True}],
                }
            elif kind == "unit.put_away":
                payload = {"lpn": f"LPN-BENCH-{seq - 1}", "bin": "B-001", "channel": "restock"}
            batch.append(
                {"seq": seq, "id": str(uuid.uuid4()), "type": kind, "operator": "op1", "at": at, "rma_code": code}
                | {"payload": payload}
            )
        answer = station.post(
            f"{base}/api/v1/events", json={"after_seq": seq - len(batch), "events": batch}, timeout=120
        )
        answer.raise_for_status()


def job_rows(url: str, base: str, info: dict) -> list[dict]:
    import sqlalchemy as sa

    from server import analytics
    from server.db import ServerDb, events, rmas
    from server.sla import SlaWatch, digest_text, escalate

    db = ServerDb(url, create=False)
    rows: list[dict] = []
    try:
        with db.write() as conn:  # told by an earlier run of this bench: told again, timed
            conn.execute(sa.text("DELETE FROM sla_escalations"))
        timed(rows, "job: SLA escalate (first round: all overdue told)", lambda: escalate(db, mail_on=False), 1)
        watch = SlaWatch(db, {"RMA_SLA_CHECK": "60"})
        timed(rows, "job: SlaWatch round (nothing new)", watch, 1)
        t0 = time.perf_counter()
        push_events(base, info, 500)
        print(f"  (pushed 500 events in {time.perf_counter() - t0:.2f} s)")
        timed(rows, "job: analytics.refresh after 500 new events", lambda: analytics.refresh(db.write, events, rmas), 1)
        timed(rows, "job: analytics.refresh (nothing new)", lambda: analytics.refresh(db.write, events, rmas), 1)
        timed(rows, "job: digest text", lambda: digest_text(db), 1)
    finally:
        db.close()
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rmas", type=int, default=1_000_000)
    p.add_argument("--events", type=int, default=10_000_000)
    p.add_argument("--days", type=int, default=120)
    p.add_argument("--repeat", type=int, default=5, help="requests per row")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--build-only", action="store_true", help="build (or find) the database and stop")
    p.add_argument("--rebuild", action="store_true", help="throw the cached cluster away and build again")
    p.add_argument("--only", action="append", default=[], help="time only the rows whose name holds this (repeatable)")
    p.add_argument(
        "--settle", type=float, default=20.0, help="seconds to wait after the server is up (it makes its SLA clocks)"
    )
    a = p.parse_args()
    ONLY[:] = a.only

    folder = OUT / f"supervisor-pg-{a.rmas}-{a.events}-{a.days}-v{BUILD_VERSION}"
    if a.rebuild:
        shutil.rmtree(folder, ignore_errors=True)
    try:
        pg = KeptPostgres(folder)
        fresh = not pg.built or not (folder / "info.json").exists()
        if fresh:
            shutil.rmtree(folder / "data", ignore_errors=True)
        pg.start()
    except PostgresUnavailable as exc:
        raise SystemExit(f"no PostgreSQL: {exc}") from exc
    try:
        url = pg.url("rma")
        if fresh:
            pg.execute('CREATE DATABASE "rma"')
            print(f"building {a.rmas:,} RMAs and ~{a.events:,} events over {a.days} days in {folder} ...", flush=True)
            info = build(url, a)
            (folder / "info.json").write_text(json.dumps(info, indent=1))
        else:
            info = json.loads((folder / "info.json").read_text())
            print(f"using {folder} (built {info['built_at']}: {info['counts']})", flush=True)
            from server.db import ServerDb

            t0 = time.perf_counter()
            ServerDb(url).close()  # an existing database gains the tables and indexes this release adds
            print(f"server database opened (new tables and indexes made, once) in {time.perf_counter() - t0:.1f} s")
        if a.build_only:
            return
        added = subprocess.run(
            [*RMA, "server", "add-user", SUPERVISOR[0], "--role", "supervisor", "--reset", "--db", url],
            input=SUPERVISOR[1] + "\n",
            capture_output=True,
            text=True,
        )
        if added.returncode:
            added = subprocess.run(
                [*RMA, "server", "add-user", SUPERVISOR[0], "--role", "supervisor", "--db", url],
                input=SUPERVISOR[1] + "\n",
                capture_output=True,
                text=True,
            )
        if added.returncode:
            raise SystemExit(f"add-user failed: {added.stderr or added.stdout}")
        port = free_port()
        env = dict(os.environ, RMA_SLA_CHECK="0")  # the bench runs the SLA round itself, once, timed
        log = (OUT / "supervisor_server.log").open("w")  # the server's own lines (a worker that died says why)
        proc = subprocess.Popen(
            [*RMA, "server", "--db", url, "--port", str(port), "--rate", "0", "--workers", str(a.workers)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            wait_ready(proc, port, seconds=60)
            time.sleep(a.settle)  # each server process makes its SLA clocks in a thread at start (server/sla.py warm)
            base = f"http://127.0.0.1:{port}"
            print(f"server: {a.workers} workers on {base}; {a.repeat} requests per row", flush=True)
            rows = http_rows(base, info, a)
            if not ONLY or any("job" in part for part in ONLY):
                rows += job_rows(url, base, info)
        finally:
            proc.terminate()
            proc.wait(30)
            log.close()
    finally:
        pg.stop()
    counts = info["counts"]
    print()
    print(
        f"{counts['rmas']:,} RMAs, {counts['events']:,} events, {counts['an_units']:,} inspected units; "
        f"{os.cpu_count()} cores; PostgreSQL, server --workers {a.workers}"
    )
    print(f"{'what':54} {'p50 s':>7} {'max s':>7} {'target':>6} {'KiB':>8} status")
    for r in rows:
        mark = "ok" if r["max"] < TARGET else "SLOW"
        kb = f"{r['kb']:8.0f}" if r["kb"] is not None else " " * 8
        print(f"{r['what']:54} {r['p50']:7.3f} {r['max']:7.3f} {'< 1 s':>6} {kb} {r['status']} {mark}")


if __name__ == "__main__":
    main()
