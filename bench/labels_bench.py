"""Labels per second per format, and jobs per second to a loopback ZPL printer.

    .venv/bin/python bench/labels_bench.py [--seconds 2]

Run by hand, never by pytest.  A thermal printer prints 4-8 labels a second
(6 ips on a 6 in label is ~1/s; small labels faster); the software must never
be the slower part.
"""

from __future__ import annotations

import argparse
import time

from labels import command_sheet, disposition_label, open_printer, render, rma_label
from terminal.scanning import COMMANDS as STATION_COMMANDS
from tests.helpers.loopback_printer import LoopbackPrinter

COMMANDS = STATION_COMMANDS[:10]  # one full sheet (`rma label commands` puts at most 10 on a sheet)


def make(n: int):
    return rma_label(
        f"RMA-2026-{n:06d}",
        customer="Zoë Müller-Lüdenscheidt GmbH",
        order=f"SO-{n}",
        reason="Arrived damaged: the box was crushed and the lid is cracked",
        day="2026-11-21",
    )


def make_zh(n: int):
    """The same RMA label for a Chinese customer: name and reason in Chinese (CJK font; ZPL graphic fields)."""
    return rma_label(
        f"RMA-2026-{n:06d}",
        customer="张伟 深圳市华强电子有限公司",
        order=f"SO-{n}",
        reason="\N{FULLWIDTH COMMA}".join(["运输损坏：外箱压扁", "盖子两侧开裂", "客户要求退款"]),
        day="2026-11-21",
    )


def rate(fn, seconds: float) -> float:
    """Calls per second of fn() over about ``seconds``."""
    fn()  # warm caches (fonts, reportlab)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()
    n = iter(range(10**9))
    print(f"{'label':12} {'format':6} {'dpi':>4} {'labels/s':>10}")
    for name, build in (
        ("rma 4x6", lambda: make(next(n))),
        ("rma 4x6 zh", lambda: make_zh(next(n))),
        (
            "disposition",
            lambda: disposition_label(
                "DISCOUNTED", sku=f"SKU-{next(n)}", rma="RMA-1", line=2, grade="B", defect="scratched lid"
            ),
        ),
        ("commands", lambda: command_sheet(COMMANDS)),
    ):
        for fmt in ("zpl", "png", "svg", "pdf"):
            for dpi in (203, 300):
                per_second = rate(lambda b=build, f=fmt, d=dpi: render([b()], f, d), args.seconds)
                print(f"{name:12} {fmt:6} {dpi:>4} {per_second:>10.0f}")
    with LoopbackPrinter() as printer:
        tcp = open_printer(printer.url)
        zpl = render([make(1)], "zpl", 203)[0]
        per_second = rate(lambda: tcp.print(zpl, "zpl"), args.seconds)
    print(f"\njobs/s to a loopback ZPL printer (connect, ~HS, send, ~HS confirms, close): {per_second:.0f}")


if __name__ == "__main__":
    main()
