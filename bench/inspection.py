"""How long the QC parts take: loading the checklists, one suggestion, one saved inspection.

Run by hand (never by pytest):  .venv/bin/python bench/inspection.py [UNITS]
Prints figures; asserts nothing.  The database is a real file in a temp folder
(WAL, synchronous=FULL, as at the bench), so the save figure includes the fsync.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qc_checklists import Disposition, load_library, suggest
from sync.clock import utc_now
from sync.store import Inspection, Store


def main(units: int = 300) -> None:
    t = time.perf_counter()
    library = load_library()
    print(f"load + validate {len(library.checklists)} standard checklists: {(time.perf_counter() - t) * 1000:.1f} ms")

    checklist = library.checklists["consumer_electronics"]
    answers = {i.id: "pass" for i in checklist.items if i.kind.value == "pass_fail"}
    answers.update(
        factory_seal="opened",
        display="no display or flawless",
        housing="light marks, visible only at an angle",
        accessories="complete",
        battery_health=77.0,
    )
    n = 5000
    t = time.perf_counter()
    for _ in range(n):
        suggest(checklist, answers)
    print(f"suggest() on a 13-item checklist: {(time.perf_counter() - t) / n * 1e6:.0f} µs per call")

    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "bench.db") as store:
        with store.write() as conn:
            for k in range(units):
                store.upsert_rma(
                    conn,
                    {"rma_code": f"B-{k}", "status": "authorized"},
                    [{"sku": "ELC", "gtin": "5901234123457", "qty": 1, "category": "consumer_electronics"}],
                )
        for k in range(units):
            store.receive(f"B-{k}", "bench", "qc")
        record = tuple(
            {"item": i, "kind": "pass_fail", "answer": "pass", "failed": False, "severity": None} for i in answers
        )
        times = []
        for k in range(units):
            inspection = Inspection(
                f"B-{k}",
                1,
                checklist.id,
                checklist.content_hash,
                record,
                Disposition.DISCOUNTED.value,
                Disposition.DISCOUNTED.value,
                utc_now(),
            )
            t = time.perf_counter()
            store.save_inspection(inspection, "bench", "qc")
            times.append(time.perf_counter() - t)
    times.sort()
    print(
        f"save_inspection (event + projection + RMA completion, one transaction), {units} units: "
        f"median {statistics.median(times) * 1000:.2f} ms, p95 {times[int(len(times) * 0.95)] * 1000:.2f} ms, "
        f"max {times[-1] * 1000:.2f} ms"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
