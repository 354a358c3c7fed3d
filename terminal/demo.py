"""A throw-away database of realistic returns, for trying the station out.

The demo also gets what the keys F8 and F9 need to be tried: a file printer
(``demo-labels.zpl`` in the demo folder, a ZPL spool) and a camera — a short
sample video of a bench over which one demo RMA's label passes twice.  Without
``--db`` everything lives in a new ``rma-demo-*`` folder in the temporary
directory, removed when the station quits.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from gettext import gettext as _
from pathlib import Path

from qc_checklists.reasons import reason_code
from sync.imports import ParsedRma
from sync.sla import DEFAULT_LIMITS, Limit, Policy, policy_to_wire
from sync.store import Store

FIRST = [
    "Anna",
    "Ben",
    "Chloé",
    "David",
    "Eva",
    "Farid",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Karin",
    "Luca",
    "Maya",
    "Noah",
    "Olga",
    "Pavel",
    "Rosa",
    "Sven",
    "Tara",
    "Yusuf",
]
LAST = [
    "Schmidt",
    "Novak",
    "García",
    "Müller",
    "Rossi",
    "Kowalski",
    "Dubois",
    "Jensen",
    "Öztürk",
    "Silva",
    "Nguyen",
    "O'Brien",
    "Larsen",
    "Horvat",
    "Costa",
]
# (category, sku prefix, products)
CATALOGUE = [
    (
        "apparel",
        "APP",
        [
            "Merino crew-neck sweater",
            "Slim chino trousers",
            "Rain jacket",
            "Linen shirt",
            "Wool beanie",
            "Denim jacket",
        ],
    ),
    ("footwear", "FTW", ["Trail running shoe", "Leather Chelsea boot", "Canvas sneaker", "Hiking sandal"]),
    (
        "consumer_electronics",
        "ELC",
        [
            "Wireless earbuds",
            "Bluetooth speaker",
            "Fitness watch",
            "USB-C power bank 20000 mAh",
            "Noise-cancelling headphones",
        ],
    ),
    ("small_appliances", "HOM", ["Espresso machine", "Hand blender", "Electric kettle 1.7 l", "Toaster 2-slot"]),
    ("general", "GEN", ["Yoga mat", "Stainless water bottle", "Desk lamp", "Backpack 25 l"]),
]
REASONS = [
    "wrong size",
    "defective",
    "damaged in transit",
    "not as described",
    "changed mind",
    "arrived late",
    "wrong item sent",
]
# anna is a supervisor (she approves overrides and undos), ben a receiving clerk, qc1 an inspector
OPERATORS = [
    ("anna", "Anna Schmidt", "supervisor"),
    ("ben", "Ben Novak", "clerk"),
    ("qc1", "Chloé Dubois", "inspector"),
]
DEMO_MARK = "demo"  # sync_state key written into every demo database: value "1"
# two express RMAs (the camera's among them), and the SLA limits a server would send for them: the F11 backlog
# shows the priority and puts an express RMA before an older standard one (README, "SLA clocks")
EXPRESS = ("RMA-2026-000002", "RMA-2026-000004")
DEMO_SLA = Policy(
    dict(DEFAULT_LIMITS),
    priorities={"express": {"inspect": Limit(4, "hours"), "put_away": Limit(2, "hours")}},
    source="rma demo",
)


class NotADemoDatabase(Exception):
    """The file is not a demo database, so the demo will not replace it; the message is for a person."""


def gtin13(rng: random.Random) -> str:
    """A random EAN-13 with a correct check digit (prefix 400-440: Germany)."""
    body = str(rng.randint(400, 440)) + "".join(str(rng.randint(0, 9)) for _digit in range(9))
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def demo_rmas(count: int = 200, seed: int = 7) -> list[ParsedRma]:
    """``count`` RMAs: several categories and reasons, some cancelled or expired, those in EXPRESS express."""
    rng = random.Random(seed)
    rmas = []
    for n in range(1, count + 1):
        status = rng.choices(["authorized", "cancelled", "expired"], [88, 7, 5])[0]
        lines = []
        for _line in range(rng.choices([1, 2, 3], [70, 22, 8])[0]):
            category, prefix, products = rng.choice(CATALOGUE)
            lines.append(
                {
                    "sku": f"{prefix}-{rng.randint(1000, 9999)}",
                    "gtin": gtin13(rng),
                    "description": rng.choice(products),
                    "qty": rng.choice([1, 1, 1, 2]),
                    "category": category,
                }
            )
        tracking = rng.choice(
            [
                f"1Z{rng.randint(100, 999)}AA1{rng.randint(10**7, 10**8 - 1)}",  # UPS-style
                f"{rng.randint(10**11, 10**12 - 1)}",  # FedEx-style 12 digits
                f"9400{rng.randint(10**17, 10**18 - 1)}",  # USPS-style 22 digits
            ]
        )
        code = f"RMA-2026-{n:06d}"
        rmas.append(
            ParsedRma(
                {
                    "rma_code": code,
                    "order_ref": f"SO-{rng.randint(100000, 999999)}",
                    "customer_name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    "reason": rng.choice(REASONS),
                    "status": status,
                    **({"priority": "express"} if code in EXPRESS else {}),
                },
                lines,
                [tracking],
            )
        )
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
        raise NotADemoDatabase(
            f"{path} exists and is not a demo database; nothing changed — give a new file to --db (or leave --db out)"
        )
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    with Store(path, create_folder=True) as store:
        with store.write() as conn:
            store.set_state(conn, DEMO_MARK, "1")
            store.keep_sla_policy(conn, policy_to_wire(DEMO_SLA))  # as if the server had sent them
        for operator_id, name, role in OPERATORS:
            store.add_operator(operator_id, name, role)
        store.import_rmas(
            (({**p.rma, "reason_code": reason_code(p.rma["reason"])}, p.lines, p.tracking) for p in demo_rmas(count)),
            station="demo",
            operator="demo",
            source="rma demo",
        )
    return path


FOLDER_PREFIX = "rma-demo-"
LABELS_FILE = "demo-labels.zpl"
CAMERA_FILE = "demo-camera.avi"
CAMERA_RMA = "RMA-2026-000002"  # an authorized demo RMA (seed 7), shown to the sample camera


@dataclass(frozen=True)
class DemoSession:
    """Where one demo lives: its database, printer and camera, and whether it is removed at the end."""

    db: Path
    temporary: bool  # the folder is the demo's own and is removed when the session ends

    @property
    def folder(self) -> Path:
        """The folder holding the database, the label spool and the sample video."""
        return self.db.parent

    @property
    def printer(self) -> str:
        """The demo's printer: a ZPL spool file in the demo folder."""
        return f"file:{self.folder / LABELS_FILE}"

    @property
    def camera(self) -> str:
        """The demo's camera: the sample video in the demo folder."""
        return str(self.folder / CAMERA_FILE)

    @property
    def notice(self) -> str:
        """What the station says at start about this demo."""
        fate = _("removed when you quit (F10)") if self.temporary else _("kept")
        return _(
            "Demo database {db} ({fate}). F9: print jobs (labels go to {labels}); "
            "F8: the sample camera, which sees {rma}."
        ).format(db=self.db, fate=fate, labels=LABELS_FILE, rma=CAMERA_RMA)


