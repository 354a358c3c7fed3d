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
    return cv2.copyMakeBorder(image, 0, 0, left, max(0, width - image.shape[1] - left), cv2.BORDER_CONSTANT, value=255)


def rma_label(
    code: str = "RMA-2026-000123", ean: str | None = None, module_px: int = 4, datamatrix: str | None = None
) -> np.ndarray:
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
    cv2.putText(
        title,
        "RETURN  -  RMA",
        (4 * module_px, 12 * module_px),
        cv2.FONT_HERSHEY_DUPLEX,
        module_px * 0.5,
        0,
        2,
        cv2.LINE_AA,
    )
    gap = np.full((6 * module_px, width), 255, np.uint8)
    stacked = [title]
    for part in parts:
        stacked += [_pad(part, width), gap]
    label = np.vstack(stacked)
    cv2.rectangle(label, (1, 1), (label.shape[1] - 2, label.shape[0] - 2), 0, 2)
    return label


def printed_rma_label(code: str = "RMA-2026-000123", dpi: int = 203) -> np.ndarray:
    """The station's own 4x6 RMA label (labels.designs), as the thermal printer prints it, in grey."""
    from labels.designs import rma_label as design
    from labels.layout import place
    from labels.pictures import to_image

    label = design(code, customer="Wang Fang", order="SO-2026-1187", reason="arrived broken", day="2026-11-30")
    return np.asarray(to_image(place(label, dpi)).convert("L"))


def waybill_label(barcode_text: str, module_px: int = 3) -> np.ndarray:
    """A carrier's waybill (面单) strip as its parcel wears it: the Code 128 of ``barcode_text`` and the line
    under it — the barcode holds exactly what the carrier prints in it (JD: ``<waybill>-<parcel>-<parcels>-``)."""
    bars = _text(
        _draw_linear(_modules("code128", barcode_text), module_px, 28 * module_px), barcode_text, module_px * 0.3
    )
    label = cv2.copyMakeBorder(
        bars, 8 * module_px, 8 * module_px, 6 * module_px, 6 * module_px, cv2.BORDER_CONSTANT, value=255
    )
    cv2.rectangle(label, (1, 1), (label.shape[1] - 2, label.shape[0] - 2), 0, 2)
    return label


def qr_label(text: str, module_px: int = 8) -> np.ndarray:
    """A carrier's or a returns portal's QR code of ``text`` on a white sticker."""
    return cv2.copyMakeBorder(
        matrix_image(text, "QR", module_px),
        5 * module_px,
        5 * module_px,
        5 * module_px,
        5 * module_px,
        cv2.BORDER_CONSTANT,
        value=255,
    )


def item_label(ean: str, module_px: int = 4) -> np.ndarray:
    """A product's own label: only an EAN-13 (12 digits given, check digit added) and its digits."""
    digits = barcode.get("ean13", ean).get_fullcode()
    bars = _text(_draw_linear(_modules("ean13", ean), module_px, 40 * module_px), digits, module_px * 0.35)
    return cv2.copyMakeBorder(
        bars, 6 * module_px, 6 * module_px, 6 * module_px, 6 * module_px, cv2.BORDER_CONSTANT, value=255
    )


def gs1_label(element_string: str, module_px: int = 4) -> np.ndarray:
    """A GS1-128 label of an element string such as ``0104012345678901`` + ``10LOT7``."""
    return cv2.copyMakeBorder(
        _draw_linear(_modules("gs1_128", element_string), module_px, 30 * module_px),
        20,
        20,
        20,
        20,
        cv2.BORDER_CONSTANT,
        value=255,
    )


def datamatrix_image(text: str, module_px: int = 6) -> np.ndarray:
    """A DataMatrix of ``text`` with a quiet zone (zbar cannot read these; zxing-cpp can)."""
    import zxingcpp

    image = np.asarray(
        zxingcpp.write_barcode_to_image(
            zxingcpp.create_barcode(text, zxingcpp.DataMatrix), scale=module_px, add_quiet_zones=True
        )
    )
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


