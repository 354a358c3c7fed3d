"""Barcode decoders for camera frames: zxing-cpp, pyzbar, and the station's pipeline.

Each decoder reads only the symbologies the station uses — Code 128 (RMA
labels, badges, command sheets, GS1-128), EAN-13/UPC-A/EAN-8 (items),
DataMatrix and QR (GS1 item codes, some carriers) — which is faster than
"all formats" and cannot misread a scrap of text as a Codabar.

Why the station decodes with zxing-cpp (measured in bench/camera_bench.py,
figures in bench/README.md): it is faster than zbar on a cluttered 1080p
frame, it reads DataMatrix (zbar cannot), and it reports the AIM symbology
identifier (``]C1`` for GS1-128), so a GS1 item code read by the camera is
classified exactly as when a handheld scanner sends it. zbar stays available
(``rma decode --decoder zbar``) to compare and to check labels with a second,
independent decoder, and reads still photographs beside zxing-cpp
(:meth:`StationDecoder.decode_photo`): it reads some blurred long linear codes
that zxing-cpp does not.

Nothing here imports Textual.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np


@dataclass(frozen=True)
class Read:
    """One barcode read in one frame.

    ``text`` is what the code says (GS1 separators kept as GS); ``symbology`` is
    the AIM identifier when the decoder knows it (``]C1`` = GS1-128), so
    ``read_scan(symbology + text)`` sees what a scanner would have sent;
    ``box`` is (x, y, w, h) in the frame's pixels.
    """

    text: str
    format: str
    symbology: str = ""
    box: tuple[int, int, int, int] = (0, 0, 0, 0)

    @property
    def raw(self) -> str:
        """The text as a scanner sending AIM identifiers would type it."""
        return self.symbology + self.text


class Decoder(Protocol):
    """Anything that finds barcodes in a grey-scale or BGR frame."""

    name: str

    def decode(self, image: np.ndarray) -> list[Read]:
        """Every barcode found in ``image``."""


def grey(image: np.ndarray) -> np.ndarray:
    """The frame as one 8-bit grey channel (decoders binarise luminance only)."""
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


LINEAR = "Code128,EAN13,UPCA,EAN8"
MATRIX = "DataMatrix,QRCode"


class ZxingDecoder:
    """zxing-cpp restricted to the station's symbologies (or to ``formats``, a subset of them)."""

    name = "zxing"

    def __init__(
        self,
        try_downscale: bool = True,
        try_rotate: bool = True,
        try_invert: bool = False,
        fixed_threshold: bool = False,
        formats: str = f"{LINEAR},{MATRIX}",
    ) -> None:
        import zxingcpp

        self._zx = zxingcpp
        self._formats = zxingcpp.barcode_formats_from_str(formats)
        # Labels are black on white: trying the inverse costs a second pass, worth it only where codes
        # can be light on dark (QR codes on screens and dark packaging: the 2D passes).
        # A fixed threshold reads blurred bars that the (default) local-average binariser
        # breaks up, and is faster; it fails under uneven light, hence the station's other passes.
        binarizer = zxingcpp.Binarizer.FixedThreshold if fixed_threshold else zxingcpp.Binarizer.LocalAverage
        self._options = dict(
            try_rotate=try_rotate,
            try_downscale=try_downscale,
            try_invert=try_invert,
            text_mode=zxingcpp.TextMode.Plain,
            binarizer=binarizer,
        )

    def decode(self, image: np.ndarray) -> list[Read]:
        """Every station barcode zxing-cpp finds in ``image``."""
        found = self._zx.read_barcodes(grey(image), formats=self._formats, **self._options)
        reads = []
        for code in found:
            pos = code.position
            xs = [pos.top_left.x, pos.top_right.x, pos.bottom_left.x, pos.bottom_right.x]
            ys = [pos.top_left.y, pos.top_right.y, pos.bottom_left.y, pos.bottom_right.y]
            reads.append(
                Read(
                    code.text,
                    _ZXING_NAMES.get(code.format.name, code.format.name),
                    code.symbology_identifier,
                    (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)),
                )
            )
        return reads


