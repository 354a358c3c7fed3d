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


class ZxingDecoder:
    """zxing-cpp restricted to the station's symbologies."""

    name = "zxing"

    def __init__(self, try_downscale: bool = True, try_rotate: bool = True, try_invert: bool = False,
                 fixed_threshold: bool = False) -> None:
        import zxingcpp

        self._zx = zxingcpp
        self._formats = zxingcpp.barcode_formats_from_str("Code128,EAN13,UPCA,EAN8,DataMatrix,QRCode")
        # Labels are black on white: trying the inverse costs a second pass for nothing.
        # A fixed threshold reads blurred bars that the (default) local-average binariser
        # breaks up, and is faster; it fails under uneven light, hence the station's second pass.
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


class StationDecoder:
    """The station's pipeline, chosen from bench/camera_bench.py's measurements.

    1. grey, and halve a frame wider than ``fast_width`` (a label filling a
       third of a 1080p frame still has ~1.6 px per bar module at half size);
    2. zxing-cpp with a fixed threshold on that: the fastest pass, and the one
       that best reads slightly blurred bars on a black-on-white label;
    3. only if nothing was read: zxing-cpp with its local-average binariser
       (and its own downscaled passes) on the full-size frame — for uneven
       light, small or far labels — so the second pass costs time only on
       frames where the first found nothing.
    Boxes are given in full-frame pixels.
    """

    name = "station"

    def __init__(self, fast_width: int = 1280) -> None:
        self.fast_width = fast_width
        self._fast = ZxingDecoder(try_downscale=False, fixed_threshold=True)
        self._thorough = ZxingDecoder(try_downscale=True)

    def decode(self, image: np.ndarray) -> list[Read]:
        """Every station barcode in ``image``, fast pass first."""
        g = grey(image)
        if g.shape[1] > self.fast_width:
            half = cv2.resize(g, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
            reads = [Read(r.text, r.format, r.symbology, tuple(2 * v for v in r.box)) for r in self._fast.decode(half)]
        else:
            reads = self._fast.decode(g)
        return reads or self._thorough.decode(g)


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
