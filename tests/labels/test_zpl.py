"""ZPL: golden files, and hostile text that must never become printer commands."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from labels import disposition_label, render, rma_label
from labels.zpl import field_data

from .conftest import decode, zpl_images

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"  # UPDATE_GOLDEN=1 pytest tests/labels rewrites them


@pytest.mark.parametrize("dpi", (203, 300))
def test_zpl_matches_its_golden_file(sample, dpi):
    key, label, _ = sample
    [zpl] = render([label], "zpl", dpi)
    golden = GOLDEN / f"{key}-{dpi}.zpl"
    if UPDATE:
        golden.write_bytes(zpl)
    assert golden.is_file(), f"no golden file {golden.name}: run UPDATE_GOLDEN=1 pytest tests/labels, review it"
    assert zpl.decode("ascii") == golden.read_text("ascii")


HOSTILE = [
    "ACME^FS^XZ^XA^FDFAKE",
    "~JR",  # would reset the printer
    "~JA^XZ~HS",
    "line one\nline two\r\n^XA^FO0,0^FDX^FS^XZ",
    "_5E_7E back\\slash \\& under_score",
    "\x00\x02\x03\x1b[0m\x7f",
    "^CI0^XZ^XA^FO10,10^BCN,100^FDRMA-EVIL^FS^XZ",
    ">:>;>5 ~DGR:EVIL.GRF,2,1,FF",
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_gives_exactly_one_label_with_the_right_barcode(hostile):
    label = rma_label("RMA-2026-000777", customer=hostile, order=hostile, reason=hostile, day="2026-11-21")
    [zpl] = render([label], "zpl", 203)
    text = zpl.decode("ascii")  # pure ASCII: every other byte went through ^FH
    assert text.count("^XA") == 1 and text.count("^XZ") == 1
    assert "~" not in text, "a ~ reached the printer as a control command"
    for line in text.splitlines():
        assert line.startswith("^"), f"a line does not start with a command: {line!r}"
        for data in re.findall(r"\^FD(.*?)\^FS", line):
            assert "^" not in data and "~" not in data
    images = zpl_images(zpl, 203)
    assert len(images) == 1
    assert decode(images[0]) == ["RMA-2026-000777"]


@pytest.mark.parametrize("hostile", ["ACME^FS^XZ^XA^FDFAKE", "~JR", "~JA^XZ~HS", "_5E_7E\\&_", ">:>;>5>0<"])
def test_hostile_sku_in_a_barcode_is_encoded_not_obeyed(hostile):
    label = disposition_label("SCRAPPED", sku=hostile, rma="RMA-1", line=1)
    [zpl] = render([label], "zpl", 203)
    assert zpl.count(b"^XA") == 1 and b"~" not in zpl
    images = zpl_images(zpl, 203)
    assert len(images) == 1
    assert decode(images[0]) == [hostile]


@pytest.mark.parametrize("sku", ["line one\nline two", "SKU\x00", "SKU\x1b[0m", "SKU-ü"])
def test_a_barcode_with_characters_no_scanner_types_is_refused(sku):
    from labels import LabelError

    with pytest.raises(LabelError, match="cannot be a barcode"):
        render([disposition_label("SCRAPPED", sku=sku, rma="RMA-1", line=1)], "zpl", 203)


def test_field_data_is_utf8_hex_escaped_and_decodes_back():
    for text in [*HOSTILE, "Zoë Łódź 東京", ""]:
        escaped = field_data(text)
        assert re.fullmatch(r"[ -~]*", escaped) and not set("^~\\") & set(escaped)
        raw = re.sub(r"_([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), escaped)
        assert raw.encode("latin-1").decode("utf-8") == text


def test_the_printer_reads_escaped_utf8_as_the_right_character():
    """zplkit decodes ^FH + ^CI28 like a printer: the escaped bytes of 'ë' arrive as 'ë'.

    Its built-in font has no 'ë', so it names the glyph it could not draw — the
    character it decoded.  (Read as Latin-1 it would have been 'Ã' and '«'.)
    """
    import zplkit
    from zplkit.rendering import RenderError

    zpl = f"^XA^CI28^FO10,10^A0N,30,30^FH^FD{field_data('Zoë')}^FS^XZ"
    try:
        document = zplkit.render(zpl, zplkit.Options(dpi=203))
    except RenderError as exc:
        assert "'ë'" in str(exc)
    else:
        assert len(document.labels) == 1


def _every_label_with(hostile: str):
    from labels import badge_label, command_sheet

    return [
        (
            disposition_label(
                "RESELLABLE",
                sku="SKU-1",
                rma=hostile,
                line=hostile,
                grade=hostile,
                defect=hostile,
                inspector=hostile,
                day=hostile,
            ),
            "SKU-1",
        ),
        (badge_label("anna", name=hostile), "OP:anna"),
        (rma_label("RMA-1", customer=hostile, order=hostile, reason=hostile, size="4x2", day=hostile), "RMA-1"),
        (command_sheet(["PASS"]), "CMD:PASS"),
    ]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_in_every_field_of_every_label_stays_text(hostile):
    for label, barcode in _every_label_with(hostile):
        [zpl] = render([label], "zpl", 300)
        assert zpl.count(b"^XA") == 1 and zpl.count(b"^XZ") == 1 and b"~" not in zpl
        images = zpl_images(zpl, 300)
        assert len(images) == 1
        assert decode(images[0]) == [barcode]
