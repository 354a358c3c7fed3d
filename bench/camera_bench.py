"""Camera decoding speed and read rate on one core, on clean and on noisy frames; reads on photographs.

    taskset -c 0 .venv/bin/python bench/camera_bench.py [--frames 24] [--photos 20]

1. Frames: 1280x720 and 1920x1080, a parcel on a cluttered bench, each label
   filling ~35% of the frame width, rotated -6..6 degrees, lens blur, and
   sensor grain of sigma ``--noise`` grey levels (6 = a webcam in ordinary
   light; "clean" = none). Labels: the station's RMA label (Code 128 + EAN-13 +
   DataMatrix of the RMA code), the printed 4x6 RMA label (labels.designs at
   203 dpi), a QR sticker, and nothing (most frames at a bench). For each
   decoder — raw zbar, raw zxing-cpp (the station's formats, its default
   passes), raw zxing-cpp restricted to Code 128, the pipeline variants that
   were weighed, and the station's pipeline — it prints frames per second of
   CPU time (one core: OpenCV limited to one thread; pin it with taskset) and
   the share of frames in which each code was read.
2. Photographs: the photograph-like set of terminal/scanning/synthetic.py
   (perspective, blur, JPEG, uneven light, light-on-dark QR), per family: how
   many each decoder read, and how many reads were wrong. ``--photo-dir``
   adds a folder of real photographs (no truth known: counts per format).
3. End to end: the station's CameraReader thread on a noisy 1080p MJPG file
   of the labels coming and going (video decoding + pipeline + debounce).
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from terminal.scanning.camera import CameraReader
from terminal.scanning.decoders import (
    LINEAR,
    MATRIX,
    Read,
    StationDecoder,
    ZbarDecoder,
    ZxingDecoder,
    grey,
)
from terminal.scanning.synthetic import (
    FULL_HD,
    HD,
    PHOTO_FAMILIES,
    Bench,
    Shot,
    frame,
    photo_set,
    printed_rma_label,
    qr_label,
    rma_label,
    write_video,
)

CODE = "RMA-2026-000123"
QR_TEXT = "https://returns.example/t/SF1402276583"


class OldStation:
    """The pipeline before issue 15 (for the before/after figures): fast halved pass, then every format at full size."""

    name = "old station pipeline"

    def __init__(self) -> None:
        self._fast = ZxingDecoder(try_downscale=False, fixed_threshold=True)
        self._thorough = ZxingDecoder(try_downscale=True)

    def decode(self, image):
        g = grey(image)
        if g.shape[1] > 1280:
            half = cv2.resize(g, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
            reads = self._fast.decode(half)
        else:
            reads = self._fast.decode(g)
        return reads or self._thorough.decode(g)


class Every:
    """A variant weighed: linear readers on every frame, the 2D detectors at full size on every Nth frame only."""

    def __init__(self, n: int) -> None:
        self.name = f"variant: 2D full-size every {n}th"
        self.n, self.frames = n, 0
        self._linear = ZxingDecoder(try_downscale=False, formats=LINEAR)
        self._matrix = ZxingDecoder(try_downscale=False, formats=MATRIX)

    def decode(self, image):
        self.frames += 1
        g = grey(image)
        reads = self._linear.decode(g)
        return reads + (self._matrix.decode(g) if self.frames % self.n == 0 else [])


class Photo:
    """``rma decode IMAGE``: the station pipeline's decode_photo."""

    name = "station photo (rma decode)"

    def __init__(self) -> None:
        self._station = StationDecoder()

    def decode(self, image):
        return self._station.decode_photo(image)


def raw_zxing(formats: str = f"{LINEAR},{MATRIX}", name: str = "raw zxing-cpp"):
    """zxing-cpp with its own defaults (all passes, inverted too), only the formats named."""
    decoder = ZxingDecoder(try_downscale=True, try_rotate=True, try_invert=True, formats=formats)
    decoder.name = name
    return decoder


def frames(size, n, label, *, noise, blur, width_share, seed=1):
    """``n`` varied frames of ``label`` (or of nothing) on a parcel at ``size``; blur sigma in 1080p pixels."""
    bench = Bench(size, seed, parcel=True)
    rng = np.random.default_rng(seed)
    return [
        frame(
            bench,
            label,
            width_share=width_share,
            angle=float(rng.uniform(-6, 6)),
            centre=(float(rng.uniform(0.4, 0.6)), float(rng.uniform(0.4, 0.6))),
            blur=float(rng.uniform(*blur)),
            noise=noise,
            seed=i,
        )
        for i in range(n)
    ]