@contextmanager
def demo_session(db: str | Path | None = None, *, keep: bool = False) -> Iterator[DemoSession]:
    """A demo's place: ``db`` if given (kept), else a new temporary folder, removed at the end unless ``keep``."""
    if db:
        yield DemoSession(Path(db), temporary=False)
        return
    folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX))
    session = DemoSession(folder / "demo.db", temporary=not keep)
    try:
        yield session
    finally:
        if session.temporary:
            shutil.rmtree(folder, ignore_errors=True)


def film_demo_camera(path: str | Path) -> Path:
    """The sample camera video (36 s at 5 fps): an empty bench, then CAMERA_RMA's label, twice."""
    from terminal.scanning.synthetic import Shot, rma_label, write_video

    label = rma_label(CAMERA_RMA)
    return write_video(
        path,
        [Shot(None, 50), Shot(label, 15, 0.5), Shot(None, 75), Shot(label, 15, 0.5), Shot(None, 25)],
        size=(960, 540),
        fps=5.0,
    )


def queue_demo_badge(session: DemoSession) -> None:
    """Put anna's badge in the demo's print queue, so F9 shows a job and the spool a label."""
    from labels import badge_label, open_printer
    from terminal.printing import PrintQueue, queue_path_for

    operator_id, name, _role = OPERATORS[0]
    with PrintQueue(queue_path_for(session.db), open_printer(session.printer)) as queue:
        if not queue.jobs(1):
            queue.submit(badge_label(operator_id, name), what=f"badge {operator_id}")