@dataclass
class Bench:
    """A cluttered bench background of one size, drawn once from a seed and reused."""

    size: tuple[int, int] = FULL_HD
    seed: int = 1
    parcel: bool = False  # a parcel's plain cardboard side fills the middle of the view (where labels sit)

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
            cv2.line(
                image,
                tuple(int(v) for v in pts[0]),
                tuple(int(v) for v in pts[1]),
                tuple(int(c) for c in rng.integers(0, 255, 3)),
                int(rng.integers(1, 6)),
            )
        for _ in range(12):
            cv2.putText(
                image,
                "FRAGILE  THIS SIDE UP  12kg",
                (int(rng.integers(0, w)), int(rng.integers(0, h))),
                cv2.FONT_HERSHEY_SIMPLEX,
                float(rng.uniform(0.5, 1.5)),
                (20, 20, 20),
                2,
            )
        if self.parcel:
            # plain brown board, lit a little unevenly: where sensor grain shows most, as on the floor
            x0, y0, x1, y1 = w // 8, h // 10, w - w // 8, h - h // 10
            shade = (0.9 + 0.15 * (x[y0:y1, x0:x1] - x0) / (x1 - x0))[..., None]
            image[y0:y1, x0:x1] = (np.array([95, 140, 175], np.float32) * shade).astype(np.uint8)
        self.image = image


