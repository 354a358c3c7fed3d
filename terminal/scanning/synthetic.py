"""Camera frames made here: RMA labels on a cluttered bench, for tests and bench/.

A real webcam cannot run in CI, so the tests and the benchmark film the
station's labels themselves: a label is rendered from its barcode's own
modules (python-barcode's encoder, zxing-cpp's for DataMatrix), placed on a
cluttered background, slightly rotated, blurred and noisy, and the frames are
written to a real video file that OpenCV's ``VideoCapture`` reads back.
Nothing here is a fake decoder: what the frames say is only known again by
decoding them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import barcode
import cv2
import numpy as np

HD = (1280, 720)
FULL_HD = (1920, 1080)


def _modules(symbology: str, text: str) -> str:
    """The bar/space modules of a linear barcode as '1'/'0' (python-barcode's encoder)."""
    return barcode.get(symbology, text).build()[0]


def _draw_linear(modules: str, module_px: int, height: int, quiet: int = 10) -> np.ndarray:
    """White image with the bars of ``modules``, ``module_px`` pixels each, and quiet zones."""
    row = np.array([0 if m == "1" else 255 for m in "0" * quiet + modules + "0" * quiet], np.uint8)
    return np.tile(np.repeat(row, module_px), (height, 1))


def _text(image: np.ndarray, text: str, scale: float) -> np.ndarray:
    """``image`` with ``text`` printed below it, centred (the human-readable line)."""
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    band = np.full((h + base + 16, image.shape[1]), 255, np.uint8)
    cv2.putText(band, text, ((image.shape[1] - w) // 2, h + 8), cv2.FONT_HERSHEY_SIMPLEX, scale, 0, 2, cv2.LINE_AA)
    return np.vstack([image, band])


def _pad(image: np.ndarray, width: int) -> np.ndarray:
    """Centre ``image`` on a white strip ``width`` wide."""
    left = max(0, (width - image.shape[1]) // 2)
    return cv2.copyMakeBorder(image, 0, 0, left, max(0, width - image.shape[1] - left),
                              cv2.BORDER_CONSTANT, value=255)


def rma_label(code: str = "RMA-2026-000123", ean: str | None = None, module_px: int = 4,
              datamatrix: str | None = None) -> np.ndarray:
    """A grey-scale RMA parcel label: title, Code 128 of ``code``, optional EAN-13 and DataMatrix."""
    bars = _text(_draw_linear(_modules("code128", code), module_px, 30 * module_px), code, module_px * 0.3)
    parts = [bars]
    if ean:
        digits = barcode.get("ean13", ean).get_fullcode()
        parts.append(_text(_draw_linear(_modules("ean13", ean), module_px, 22 * module_px), digits, module_px * 0.3))
    if datamatrix:
        parts.append(datamatrix_image(datamatrix, module_px * 2))
    width = max(p.shape[1] for p in parts) + 8 * module_px
    title = np.full((16 * module_px, width), 255, np.uint8)
    cv2.putText(title, "RETURN  -  RMA", (4 * module_px, 12 * module_px), cv2.FONT_HERSHEY_DUPLEX,
                module_px * 0.5, 0, 2, cv2.LINE_AA)
    gap = np.full((6 * module_px, width), 255, np.uint8)
    stacked = [title]
    for part in parts:
        stacked += [_pad(part, width), gap]
    label = np.vstack(stacked)
    cv2.rectangle(label, (1, 1), (label.shape[1] - 2, label.shape[0] - 2), 0, 2)
    return label


def item_label(ean: str, module_px: int = 4) -> np.ndarray:
    """A product's own label: only an EAN-13 (12 digits given, check digit added) and its digits."""
    digits = barcode.get("ean13", ean).get_fullcode()
    bars = _text(_draw_linear(_modules("ean13", ean), module_px, 40 * module_px), digits, module_px * 0.35)
    return cv2.copyMakeBorder(bars, 6 * module_px, 6 * module_px, 6 * module_px, 6 * module_px,
                              cv2.BORDER_CONSTANT, value=255)


def gs1_label(element_string: str, module_px: int = 4) -> np.ndarray:
    """A GS1-128 label of an element string such as ``0104012345678901`` + ``10LOT7``."""
    return cv2.copyMakeBorder(_draw_linear(_modules("gs1_128", element_string), module_px, 30 * module_px),
                              20, 20, 20, 20, cv2.BORDER_CONSTANT, value=255)


def datamatrix_image(text: str, module_px: int = 6) -> np.ndarray:
    """A DataMatrix of ``text`` with a quiet zone (zbar cannot read these; zxing-cpp can)."""
    import zxingcpp

    image = np.asarray(zxingcpp.write_barcode_to_image(zxingcpp.create_barcode(text, zxingcpp.DataMatrix),
                                                       scale=module_px, add_quiet_zones=True))
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


@dataclass
class Bench:
    """A cluttered bench background of one size, drawn once from a seed and reused."""

    size: tuple[int, int] = FULL_HD
    seed: int = 1

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        w, h = self.size
        # a wooden-ish gradient, then boxes, tape, cables and printed scraps on it
        y, x = np.mgrid[0:h, 0:w]
        base = (120 + 30 * np.sin(x / 37.0 + y / 91.0)).astype(np.uint8)
        image = cv2.merge([base // 2 + 30, base - 10, base])
        for _ in range(25):
            x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
            x1, y1 = x0 + int(rng.integers(40, w // 3)), y0 + int(rng.integers(40, h // 3))
            cv2.rectangle(image, (x0, y0), (x1, y1), tuple(int(c) for c in rng.integers(30, 230, 3)), -1)
        for _ in range(30):
            pts = rng.integers(0, max(w, h), (2, 2))
            cv2.line(image, tuple(int(v) for v in pts[0]), tuple(int(v) for v in pts[1]),
                     tuple(int(c) for c in rng.integers(0, 255, 3)), int(rng.integers(1, 6)))
        for _ in range(12):
            cv2.putText(image, "FRAGILE  THIS SIDE UP  12kg", (int(rng.integers(0, w)), int(rng.integers(0, h))),
                        cv2.FONT_HERSHEY_SIMPLEX, float(rng.uniform(0.5, 1.5)), (20, 20, 20), 2)
        self.image = image


def frame(bench: Bench, label: np.ndarray | None, *, width_share: float = 0.35, angle: float = 4.0,
          centre: tuple[float, float] = (0.5, 0.5), blur: float = 1.2, noise: float = 6.0,
          seed: int = 0) -> np.ndarray:
    """One BGR camera frame: ``label`` (or none) on ``bench``, rotated, blurred and noisy.

    ``width_share`` is the share of the frame's width the label covers;
    ``blur`` is the lens blur (Gaussian sigma) in 1080p pixels, scaled to the
    frame's size — the same optics on a 720p sensor blur fewer pixels.
    """
    image = bench.image.copy()
    w, h = bench.size
    if label is not None:
        scale = width_share * w / label.shape[1]
        scaled = cv2.resize(label, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        lh, lw = scaled.shape
        cx, cy = centre[0] * w, centre[1] * h
        matrix = cv2.getRotationMatrix2D((lw / 2, lh / 2), angle, 1.0)
        matrix[:, 2] += (cx - lw / 2, cy - lh / 2)
        # warp and blend only where the paper lands: a third of the work on a 1080p frame
        corners = cv2.transform(np.array([[[0, 0], [lw, 0], [0, lh], [lw, lh]]], np.float32), matrix)[0]
        x0, y0 = np.floor(corners.min(axis=0)).astype(int).clip(0, (w - 1, h - 1))
        x1, y1 = np.ceil(corners.max(axis=0)).astype(int).clip(1, (w, h))
        matrix[:, 2] -= (x0, y0)
        roi = (x1 - x0, y1 - y0)
        paper = cv2.warpAffine(cv2.cvtColor(scaled, cv2.COLOR_GRAY2BGR), matrix, roi, flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
        mask = cv2.warpAffine(np.full((lh, lw), 255, np.uint8), matrix, roi, flags=cv2.INTER_LINEAR)
        alpha = (mask.astype(np.float32) / 255.0)[..., None]
        # warm, slightly uneven light on the paper, as under a bench lamp
        tint = np.array([0.88, 0.93, 0.97], np.float32)
        under = image[y0:y1, x0:x1]
        image[y0:y1, x0:x1] = (under * (1 - alpha) + paper * tint * alpha).astype(np.uint8)
    if blur:
        image = cv2.GaussianBlur(image, (0, 0), blur * w / FULL_HD[0])
    if noise:
        grain = np.empty(image.shape, np.int16)
        cv2.setRNGSeed(seed)  # OpenCV's generator: ten times numpy's speed for a frame of grain
        cv2.randn(grain, 0, noise)
        image = cv2.add(image.astype(np.int16), grain).clip(0, 255).astype(np.uint8)
    return image


@dataclass
class Shot:
    """A stretch of video: ``frames`` frames of ``label`` (None = nothing in view)."""

    label: np.ndarray | None
    frames: int
    width_share: float = 0.35


def write_video(path: str | Path, shots: list[Shot], size: tuple[int, int] = HD, fps: float = 15.0,
                seed: int = 1) -> Path:
    """Film ``shots`` in order into ``path`` (.avi = MJPG, .mp4 = mp4v); the label drifts and turns a little."""
    path = Path(path)
    fourcc = cv2.VideoWriter_fourcc(*("mp4v" if path.suffix == ".mp4" else "MJPG"))
    writer = cv2.VideoWriter(str(path), fourcc, fps, size)
    if not writer.isOpened():
        raise OSError(f"OpenCV cannot write video {path}")
    bench = Bench(size, seed)
    n = 0
    try:
        for shot in shots:
            for i in range(shot.frames):
                t = i / max(1, shot.frames)
                writer.write(frame(bench, shot.label, width_share=shot.width_share,
                                   angle=-4 + 8 * t, centre=(0.45 + 0.1 * t, 0.5 + 0.05 * math.sin(6 * t)),
                                   seed=seed * 10007 + n))
                n += 1
    finally:
        writer.release()
    return path
