"""Labels that print Chinese: PNG, PDF and ZPL, read back by OCR (tesseract chi_sim), as barcodes are by decoders.

What is seen is checked by independent readers only: tesseract reads the
text from the PNG, from the PDF rasterised by poppler and from the ZPL as
zplkit (an independent ZPL renderer) prints it; pdftotext reads the PDF's
text layer; pyzbar and zxing-cpp read the barcodes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from labels import badge_label, disposition_label, render, rma_label
from labels.layout import cjk_font_face, fit_lines, place

from .conftest import decode, ocr, ocr_lines, pdf_text, png_image, poppler_images, zpl_images


def chinese_labels():
    """(key, label, the Chinese it must show, the barcodes it must carry) for the labels with Chinese on them."""
    return [
        (
            "rma-4x6",
            rma_label("RMA-2026-000888", customer="张伟", order="SO-88812", reason="尺码偏小", day="2026-11-21"),
            ["张伟", "尺码偏小"],
            ["RMA-2026-000888"],
        ),
        (
            "rma-4x2",
            rma_label(
                "RMA-2026-000889", customer="李娜", order="SO-1", reason="质量问题", size="4x2", day="2026-11-21"
            ),
            ["李娜", "质量问题"],
            ["RMA-2026-000889"],
        ),
        (
            "disposition",
            disposition_label(
                "DISCOUNTED",
                sku="SKU-100234",
                rma="RMA-2026-000888",
                line=1,
                defect="外壳划痕",
                inspector="王芳",
                day="2026-11-21",
            ),
            ["外壳划痕", "王芳"],
            ["SKU-100234"],
        ),
        ("badge", badge_label("wangfang", "王芳"), ["王芳"], ["OP:wangfang"]),
    ]


@pytest.fixture(params=[s[0] for s in chinese_labels()])
def chinese(request):
    """(key, label, Chinese shown, barcodes) for each label with Chinese text."""
    return next(s for s in chinese_labels() if s[0] == request.param)


def _shows(read: str, words: list[str]) -> None:
    missing = [w for w in words if w not in read]
    assert not missing, f"OCR did not read {missing}; it read {read!r}"


def test_a_cjk_font_is_installed_and_found():
    face = cjk_font_face()
    assert face is not None, "no CJK font: ./dev setup installs fonts-wqy-microhei"
    assert face.path.is_file()


@pytest.mark.parametrize("dpi", (203, 300))
def test_png_label_shows_the_chinese_and_its_barcodes_decode(chinese, dpi):
    _, label, words, barcodes = chinese
    [png] = render([label], "png", dpi)
    image = png_image(png)
    _shows(ocr_lines(image, place(label, dpi)), words)
    assert decode(image) == sorted(barcodes)


@pytest.mark.parametrize("dpi", (203, 300))
def test_pdf_label_carries_the_chinese_in_its_text_layer_and_on_the_page(chinese, dpi):
    _, label, words, barcodes = chinese
    [pdf] = render([label], "pdf", dpi)
    text = "".join(pdf_text(pdf).split())
    assert all(w in text for w in words), f"pdftotext read {text!r}"
    [page] = poppler_images(pdf, dpi)
    _shows(ocr_lines(page, place(label, dpi)), words)
    assert decode(page) == sorted(barcodes)


@pytest.mark.parametrize("dpi", (203, 300))
def test_zpl_sends_chinese_as_a_graphic_a_stock_printer_prints(chinese, dpi):
    _, label, words, barcodes = chinese
    [zpl] = render([label], "zpl", dpi)
    text = zpl.decode("ascii")
    assert "^GFA," in text and ":Z64:" in text
    for field in re.findall(r"\^A0N[^\n]*", text):  # what goes as printer text is what font 0 draws
        raw = re.sub(r"_([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), field)
        raw.encode("latin-1").decode("utf-8").encode("cp1252")
    [image] = zpl_images(zpl, dpi)
    _shows(ocr_lines(image, place(label, dpi)), words)
    assert decode(image) == sorted(barcodes)


def test_a_latin_line_stays_printer_text_and_one_font_0_cannot_draw_goes_as_a_graphic():
    label = rma_label("RMA-1", customer="Zoë Müller", order="SO-1", reason="Łódź: Ελλάδα", day="2026-11-21")
    [zpl] = render([label], "zpl", 203)
    text = zpl.decode("ascii")
    assert text.count("^GFA,") == 1  # the reason only
    assert "^FDZo_C3_AB M_C3_BCller^FS" in text
    reason = next(line for line in text.splitlines() if "^GFA," in line)
    assert reason.startswith(f"^FO{place(label, 203).elements[9].x},")
    # zplkit, like font 0, has no 'Ł': the graphic is what lets it print at all (its font lacks 'ë' too)
    [image] = zpl_images(text.replace("Zo_C3_AB M_C3_BCller", "Zoe Muller").encode("ascii"), 203)
    assert decode(image) == ["RMA-1"]


def test_a_printer_resident_cjk_font_gets_text_not_graphics(chinese):
    """``zpl_cjk_font`` names a font the printer holds: Chinese goes as ^A@ text in it; a printer holding it prints it.

    The test plays that printer: zplkit is first sent the font (``~DU``), as
    a site would have stored it on the printer's flash once.
    """
    from zplkit.rendering import Limits

    from tests.helpers.fonts import ttf_of_face

    _, label, words, barcodes = chinese
    [zpl] = render([label], "zpl", 203, zpl_cjk_font="E:SIMSUN.TTF")
    text = zpl.decode("ascii")
    assert "^GF" not in text and "^A@N," in text and ",E:SIMSUN.TTF^FH^FD" in text
    face = cjk_font_face()
    assert face is not None
    font = ttf_of_face(face.path, face.index)
    download = f"~DUE:SIMSUN.TTF,{len(font)},{font.hex().upper()}\n".encode("ascii")
    import zplkit

    document = zplkit.render(
        download + zpl, zplkit.Options(dpi=203), limits=Limits(font_bytes=32 << 20, input_bytes=64 << 20)
    )
    [scene] = document.labels
    image = png_image(scene.png())
    _shows(ocr_lines(image, place(label, 203)), words)
    assert decode(image) == sorted(barcodes)


@pytest.mark.parametrize("name", ["SIMSUN.TTF", "E:SIMSUN.TTF^XZ", "E:~JR.TTF", "E:TOOLONGNAME.TTF", "E:SIMSUN"])
def test_a_printer_font_that_is_not_one_is_refused(name):
    from labels import LabelError

    label = rma_label("RMA-1", customer="张伟", day="2026-11-21")
    with pytest.raises(LabelError, match="not a printer font"):
        render([label], "zpl", 203, zpl_cjk_font=name)


def test_chinese_wraps_between_characters_and_is_cut_to_fit():
    comma = "\N{FULLWIDTH COMMA}"  # Chinese punctuation, wide like the characters around it
    reason = comma.join(["尺码偏小", "穿上太紧", "想换大一号的", "如果没有就退款"])
    lines = fit_lines(reason, 40, 400, lines=2)
    assert len(lines) == 2
    assert lines[1].endswith("...") and "".join(lines).startswith("尺码偏小" + comma)
    assert "".join(lines).replace("...", "") == reason[: len("".join(lines)) - 3]


def test_without_a_cjk_font_the_label_still_prints_and_says_so_in_one_line(tmp_path):
    """A machine whose fontconfig knows no Chinese font: Latin text and barcodes print, and one line says why."""
    conf = tmp_path / "fonts.conf"
    conf.write_text(  # fontconfig with only the Latin fonts' folder: no CJK font anywhere
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
        f"<fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{tmp_path}/cache</cachedir></fontconfig>"
    )
    out = tmp_path / "label.png"
    code = (
        "import sys; from labels import rma_label, render; "
        "label = rma_label('RMA-2026-000888', customer='张伟 Zhang Wei', reason='尺码偏小', day='2026-11-21'); "
        f"open({str(out)!r}, 'wb').write(render([label], 'png', 203)[0])"
    )
    env = {**os.environ, "FONTCONFIG_FILE": str(conf)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=Path(__file__).parents[2]
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "no Chinese font is installed" in lines[0] and "fonts-wqy-microhei" in lines[0]
    image = png_image(out.read_bytes())
    assert decode(image) == ["RMA-2026-000888"]
    assert "ZhangWei" in ocr(image, "eng")


def test_svg_label_shows_the_chinese_when_rasterised_by_cairo(chinese):
    from .conftest import svg_image

    _, label, words, barcodes = chinese
    [svg] = render([label], "svg", 203)
    image = svg_image(svg, 203)
    _shows(ocr_lines(image, place(label, 203)), words)
    assert decode(image) == sorted(barcodes)


def test_without_fontconfig_the_standard_font_folders_are_searched(tmp_path):
    """A machine without fc-list (nothing on PATH): the CJK font is still found in the standard folders."""
    code = "from labels.layout import cjk_font_face; face = cjk_font_face(); print(face.path if face else '')"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": str(tmp_path)},
        cwd=Path(__file__).parents[2],
        check=True,
    )
    found = Path(done.stdout.strip())
    assert found.is_file() and found.suffix.lower() in (".ttf", ".ttc")
    from reportlab.pdfbase.ttfonts import TTFont

    assert ord("张") in TTFont("check", str(found)).face.charToGlyph


@pytest.mark.parametrize("dpi", (203, 300))
def test_captions_printed_in_chinese_are_read_back_from_the_zpl(dpi):
    """The station's language names the fields: an RMA label in zh-CN, read by zplkit and tesseract."""
    from terminal import i18n

    i18n.use("zh-CN")
    label = rma_label("RMA-2026-000890", customer="Eva Jensen", order="SO-2", reason="wrong size", day="2026-11-21")
    [zpl] = render([label], "zpl", dpi)
    [image] = zpl_images(zpl, dpi)
    _shows(ocr_lines(image, place(label, dpi)), ["客户", "订单", "日期"])
    assert decode(image) == ["RMA-2026-000890"]
