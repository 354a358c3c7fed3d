"""A throw-away database of realistic returns, for trying the station out."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from sync.imports import ParsedRma
from sync.store import Store

FIRST = ["Anna", "Ben", "Chloé", "David", "Eva", "Farid", "Greta", "Hugo", "Ines", "Jonas",
         "Karin", "Luca", "Maya", "Noah", "Olga", "Pavel", "Rosa", "Sven", "Tara", "Yusuf"]
LAST = ["Schmidt", "Novak", "García", "Müller", "Rossi", "Kowalski", "Dubois", "Jensen",
        "Öztürk", "Silva", "Nguyen", "O'Brien", "Larsen", "Horvat", "Costa"]
# (category, sku prefix, products)
CATALOGUE = [
    ("apparel", "APP", ["Merino crew-neck sweater", "Slim chino trousers", "Rain jacket", "Linen shirt",
                        "Wool beanie", "Denim jacket"]),
    ("footwear", "FTW", ["Trail running shoe", "Leather Chelsea boot", "Canvas sneaker", "Hiking sandal"]),
    ("consumer_electronics", "ELC", ["Wireless earbuds", "Bluetooth speaker", "Fitness watch",
                                     "USB-C power bank 20000 mAh", "Noise-cancelling headphones"]),
    ("small_appliances", "HOM", ["Espresso machine", "Hand blender", "Electric kettle 1.7 l", "Toaster 2-slot"]),
    ("general", "GEN", ["Yoga mat", "Stainless water bottle", "Desk lamp", "Backpack 25 l"]),
]
REASONS = ["wrong size", "defective", "damaged in transit", "not as described", "changed mind",
           "arrived late", "wrong item sent"]
OPERATORS = [("anna", "Anna Schmidt"), ("ben", "Ben Novak"), ("qc1", "Chloé Dubois")]
DEMO_MARK = "demo"  # sync_state key written into every demo database: value "1"


class NotADemoDatabase(Exception):
    """The file is not a demo database, so the demo will not replace it; the message is for a person."""


def gtin13(rng: random.Random) -> str:
    """A random EAN-13 with a correct check digit (prefix 400-440: Germany)."""
    body = str(rng.randint(400, 440)) + "".join(str(rng.randint(0, 9)) for _ in range(9))
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def demo_rmas(count: int = 200, seed: int = 7) -> list[ParsedRma]:
    """``count`` RMAs: several categories and reasons, some cancelled or expired."""
    rng = random.Random(seed)
    rmas = []
    for n in range(1, count + 1):
        status = rng.choices(["authorized", "cancelled", "expired"], [88, 7, 5])[0]
        lines = []
        for _ in range(rng.choices([1, 2, 3], [70, 22, 8])[0]):
            category, prefix, products = rng.choice(CATALOGUE)
            lines.append({"sku": f"{prefix}-{rng.randint(1000, 9999)}", "gtin": gtin13(rng),
                          "description": rng.choice(products), "qty": rng.choice([1, 1, 1, 2]),
                          "category": category})
        tracking = rng.choice([
            f"1Z{rng.randint(100, 999)}AA1{rng.randint(10**7, 10**8 - 1)}",  # UPS-style
            f"{rng.randint(10**11, 10**12 - 1)}",                                 # FedEx-style 12 digits
            f"9400{rng.randint(10**17, 10**18 - 1)}",                             # USPS-style 22 digits
        ])
        rmas.append(ParsedRma(
            {"rma_code": f"RMA-2026-{n:06d}", "order_ref": f"SO-{rng.randint(100000, 999999)}",
             "customer_name": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "reason": rng.choice(REASONS),
             "status": status}, lines, [tracking]))
    return rmas


def is_demo_database(path: str | Path) -> bool:
    """True when ``path`` is a database an earlier ``rma demo`` made (it carries the demo mark).

    The file is opened read-only and never changed; a file that is not SQLite,
    or is SQLite without the mark (a station's database), is not a demo.
    """
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        row = conn.execute("SELECT value FROM sync_state WHERE key = ?", (DEMO_MARK,)).fetchone()
    except sqlite3.Error:  # not a database, or no sync_state table: not ours to replace
        return False
    finally:
        conn.close()
    return row is not None and row[0] == "1"


def create_demo_database(path: str | Path, count: int = 200) -> Path:
    """Write a fresh demo database at ``path``, replacing only an earlier demo database.

    Raises :class:`NotADemoDatabase` (and touches nothing) when ``path`` is any
    other file — a station's database above all.
    """
    path = Path(path)
    if path.exists() and not is_demo_database(path):
        raise NotADemoDatabase(f"{path} exists and is not a demo database; nothing changed — "
                               f"give a new file to --db (or leave --db out)")
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    with Store(path, create_folder=True) as store:
        with store.write() as conn:
            store.set_state(conn, DEMO_MARK, "1")
        for operator_id, name in OPERATORS:
            store.add_operator(operator_id, name)
        store.import_rmas(((p.rma, p.lines, p.tracking) for p in demo_rmas(count)),
                          station="demo", operator="demo", source="rma demo")
    return path
