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
independent decoder.

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

    def __init__(self, try_downscale: bool = True, try_rotate: bool = True, try_invert: bool = False,
                 fixed_threshold: bool = False, formats: str = f"{LINEAR},{MATRIX}") -> None:
        import zxingcpp

        self._zx = zxingcpp
        self._formats = zxingcpp.barcode_formats_from_str(formats)
        # Labels are black on white: trying the inverse costs a second pass, worth it only where codes
        # can be light on dark (QR codes on screens and dark packaging: the 2D passes).
        # A fixed threshold reads blurred bars that the (default) local-average binariser
        # breaks up, and is faster; it fails under uneven light, hence the station's other passes.
        binarizer = zxingcpp.Binarizer.FixedThreshold if fixed_threshold else zxingcpp.Binarizer.LocalAverage
        self._options = dict(try_rotate=try_rotate, try_downscale=try_downscale, try_invert=try_invert,
                             text_mode=zxingcpp.TextMode.Plain, binarizer=binarizer)

    def decode(self, image: np.ndarray) -> list[Read]:
        """Every station barcode zxing-cpp finds in ``image``."""
        found = self._zx.read_barcodes(grey(image), formats=self._formats, **self._options)
        reads = []
        for code in found:
            pos = code.position
            xs = [pos.top_left.x, pos.top_right.x, pos.bottom_left.x, pos.bottom_right.x]
            ys = [pos.top_left.y, pos.top_right.y, pos.bottom_left.y, pos.bottom_right.y]
            reads.append(Read(code.text, _ZXING_NAMES.get(code.format.name, code.format.name),
                              code.symbology_identifier, (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))))
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
        return [Read(code.data.decode("utf-8", "replace"), _ZBAR_NAMES.get(code.type, code.type), "",
                     (code.rect.left, code.rect.top, code.rect.width, code.rect.height))
                for code in found]


MATRIX_FORMATS = ("DataMatrix", "QR")


class StationDecoder:
    """The station's pipeline, chosen from bench/camera_bench.py's measurements on noisy frames.

    What a camera frame costs is set by its sensor grain: zxing-cpp's
    local-average binariser turns the grain of a plain parcel side into
    speckle, and its DataMatrix and QR detectors then chase every speck (a
    noisy 1080p frame: ~20 fps for the 2D detectors alone, against ~300 fps
    for the linear readers). So, on one grey frame:

    1. halve a frame wider than ``fast_width`` (averaging four pixels halves
       the grain; a label filling a third of a 1080p frame still has ~1.6 px
       per bar module) and read every symbology with a fixed threshold — the
       cheapest pass, and the one that best reads slightly blurred bars;
    2. if no linear code was read: the linear readers on the full-size frame
       with the local-average binariser (uneven light, small or far labels);
    3. if no 2D code was read: the DataMatrix and QR detectors on the
       full-size frame with a fixed threshold (small codes: a fixed threshold
       makes no speckle of grain around a mid-grey), then on the halved frame
       with the local-average binariser, light-on-dark codes too (uneven light);
    4. every ``thorough_every``-th frame in which still no 2D code was read:
       the 2D detectors with the local-average binariser on the full-size
       frame — for a small code under uneven light — at the full cost, so
       only on one frame in so many (0 = never).

    A frame with nothing in view (most frames at a bench) costs every pass;
    that is the figure that must stay above 30 fps. Boxes are given in
    full-frame pixels. For a still photograph, where time is not short,
    :meth:`decode_photo` asks every pass and both decoders.
    """

    name = "station"

    def __init__(self, fast_width: int = 1280, thorough_every: int = 0) -> None:
        self.fast_width = fast_width
        self.thorough_every = thorough_every
        self._frames = 0
        self._fast = ZxingDecoder(try_downscale=False, fixed_threshold=True)
        self._linear = ZxingDecoder(try_downscale=False, formats=LINEAR)
        self._matrix_fixed = ZxingDecoder(try_downscale=False, fixed_threshold=True, formats=MATRIX)
        self._matrix = ZxingDecoder(try_downscale=False, try_invert=True, formats=MATRIX)
        self._photo_zxing: ZxingDecoder | None = None
        self._photo_zbar: ZbarDecoder | None = None

    def decode(self, image: np.ndarray) -> list[Read]:
        """Every station barcode in one camera frame ``image``, cheapest pass first."""
        self._frames += 1
        g = grey(image)
        factor = 2 if g.shape[1] > self.fast_width else 1
        small = cv2.resize(g, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA) if factor == 2 else g
        reads = _scaled(self._fast.decode(small), factor)
        if not any(r.format not in MATRIX_FORMATS for r in reads):
            reads = _merged(reads, self._linear.decode(g))
        for matrix_pass in (lambda: self._matrix_fixed.decode(g) if factor == 2 else [],
                            lambda: _scaled(self._matrix.decode(small), factor),
                            lambda: self._matrix.decode(g) if factor == 2 and self.thorough_every
                            and self._frames % self.thorough_every == 0 else []):
            if any(r.format in MATRIX_FORMATS for r in reads):
                break
            reads = _merged(reads, matrix_pass())
        return reads

    def decode_photo(self, image: np.ndarray) -> list[Read]:
        """Every station barcode in a still photograph: the camera's passes, then zxing-cpp's and zbar's own.

        A photo is decoded once, so it gets what a frame cannot afford: zxing-cpp
        with all its passes (downscaled, inverted) on the full picture, and zbar,
        which reads some blurred linear codes zxing-cpp does not.
        """
        if self._photo_zxing is None:
            self._photo_zxing = ZxingDecoder(try_downscale=True, try_invert=True)
            self._photo_zbar = ZbarDecoder()
        g = grey(image)
        reads = _merged(self.decode(g), self._photo_zxing.decode(g))
        return _merged(reads, self._photo_zbar.decode(g))


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


_ZXING_NAMES = {"Code128": "Code128", "EAN13": "EAN-13", "UPCA": "UPC-A", "EAN8": "EAN-8",
                "DataMatrix": "DataMatrix", "QRCode": "QR"}
_ZBAR_NAMES = {"CODE128": "Code128", "EAN13": "EAN-13", "UPCA": "UPC-A", "EAN8": "EAN-8", "QRCODE": "QR"}