class ZbarDecoder:
    """zbar (pyzbar) restricted to the station's symbologies; it cannot read DataMatrix."""

    name = "zbar"

    def __init__(self) -> None:
        from pyzbar import pyzbar

        self._zbar = pyzbar
        s = pyzbar.ZBarSymbol
        self._symbols = [s.CODE128, s.EAN13, s.UPCA, s.EAN8, s.QRCODE]

    def decode(self, image: np.ndarray) -> list[Read]:
        """Every station barcode zbar finds in ``image``."""
        g = np.ascontiguousarray(grey(image))
        found = self._zbar.decode((g.tobytes(), g.shape[1], g.shape[0]), symbols=self._symbols)
        return [
            Read(
                code.data.decode("utf-8", "replace"),
                _ZBAR_NAMES.get(code.type, code.type),
                "",
                (code.rect.left, code.rect.top, code.rect.width, code.rect.height),
            )
            for code in found
        ]


MATRIX_FORMATS = ("DataMatrix", "QR")


class StationDecoder:
    """The station's pipeline, chosen from bench/camera_bench.py's measurements on noisy frames.

    What a camera frame costs is set by its sensor grain: zxing-cpp's
    local-average binariser turns the grain of a plain parcel side into
    speckle, and its DataMatrix and QR detectors then chase every speck (a
    noisy 1080p frame: 35-70 ms for the 2D detectors alone, 5 ms for the
    linear readers). So, on one grey frame, linear codes and 2D codes each
    get their own passes, each pass only while its kind has not been read:

    - linear: a fixed threshold on the full-size frame (the fastest pass, and
      the one that best reads thin, slightly blurred bars). Never on a halved
      frame: bars of ~1.3 px there can read as another valid Code 128 (the
      4x6 label at 1080p read RMA-2026-000123 as RMA-2026-390123), while a 2D
      code's error correction refuses what it cannot read;
    - 2D: a fixed threshold on the frame halved (when wider than
      ``fast_width``: averaging four pixels halves the grain); then the
      local-average binariser, light-on-dark codes too, on that halved frame
      — or, on a frame not wider than ``fast_width``, on the frame smoothed
      (Gaussian sigma 1);
    - rescue passes, one per frame in turn (a code in view stays for many
      frames; the debouncer makes them one scan): the linear readers with the
      local-average binariser on the full-size frame (uneven light), and, on
      a halved frame, the 2D detectors on the smoothed full-size frame (codes
      too small to survive the halving). The 2D detectors never run on a
      grainy raw full-size frame, where the grain costs them ~20x; a frame
      without grain (:func:`grain` below ``GRAINY``) is not smoothed.

    A frame with nothing in view (most frames at a bench) costs every pass it
    is given; that is the figure that must stay above 30 fps. Boxes are in
    full-frame pixels. For a still photograph, where time is not short,
    :meth:`decode_photo` runs every pass and both decoders.
    """

    name = "station"

    def __init__(self, fast_width: int = 1280) -> None:
        self.fast_width = fast_width
        self._turn = 0
        self._linear_fixed = ZxingDecoder(try_downscale=False, fixed_threshold=True, formats=LINEAR)
        self._linear = ZxingDecoder(try_downscale=True, formats=LINEAR)
        self._matrix_fixed = ZxingDecoder(try_downscale=False, fixed_threshold=True, formats=MATRIX)
        self._matrix_both = ZxingDecoder(try_downscale=False, try_invert=True, formats=MATRIX)
        self._matrix = ZxingDecoder(try_downscale=False, formats=MATRIX)
        self._photo_zxing: ZxingDecoder | None = None
        self._photo_zbar: ZbarDecoder | None = None

    def decode(self, image: np.ndarray) -> list[Read]:
        """Every station barcode in one camera frame ``image``: the cheap passes and one rescue pass in turn."""
        return self._decode(image, every_pass=False)

    def _decode(self, image: np.ndarray, every_pass: bool) -> list[Read]:
        g = grey(image)
        halved = g.shape[1] > self.fast_width
        small = cv2.resize(g, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA) if halved else g
        factor = 2 if halved else 1
        smooth: list[np.ndarray] = []

        def smoothed() -> np.ndarray:
            # only a grainy frame is smoothed: on a clean one (or a JPEG photo) smoothing costs small codes
            if not smooth:
                smooth.append(cv2.GaussianBlur(g, (0, 0), 1.0) if grain(g) >= GRAINY else g)
            return smooth[0]

        reads = self._linear_fixed.decode(g)
        for matrix_pass in (
            lambda: _scaled(self._matrix_fixed.decode(small), factor),
            lambda: _scaled(self._matrix_both.decode(small if halved else smoothed()), factor),
        ):
            if any(map(_is_matrix, reads)):
                break
            reads = _merged(reads, matrix_pass())
        rescues = [(_is_linear, lambda: self._linear.decode(g))]
        if halved:
            rescues.append((_is_matrix, lambda: self._matrix.decode(smoothed())))
        due = [(kind, rescue) for kind, rescue in rescues if not any(map(kind, reads))]
        if due and not every_pass:
            self._turn += 1
            due = [due[self._turn % len(due)]]
        for _kind, rescue in due:
            reads = _merged(reads, rescue())
        return reads

    def decode_photo(self, image: np.ndarray) -> list[Read]:
        """Every station barcode in a still photograph: every pass, then zxing-cpp's and zbar's own.

        A photo is decoded once, so it gets what a frame cannot afford: zxing-cpp
        with all its passes (downscaled, inverted) on the full picture, and zbar,
        which reads some blurred linear codes zxing-cpp does not.
        """
        if self._photo_zxing is None or self._photo_zbar is None:
            self._photo_zxing = ZxingDecoder(try_downscale=True, try_invert=True)
            self._photo_zbar = ZbarDecoder()
        g = grey(image)
        reads = _merged(self._decode(g, every_pass=True), self._photo_zxing.decode(g))
        # zbar only adds codes zxing-cpp did not find at all: where both read one code and disagree
        # (a QR code in GB18030 without an ECI, each decoder guessing another charset) it is one code
        return _merged(reads, [r for r in self._photo_zbar.decode(g) if not any(_overlap(r, z) for z in reads)])