def measure(decoder, images, wanted):
    """(fps of CPU time, fps of wall time, {what: share of frames read}) over ``images``.

    ``wanted`` maps a column name to a test on one frame's reads. CPU time is
    the process's own: other work on a shared machine does not count against it.
    """
    decoder.decode(images[0])  # warm-up
    hits = collections.Counter()
    cpu, wall = time.process_time(), time.perf_counter()
    for image in images:
        reads = decoder.decode(image)
        for what, test in wanted.items():
            hits[what] += bool(test(reads))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return len(images) / cpu, len(images) / wall, {k: hits[k] / len(images) for k in wanted}


def has(text, formats=None):
    return lambda reads: any(r.text == text and (formats is None or r.format in formats) for r in reads)


def wrong(*codes):
    """True for a frame's reads holding anything but ``codes`` ((format, text) pairs)."""
    return lambda reads: any((r.format, r.text) not in codes for r in reads)


def frame_table(args, decoders) -> None:
    code128 = has(CODE, {"Code128"})
    scenes = [  # (column, label, what must be read; "wrong" = frames with a read that is not on the label)
        (
            "RMA label",
            rma_label(CODE, ean="400123456789", datamatrix=CODE),
            {
                "C128": code128,
                "DM": has(CODE, {"DataMatrix"}),
                "wrong": wrong(("Code128", CODE), ("DataMatrix", CODE), ("EAN-13", "4001234567891")),
            },
        ),
        ("4x6", printed_rma_label(CODE), {"C128": code128, "wrong": wrong(("Code128", CODE))}),
        ("QR", qr_label(QR_TEXT), {"QR": has(QR_TEXT, {"QR"}), "wrong": wrong(("QR", QR_TEXT))}),
        ("empty", None, {"wrong": wrong()}),
    ]
    header = f"{'frames':<17} {'decoder':<32}" + "".join(
        f"{name + ' fps':>14}" + "".join(f"{k:>7}" for k in wanted) for name, _, wanted in scenes
    )
    print(header)
    for size in (HD, FULL_HD):
        for noise, kind in ((0.0, "clean"), (args.noise, "noisy")):
            sets = []
            for name, label, wanted in scenes:
                n = args.frames if label is not None else max(8, args.frames // 2)
                share = 0.2 if name == "QR" else args.width
                sets.append((frames(size, n, label, noise=noise, blur=args.blur, width_share=share), wanted))
            for decoder in decoders(size):
                row = f"{size[0]}x{size[1]} {kind:<7} {decoder.name:<32}"
                for images, wanted in sets:
                    fps, _wall, shares = measure(decoder, images, wanted)
                    row += f"{fps:14.1f}" + "".join(f"{shares[k]:7.0%}" for k in wanted)
                print(row, flush=True)


def family(expected_format: str, text: str) -> str:
    return "GS1-128" if expected_format == "Code128" and text.startswith("01") else expected_format


def is_same(read: Read, fmt: str, text: str) -> bool:
    if fmt in ("EAN-13", "UPC-A") and read.format in ("EAN-13", "UPC-A"):
        return read.text.zfill(13) == text.zfill(13)
    return read.format == fmt and read.text == text


def photo_table(args) -> None:
    photos = photo_set(args.photos)
    decoders = [raw_zxing(), ZbarDecoder(), OldStation(), StationDecoder(), Photo()]
    decoders[1].name = "raw pyzbar"
    decoders[3].name = "station pipeline (camera frame)"
    print(
        f"\nphotograph-like set: {args.photos} per family, {photos[0].image.shape[1]}x{photos[0].image.shape[0]} "
        "(perspective, blur, JPEG q25-85, uneven light, some light-on-dark QR)"
    )
    print(f"{'decoder':<34}" + "".join(f"{f:>11}" for f in PHOTO_FAMILIES) + f"{'misread':>9}{'img/s':>8}")
    for decoder in decoders:
        read, wrong = collections.Counter(), 0
        cpu = time.process_time()
        for p in photos:
            reads = decoder.decode(p.image)
            good = [r for r in reads if is_same(r, p.format, p.text)]
            wrong += len(reads) - len(good)
            read[family(p.format, p.text)] += bool(good)
        cpu = time.process_time() - cpu
        print(
            f"{decoder.name:<34}"
            + "".join(f"{read[f]:>11}" for f in PHOTO_FAMILIES)
            + f"{wrong:>9}{len(photos) / cpu:8.1f}",
            flush=True,
        )
    if args.photo_dir:
        files = sorted(p for p in Path(args.photo_dir).rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        print(f"\n{len(files)} pictures in {args.photo_dir} (codes read, by format; no truth known)")
        for decoder in decoders:
            counts = collections.Counter()
            for path in files:
                image = cv2.imread(str(path), cv2.IMREAD_COLOR)
                if image is not None:
                    counts.update(r.format for r in decoder.decode(image))
            print(f"{decoder.name:<34}" + "  ".join(f"{k} {v}" for k, v in sorted(counts.items())))


def end_to_end(args) -> None:
    """The reader thread on a noisy 1080p MJPG file: RMA label, gap, QR, gap, 4x6 label, gap."""
    with tempfile.TemporaryDirectory() as folder:
        video = write_video(
            Path(folder) / "bench.avi",
            [
                Shot(rma_label(CODE, ean="400123456789", datamatrix=CODE), 45),
                Shot(None, 30),
                Shot(qr_label(QR_TEXT), 45, width_share=0.2),
                Shot(None, 30),
                Shot(printed_rma_label(CODE), 45),
                Shot(None, 30),
            ],
            FULL_HD,
            fps=30,
            noise=args.noise,
            parcel=True,
        )
        print("\nend to end, noisy 1920x1080 MJPG file through the reader thread (RMA label, QR, 4x6 label):")
        for decoder in (OldStation(), StationDecoder()):
            scans = []
            reader = CameraReader(str(video), scans.append, decoder=decoder)
            cpu, start = time.process_time(), time.perf_counter()
            reader.start()
            reader.join()
            cpu, elapsed = time.process_time() - cpu, time.perf_counter() - start
            print(
                f"  {getattr(decoder, 'name', 'station'):<22} {reader.frames / cpu:.1f} fps of CPU time "
                f"({reader.frames / elapsed:.1f} fps wall; {reader.frames} frames, "
                f"{reader.frames / reader.decode_seconds:.1f} fps decoding alone); scans: "
                + ", ".join(f"{r.format} {r.text}" for r in scans)
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=24, help="frames per scene and size (default 24)")
    parser.add_argument("--noise", type=float, default=6.0, help="sensor grain sigma of the noisy frames (default 6)")
    parser.add_argument(
        "--blur",
        type=float,
        nargs=2,
        default=(0.8, 1.4),
        metavar=("LOW", "HIGH"),
        help="lens blur range, Gaussian sigma in 1080p pixels (default 0.8 1.4)",
    )
    parser.add_argument("--width", type=float, default=0.35, help="share of the frame width a label fills")
    parser.add_argument("--photos", type=int, default=20, help="photographs per family (default 20; 0 = none)")
    parser.add_argument("--photo-dir", default=None, help="also count the codes read in this folder's pictures")
    parser.add_argument("--variants", action="store_true", help="also the pipeline variants that were weighed")
    parser.add_argument("--no-end-to-end", action="store_true", help="skip the reader-thread measurement")
    args = parser.parse_args()
    cv2.setNumThreads(1)  # one core: OpenCV's resize/convert must not fan out either
    print(
        f"machine: {os.cpu_count()} cores, running on {len(os.sched_getaffinity(0))}; load "
        f"{os.getloadavg()[0]:.1f}; fps = frames per second of this process's CPU time"
    )

    def decoders(size):
        chosen = [ZbarDecoder(), raw_zxing(), raw_zxing("Code128", "raw zxing-cpp, Code 128 only"), OldStation()]
        chosen[0].name = "raw pyzbar"
        if args.variants:
            chosen += [Every(4), Every(8)]
        return [*chosen, StationDecoder()]

    if args.frames:
        frame_table(args, decoders)
    if args.photos:
        photo_table(args)
    if not args.no_end_to_end:
        end_to_end(args)


if __name__ == "__main__":
    main()
