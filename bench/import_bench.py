"""Peak memory and time of `rma import rmas` on a large generated file (CSV or JSON).

    .venv/bin/python bench/import_bench.py [--mb 70] [--format csv|json] [--encoding gb18030] [--keep]

Run by hand, never by pytest.  The file is generated in a temporary folder
(about --mb megabytes of RMAs with 1-3 lines each), imported into a fresh
database by a child process, and the child's peak RSS is read from
``getrusage(RUSAGE_CHILDREN)``.  ``--encoding`` writes the file in another
encoding (e.g. gb18030, as a Chinese Excel saves it) with Chinese names,
reasons and descriptions, which the import must detect.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = "rma_code,order_ref,customer_name,tracking_number,reason,status,sku,gtin,description,qty,category\n"


def generate(path: Path, megabytes: float, fmt: str, encoding: str = "utf-8") -> int:
    """Write about ``megabytes`` MB of RMAs to ``path``; returns how many RMAs."""
    rng = random.Random(7)
    target = int(megabytes * 1024 * 1024)
    written, n = 0, 0
    chinese = encoding.lower().replace("-", "") not in ("utf8", "ascii")
    customer, reason = ("张伟", "尺码偏小") if chinese else ("Anna Schmidt", "wrong size")
    description = "羊毛圆领毛衣 M码" if chinese else "Merino crew-neck sweater, size M"
    with open(path, "w", encoding=encoding, newline="") as out:
        out.write(HEADER if fmt == "csv" else "[\n")
        while written < target:
            n += 1
            code = f"RMA-2026-{n:07d}"
            lines = [
                {
                    "sku": f"SKU-{rng.randint(1000, 9999)}",
                    "description": description,
                    "qty": rng.choice([1, 1, 2]),
                    "category": "apparel",
                }
                for _ in range(rng.choice([1, 1, 2, 3]))
            ]
            if fmt == "csv":
                text = "".join(
                    f"{code},SO-{n},{customer},1Z999AA1{n:010d},{reason},authorized,{ln['sku']},,"
                    f'"{ln["description"]}",{ln["qty"]},{ln["category"]}\n'
                    for ln in lines
                )
            else:
                text = (
                    ("," if n > 1 else "")
                    + json.dumps(
                        {
                            "rma_code": code,
                            "order_ref": f"SO-{n}",
                            "customer_name": customer,
                            "tracking_number": f"1Z999AA1{n:010d}",
                            "reason": reason,
                            "status": "authorized",
                            "lines": lines,
                        },
                        indent=1,
                        ensure_ascii=False,
                    )
                    + "\n"
                )
            out.write(text)
            written += len(text.encode(encoding))
        if fmt == "json":
            out.write("]\n")
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=70.0, help="size of the generated file")
    parser.add_argument("--format", choices=("csv", "json"), default="csv")
    parser.add_argument("--encoding", default="utf-8", help="the file's encoding (gb18030: Chinese values)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="rma-import-bench-"))
    path = folder / f"rmas.{args.format}"
    count = generate(path, args.mb, args.format, args.encoding)
    size = path.stat().st_size / 1024 / 1024
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "terminal",
            "import",
            "rmas",
            str(path),
            "--db",
            str(folder / "s.db"),
            "--station",
            "bench",
        ],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime  # CPU: steadier than wall time on shared cores
    print(
        f"{args.format} {args.encoding}: {size:.0f} MB, {count} RMAs: exit {done.returncode}, "
        f"{seconds:.1f} s ({cpu:.1f} s CPU), peak RSS {peak:.0f} MB"
    )
    print("  " + (done.stdout.strip() or done.stderr.strip()[:200]))
    if args.keep:
        print(f"  kept {folder}")
    else:
        for item in folder.iterdir():
            item.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