def frame(
    bench: Bench,
    label: np.ndarray | None,
    *,
    width_share: float = 0.35,
    angle: float = 4.0,
    centre: tuple[float, float] = (0.5, 0.5),
    blur: float = 1.2,
    noise: float = 6.0,
    seed: int = 0,
) -> np.ndarray:
    """One BGR camera frame: ``label`` (or none) on ``bench``, rotated, blurred and noisy.

    ``noise`` is the sensor grain's sigma in grey levels (a webcam in ordinary light: ~6).
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
        paper = cv2.warpAffine(
            cv2.cvtColor(scaled, cv2.COLOR_GRAY2BGR),
            matrix,
            roi,
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(0, 0, 0),
        )
        mask = cv2.warpAffine(np.full((lh, lw), 255, np.uint8), matrix, roi, flags=cv2.INTER_LINEAR)
        alpha = (mask.astype(np.float32) / 255.0)[..., None]
        # warm, slightly uneven light on the paper, as under a bench lamp
        tint = np.array([0.88, 0.93, 0.97], np.float32)
        under = image[y0:y1, x0:x1]
        image[y0:y1, x0:x1] = (under * (1 - alpha) + paper * tint * alpha).astype(np.uint8)
    if blur:
        image = cv2.GaussianBlur(image, (0, 0), blur * w / FULL_HD[0])
    if noise:
        # sensor grain of sigma ``noise`` grey levels in the luminance the decoders binarise: the same grain
        # on the three channels (cv2.randn with a plain number would fill the first channel only)
        grain = np.empty(image.shape[:2], np.int16)
        cv2.setRNGSeed(seed)  # OpenCV's generator: ten times numpy's speed for a frame of grain
        cv2.randn(grain, 0, noise)
        image = (image.astype(np.int16) + grain[..., None]).clip(0, 255).astype(np.uint8)
    return image


@dataclass
class Shot:
    """A stretch of video: ``frames`` frames of ``label`` (None = nothing in view)."""

    label: np.ndarray | None
    frames: int
    width_share: float = 0.35


def write_video(
    path: str | Path,
    shots: list[Shot],
    size: tuple[int, int] = HD,
    fps: float = 15.0,
    seed: int = 1,
    noise: float = 6.0,
    parcel: bool = False,
) -> Path:
    """Film ``shots`` in order into ``path`` (.avi = MJPG, .mp4 = mp4v); the label drifts and turns a little.

    ``noise`` is the sensor grain (sigma, grey levels); ``parcel`` puts the labels on a plain cardboard side.
    """
    path = Path(path)
    fourcc = cv2.VideoWriter_fourcc(*("mp4v" if path.suffix == ".mp4" else "MJPG"))
    writer = cv2.VideoWriter(str(path), fourcc, fps, size)
    if not writer.isOpened():
        raise OSError(f"OpenCV cannot write video {path}")
    bench = Bench(size, seed, parcel)
    n = 0
    try:
        for shot in shots:
            for i in range(shot.frames):
                t = i / max(1, shot.frames)
                writer.write(
                    frame(
                        bench,
                        shot.label,
                        width_share=shot.width_share,
                        angle=-4 + 8 * t,
                        centre=(0.45 + 0.1 * t, 0.5 + 0.05 * math.sin(6 * t)),
                        noise=noise,
                        seed=seed * 10007 + n,
                    )
                )
                n += 1
    finally:
        writer.release()
    return path


def matrix_image(text: str, kind: str = "QR", module_px: int = 6) -> np.ndarray:
    """A QR code or DataMatrix (``kind`` "QR" / "DataMatrix") of ``text`` with its quiet zone."""
    import zxingcpp

    fmt = zxingcpp.QRCode if kind == "QR" else zxingcpp.DataMatrix
    image = np.asarray(
        zxingcpp.write_barcode_to_image(zxingcpp.create_barcode(text, fmt), scale=module_px, add_quiet_zones=True)
    )
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


@dataclass(frozen=True)
class Photo:
    """A photograph-like picture of one barcode, and what it says (format and text, as the decoders name them)."""

    image: np.ndarray
    format: str
    text: str
    note: str = ""


# the families the station reads, each with codes of the kinds the floor sees
PHOTO_FAMILIES = ("Code128", "GS1-128", "EAN-13", "UPC-A", "EAN-8", "QR", "DataMatrix")


def _photo_code(family: str, rng: np.random.Generator) -> tuple[np.ndarray, str, str]:
    """(grey image of a ``family`` code with its quiet zone, its width in modules, format name, expected text)."""
    px = int(rng.integers(2, 5))
    digits = lambda n: "".join(str(int(d)) for d in rng.integers(0, 10, n))  # noqa: E731
    if family in ("Code128", "GS1-128"):
        if family == "Code128":
            text = rng.choice(["RMA-2026-", "SF", "JD", "LP-", "BIN-A"]) + digits(int(rng.integers(4, 10)))
            modules, shown = _modules("code128", text), text
        else:
            gtin = barcode.get("ean13", digits(12)).get_fullcode()
            text = f"01{gtin.zfill(14)}10LOT{digits(3)}"
            modules, shown = _modules("gs1_128", text), text
        fmt = "Code128"
    elif family in ("EAN-13", "UPC-A", "EAN-8"):
        name, n = {"EAN-13": ("ean13", 12), "UPC-A": ("upca", 11), "EAN-8": ("ean8", 7)}[family]
        code = barcode.get(name, digits(n))
        modules, shown, text, fmt = code.build()[0], code.get_fullcode(), code.get_fullcode(), family
    else:
        text = rng.choice(
            [
                f"RMA-2026-{digits(6)}",
                f"https://returns.example/t/{digits(10)}",
                f"01{barcode.get('ean13', digits(12)).get_fullcode().zfill(14)}21SN{digits(6)}",
            ]
        )
        module_px = int(rng.integers(3, 7))
        image = matrix_image(text, family, module_px)
        return image, image.shape[1] / module_px, family, text
    image = _text(_draw_linear(modules, px, int(rng.integers(18, 45)) * px), shown, px * 0.3)
    image = cv2.copyMakeBorder(image, 6 * px, 6 * px, 4 * px, 4 * px, cv2.BORDER_CONSTANT, value=255)
    return image, image.shape[1] / px, fmt, text


def photo(family: str, seed: int, size: tuple[int, int] = (1280, 960)) -> Photo:
    """A photograph-like picture of one ``family`` code: as a phone or webcam takes it, not as it was printed.

    The code is printed on paper lying on a textured surface, seen at an angle
    (a perspective warp), under uneven light (a gradient and a shadow), out of
    focus or moved (Gaussian or motion blur), with sensor grain, and saved as a
    JPEG of ordinary to poor quality; some QR codes are light on dark, as
    screens and dark packaging show them.
    """
    rng = np.random.default_rng([PHOTO_FAMILIES.index(family), seed])
    code, modules, fmt, text = _photo_code(family, rng)
    w, h = size
    # the surface: a smooth tone with fibres and printed scraps
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    surface = (130 + 40 * np.sin(x / rng.uniform(20, 90) + y / rng.uniform(30, 120))).astype(np.float32)
    surface += cv2.GaussianBlur(rng.normal(0, 25, (h, w)).astype(np.float32), (0, 0), 3)
    surface = surface.clip(0, 255).astype(np.uint8)
    for _ in range(6):
        cv2.putText(
            surface,
            "FRAGILE 12kg",
            (int(rng.integers(0, w)), int(rng.integers(0, h))),
            cv2.FONT_HERSHEY_SIMPLEX,
            float(rng.uniform(0.6, 1.6)),
            int(rng.integers(20, 80)),
            2,
        )
    surface = surface.astype(np.float32)
    inverted = family == "QR" and rng.random() < 0.15
    if inverted:
        code = 255 - code
    # where the code lands: a quadrilateral of 1.5-5 pixels per module (at most 80% of the width), at an angle
    ch, cw = code.shape
    scale = min(float(rng.uniform(1.5, 5.0)) * modules, 0.8 * w) / cw
    qw, qh = cw * scale, ch * scale
    cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.35, 0.65) * h
    angle = np.deg2rad(
        rng.uniform(-180, 180) if family in ("QR", "DataMatrix") else rng.choice([0.0, 180.0]) + rng.uniform(-25, 25)
    )
    corners = np.array([[-qw / 2, -qh / 2], [qw / 2, -qh / 2], [qw / 2, qh / 2], [-qw / 2, qh / 2]])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    tilt = rng.uniform(-0.12, 0.12, (4, 2)) * max(qw, qh)  # perspective: each corner moved a little
    dst = (corners @ rot.T + tilt + (cx, cy)).astype(np.float32)
    src = np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    paper = cv2.warpPerspective(
        code.astype(np.float32), matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    mask = cv2.warpPerspective(np.ones((ch, cw), np.float32), matrix, size, flags=cv2.INTER_LINEAR)
    ink = float(rng.uniform(0, 40))  # thermal or inkjet black is not pure black
    paper = ink + paper * (1 - ink / 255) * float(rng.uniform(0.85, 1.0))
    image = surface * (1 - mask) + paper * mask
    # uneven light: a gradient across the picture and a soft shadow
    gx, gy = rng.uniform(-0.5, 0.5, 2)
    light = 1 + gx * (x / w - 0.5) + gy * (y / h - 0.5)
    sx, sy, sr = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.1, 0.4) * w
    light *= 1 - float(rng.uniform(0, 0.45)) * np.exp(-((x - sx) ** 2 + (y - sy) ** 2) / (2 * sr * sr))
    image = image * light
    # focus or motion
    if rng.random() < 0.3:
        length = int(rng.integers(3, 8))
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1 / length
        rotm = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), float(rng.uniform(0, 180)), 1)
        image = cv2.filter2D(image, -1, cv2.warpAffine(kernel, rotm, (length, length)))
        note = f"motion blur {length} px"
    else:
        sigma = float(rng.uniform(0.4, 2.0))
        image = cv2.GaussianBlur(image, (0, 0), sigma)
        note = f"blur {sigma:.1f}"
    image += rng.normal(0, rng.uniform(2, 8), image.shape).astype(np.float32)
    tint = rng.uniform(0.8, 1.0, 3)
    bgr = np.clip(image[..., None] * tint, 0, 255).astype(np.uint8)
    quality = int(rng.integers(25, 85))
    bgr = cv2.imdecode(cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])[1], cv2.IMREAD_COLOR)
    note += f", JPEG q{quality}" + (", light on dark" if inverted else "")
    return Photo(bgr, fmt, text, note)


def photo_set(per_family: int = 20, size: tuple[int, int] = (1280, 960)) -> list[Photo]:
    """``per_family`` photograph-like pictures of each family the station reads (always the same ones)."""
    return [photo(family, seed, size) for family in PHOTO_FAMILIES for seed in range(per_family)]