GRAINY = 2.5  # grey levels of sensor grain from which the 2D detectors are given a smoothed frame


def grain(image: np.ndarray) -> float:
    """The sensor grain of a grey frame, as a Gaussian sigma in grey levels (a cheap, robust estimate).

    The median difference between horizontal neighbours, on every fourth row:
    edges are too few to move a median, so what it measures is the grain.
    """
    d = cv2.absdiff(image[::4, 1::2], image[::4, 0 : image.shape[1] - 1 : 2])
    counts = np.cumsum(np.bincount(d.ravel(), minlength=256))
    median = int(np.searchsorted(counts, counts[-1] / 2))
    return median / 0.954  # |N(0, sqrt(2) sigma)| has its median at 0.954 sigma


def _is_linear(read: Read) -> bool:
    return read.format not in MATRIX_FORMATS


def _is_matrix(read: Read) -> bool:
    return read.format in MATRIX_FORMATS


def _scaled(reads: list[Read], factor: int) -> list[Read]:
    """``reads`` found in a frame shrunk by ``factor``, with their boxes in full-frame pixels."""
    if factor == 1:
        return reads
    return [Read(r.text, r.format, r.symbology, tuple(factor * v for v in r.box)) for r in reads]


def _merged(reads: list[Read], more: list[Read]) -> list[Read]:
    """``reads`` and those of ``more`` that say something new (the same code read twice is one read).

    UPC-A and the EAN-13 it is part of (a leading 0) are the same code.
    """
    seen = {_same_code(r) for r in reads}
    out = list(reads)
    for read in more:
        key = _same_code(read)
        if key not in seen:
            seen.add(key)
            out.append(read)
    return out


def _overlap(a: Read, b: Read) -> bool:
    """True when the boxes of ``a`` and ``b`` share pixels (the same code, read twice)."""
    ax, ay, aw, ah = a.box
    bx, by, bw, bh = b.box
    return ax <= bx + bw and bx <= ax + aw and ay <= by + bh and by <= ay + ah


def _same_code(read: Read) -> tuple[str, str]:
    if read.format in ("EAN-13", "UPC-A"):
        return "GTIN", read.text.zfill(13)
    return read.format, read.text


DECODERS = {"station": StationDecoder, "zxing": ZxingDecoder, "zbar": ZbarDecoder}


def make_decoder(name: str = "station") -> Decoder:
    """A decoder by name: station (the chosen pipeline), zxing or zbar."""
    try:
        return DECODERS[name]()
    except KeyError:
        raise ValueError(f"unknown decoder {name!r}; choose one of {', '.join(DECODERS)}") from None


_ZXING_NAMES = {
    "Code128": "Code128",
    "EAN13": "EAN-13",
    "UPCA": "UPC-A",
    "EAN8": "EAN-8",
    "DataMatrix": "DataMatrix",
    "QRCode": "QR",
}
_ZBAR_NAMES = {"CODE128": "Code128", "EAN13": "EAN-13", "UPCA": "UPC-A", "EAN8": "EAN-8", "QRCODE": "QR"}
