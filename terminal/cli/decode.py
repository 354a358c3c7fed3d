"""`rma decode`: read barcodes from label photos, a video file or a camera.

Useful on its own to check a label photo, and to see what the station's
camera would scan: with ``--video``/``--camera`` each scan is printed once, as
the station would receive it (debounced), not once per frame.
"""

from __future__ import annotations

import sys
import time
from gettext import gettext as _
from gettext import ngettext

import click

from terminal.cli.common import fail
from terminal.i18n import N_, number

# OpenCV and the decoders are imported inside the command: every other `rma`
# command would otherwise pay for loading them.
DECODER_NAMES = ("station", "zbar", "zxing")


def _line(source: str, read) -> str:
    """``source<TAB>format<TAB>text``, with tabs and line breaks in the text made spaces."""
    text = read.text.translate({9: " ", 10: " ", 13: " "})
    return f"{source}\t{read.format}\t{text}"


@click.command("decode")
@click.argument("images", nargs=-1, type=click.Path(dir_okay=False))
@click.option(
    "--video", type=click.Path(dir_okay=False), default=None, help=N_("Decode a video file as the camera would.")
)
@click.option("--camera", default=None, help=N_("Decode a camera (device index or stream URL) until Ctrl-C."))
@click.option("--seconds", type=float, default=None, help=N_("With --camera: stop after this many seconds."))
@click.option(
    "--decoder",
    type=click.Choice(DECODER_NAMES),
    default="station",
    show_default=True,
    help=N_("station = the station's pipeline (zxing-cpp); zxing; zbar."),
)
@click.option("--stats", is_flag=True, help=N_("With --video/--camera: print frames decoded per second on stderr."))
def decode(
    images: tuple[str, ...], video: str | None, camera: str | None, seconds: float | None, decoder: str, stats: bool
) -> None:
    """Print each barcode in IMAGE... (or each scan of --video / --camera) as file<TAB>format<TAB>text.

    Exits 1 when no barcode was found.
    """
    from terminal.scanning.camera import quiet_opencv
    from terminal.scanning.decoders import make_decoder

    quiet_opencv()

    if sum(bool(x) for x in (images, video, camera)) != 1:
        fail(_("give IMAGE files, or --video FILE, or --camera N (exactly one of them)"), 2)
    if images:
        _decode_images(images, make_decoder(decoder))
    else:
        _decode_stream(video or camera or "", make_decoder(decoder), seconds if camera else None, stats)


def _decode_images(images: tuple[str, ...], decoder) -> None:
    import cv2

    found = unreadable = 0
    empty: list[str] = []
    # a still picture is decoded once: the station's pipeline gives it every pass (decode_photo)
    decode = getattr(decoder, "decode_photo", decoder.decode)
    for path in images:
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            click.echo(
                "rma: "
                + _("{path}: not an image that can be read (missing, damaged or not a picture)").format(path=path),
                err=True,
            )
            unreadable += 1
            continue
        reads = decode(image)
        for read in reads:
            click.echo(_line(path, read))
            found += 1
        if not reads:
            empty.append(path)
    if not found and empty:
        if len(images) == 1:
            line = _("no barcode found in {image}").format(image=empty[0])
        else:
            line = ngettext(
                "no barcode found in the {count} readable image",
                "no barcode found in any of the {count} readable images",
                len(empty),
            ).format(count=len(empty))
        click.echo(f"rma: {line}", err=True)
    sys.exit(0 if found and not unreadable else 1)


def _decode_stream(source: str, decoder, seconds: float | None, stats: bool) -> None:
    from terminal.scanning.camera import CameraReader, Status

    found = 0

    def on_scan(read) -> None:
        nonlocal found
        found += 1
        click.echo(_line(source, read))

    problems: list[str] = []
    reader = CameraReader(
        source,
        on_scan,
        decoder=decoder,
        retry_seconds=2.0,
        on_state=lambda s: problems.append(s.message) if s.status in (Status.ABSENT, Status.LOST) else None,
    )
    started = time.monotonic()
    reader.start()
    try:
        while reader.is_alive() and (seconds is None or time.monotonic() - started < seconds):
            reader.join(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        reader.stop()
    elapsed = time.monotonic() - started
    if problems and not reader.frames:
        click.echo(f"rma: {problems[-1]}", err=True)
    elif not found:
        frames = ngettext("{count} frame", "{count} frames", reader.frames).format(count=number(reader.frames))
        click.echo(
            "rma: " + _("no barcode found in {source} ({frames})").format(source=source, frames=frames), err=True
        )
    if stats and reader.frames:
        click.echo(
            _("stats: {frames} frames in {seconds:.1f} s: {fps:.1f} fps ({decoding:.1f} fps decoding alone)").format(
                frames=reader.frames,
                seconds=elapsed,
                fps=reader.frames / elapsed,
                decoding=reader.frames / max(reader.decode_seconds, 1e-9),
            ),
            err=True,
        )
    sys.exit(0 if found else 1)
