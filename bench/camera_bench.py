"""Camera decoding speed and read rate, on one core.

    taskset -c 0 .venv/bin/python bench/camera_bench.py [--frames 40]

For 1280x720 and 1920x1080 frames of the station's RMA label (Code 128
``RMA-2026-000123`` plus an EAN-13 and a DataMatrix) filling ~35% of the
frame width on a cluttered bench, rotated -6..6 degrees, blurred and noisy,
prints per decoder: frames decoded per second and the share of frames in
which the RMA code was read; then the same for empty frames (the cost of a
frame with nothing in view, which is most frames at a bench); then end to
end: the station's CameraReader thread on a 1080p MJPG video file of the
label coming and going (video decoding + pipeline + debounce), with the
scans it produced.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from terminal.scanning.camera import CameraReader
from terminal.scanning.decoders import StationDecoder, ZbarDecoder, ZxingDecoder
from terminal.scanning.synthetic import FULL_HD, HD, Bench, Shot, frame, rma_label, write_video

CODE = "RMA-2026-000123"


def frames(size, n, label, seed=1, blur=(0.8, 1.6), width_share=0.35):
    """``n`` varied frames of ``label`` (or of nothing) at ``size``; blur sigma in 1080p pixels."""
    bench = Bench(size, seed)
    rng = np.random.default_rng(seed)
    return [frame(bench, label, width_share=width_share, angle=float(rng.uniform(-6, 6)),
                  centre=(float(rng.uniform(0.3, 0.7)), float(rng.uniform(0.35, 0.65))),
                  blur=float(rng.uniform(*blur)), noise=float(rng.uniform(3, 9)), seed=i)
            for i in range(n)]


def measure(decoder, images, repeats=3):
    """(frames per second, share of frames where CODE was read); the fastest of ``repeats`` runs.

    The fastest run is the one least disturbed by other work on a shared machine.
    """
    decoder.decode(images[0])  # warm-up
    best, hits = float("inf"), 0
    for _ in range(repeats):
        hits = 0
        start = time.perf_counter()
        for image in images:
            hits += any(r.text == CODE for r in decoder.decode(image))
        best = min(best, time.perf_counter() - start)
    return len(images) / best, hits / len(images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40, help="frames per size (default 40)")
    parser.add_argument("--blur", type=float, nargs=2, default=(0.8, 1.6), metavar=("LOW", "HIGH"),
                        help="lens blur range, Gaussian sigma in 1080p pixels (default 0.8 1.6)")
    parser.add_argument("--width", type=float, default=0.35, help="share of the frame width the label fills")
    parser.add_argument("--no-end-to-end", action="store_true", help="skip the reader-thread measurement")
    args = parser.parse_args()
    cv2.setNumThreads(1)  # one core: OpenCV's resize/convert must not fan out either
    decoders = [("zbar", ZbarDecoder()), ("zxing (default passes)", ZxingDecoder()),
                ("zxing (fixed threshold)", ZxingDecoder(try_downscale=False, fixed_threshold=True)),
                ("station pipeline", StationDecoder())]
    label = rma_label(CODE, ean="400123456789", datamatrix=CODE)
    print(f"{'size':>10}  {'decoder':<24} {'label fps':>9} {'read':>6}  {'empty fps':>9}")
    for size in (HD, FULL_HD):
        with_label = frames(size, args.frames, label, blur=args.blur, width_share=args.width)
        empty = frames(size, max(10, args.frames // 4), None, blur=args.blur)
        # colour frames, as VideoCapture delivers them: the conversion to grey is part of the cost
        for name, decoder in decoders:
            fps, share = measure(decoder, with_label)
            empty_fps, _ = measure(decoder, empty)
            print(f"{size[0]}x{size[1]:<5} {name:<24} {fps:9.1f} {share:6.0%}  {empty_fps:9.1f}")
    if not args.no_end_to_end:
        end_to_end(label)


def end_to_end(label) -> None:
    """The reader thread on a 1080p MJPG file: label, gap, label, gap (as fast as it decodes)."""
    with tempfile.TemporaryDirectory() as folder:
        video = write_video(Path(folder) / "bench.avi", [Shot(label, 45), Shot(None, 30), Shot(label, 45),
                                                         Shot(None, 30)], FULL_HD, fps=30)
        scans = []
        reader = CameraReader(str(video), scans.append)
        start = time.perf_counter()
        reader.start()
        reader.join()
        elapsed = time.perf_counter() - start
    print(f"end to end, 1920x1080 MJPG file, station pipeline: {reader.frames / elapsed:.1f} fps "
          f"({reader.frames} frames; {reader.frames / reader.decode_seconds:.1f} fps decoding alone); "
          f"scans: {', '.join(r.text for r in scans)}")


if __name__ == "__main__":
    main()
