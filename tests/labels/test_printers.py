"""Printers: a real listening socket on 127.0.0.1 as the ZPL printer, CUPS's lp, files."""

from __future__ import annotations

import os
import socket
import stat
import threading

import pytest

from labels import PrinterError, PrinterNotReady, open_printer, render, rma_label
from labels.printers import CupsPrinter, FilePrinter, TcpPrinter, parse_host_status
from tests.helpers.loopback_printer import Listener, LoopbackPrinter, host_status_answer, refusing_url

from .conftest import decode, zpl_images

ZPL = render([rma_label("RMA-2026-000042", customer="ACME", day="2026-11-21")], "zpl", 203)[0]


@pytest.fixture
def printer():
    with LoopbackPrinter() as p:
        yield p


def test_a_ready_printer_gets_the_job_it_can_print(printer):
    open_printer(printer.url, timeout=2).print(ZPL, "zpl")
    [job] = printer.wait_for_jobs(1)
    assert job == ZPL
    assert printer.status_requests == 2  # asked ~HS before sending, and after: nothing left in its buffer
    [image] = zpl_images(job, 203)
    assert decode(image) == ["RMA-2026-000042"]


@pytest.mark.parametrize(
    "flag, problem", [("paper_out", "paper out"), ("head_open", "head open"), ("paused", "paused")]
)
def test_a_printer_that_says_it_cannot_print_gets_no_job(printer, flag, problem):
    setattr(printer, flag, True)
    tcp = open_printer(printer.url, timeout=2)
    assert tcp.status().problem == problem
    with pytest.raises(PrinterNotReady, match=problem):
        tcp.print(ZPL, "zpl")
    assert printer.wait_for_jobs(1, timeout=0.3) == []


def test_a_printer_that_accepts_and_never_answers_is_not_ready():
    with LoopbackPrinter(answers=False) as silent:
        tcp = open_printer(silent.url, timeout=0.5)
        status = tcp.status()
        assert not status.ready and "not answering" in status.problem
        with pytest.raises(PrinterNotReady, match="not answering"):
            tcp.print(ZPL, "zpl")


def test_a_refused_connection_is_one_clear_error():
    tcp = open_printer(refusing_url(), timeout=1)
    with pytest.raises(PrinterError, match="refused the connection"):
        tcp.print(ZPL, "zpl")
    assert not tcp.status().ready


def test_host_status_parsing_reads_each_flag():
    with LoopbackPrinter(paper_out=True, paused=True) as p:
        answer = p.host_status()
    assert parse_host_status(answer).problem == "paper out, paused"
    assert parse_host_status(b"").problem == "not answering"
    assert parse_host_status(b"\x02garbage\x03\r\n\x02x\x03\r\n").problem == "status not understood"


def test_a_status_answer_split_across_packets_is_read_whole():
    """Printers answer in pieces; the reader waits for all three strings."""
    server = socket.create_server(("127.0.0.1", 0))
    answer = host_status_answer(head_open=True)

    def serve():
        conn, _ = server.accept()
        with conn:
            conn.recv(16)
            for i in range(0, len(answer), 7):
                conn.sendall(answer[i : i + 7])
                threading.Event().wait(0.01)

    worker = threading.Thread(target=serve)
    worker.start()
    try:
        status = open_printer(f"tcp://127.0.0.1:{server.getsockname()[1]}", timeout=2).status()
    finally:
        worker.join(5)
        server.close()
    assert status.problem == "head open"


@pytest.mark.parametrize(
    "url, kind, dpi",
    [
        ("tcp://10.0.0.20:9100", TcpPrinter, 203),
        ("tcp://printer?dpi=300", TcpPrinter, 300),
        ("cups:Zebra_GK420d", CupsPrinter, 203),
        ("file:/tmp/labels.zpl", FilePrinter, 203),
        ("file:///tmp/labels.zpl?dpi=300", FilePrinter, 300),
    ],
)
def test_printer_urls(url, kind, dpi):
    printer = open_printer(url)
    assert isinstance(printer, kind) and printer.dpi == dpi


@pytest.mark.parametrize(
    "url", ["", "lpt1", "http://printer", "tcp://", "tcp://host:port", "cups:", "tcp://host?dpi=600"]
)
def test_bad_printer_urls_say_what_is_wrong(url):
    with pytest.raises(PrinterError):
        open_printer(url)


def test_a_tcp_printer_takes_only_zpl(printer):
    with pytest.raises(PrinterError, match="prints zpl"):
        open_printer(printer.url).print(b"%PDF-1.4", "pdf")


def test_file_printer_appends_zpl_and_replaces_pdf(tmp_path):
    spool = open_printer(f"file:{tmp_path}/spool.zpl")
    spool.print(ZPL, "zpl")
    spool.print(ZPL, "zpl")
    assert (tmp_path / "spool.zpl").read_bytes() == ZPL + ZPL
    sheet = open_printer(f"file:{tmp_path}/label.pdf")
    sheet.print(b"%PDF-first", "pdf")
    sheet.print(b"%PDF-second", "pdf")
    assert (tmp_path / "label.pdf").read_bytes() == b"%PDF-second"
    missing = open_printer(f"file:{tmp_path}/nope/label.zpl")
    assert not missing.status().ready
    with pytest.raises(PrinterError, match="cannot write"):
        missing.print(ZPL, "zpl")


@pytest.fixture
def fake_cups(tmp_path, monkeypatch):
    """lp and lpstat stand-ins on PATH (no CUPS daemon here): they record their arguments and input."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "lp.log"
    (bin_dir / "lp").write_text(
        "#!/bin/sh\n"
        'if [ "$2" = "broken" ]; then echo "lp: The printer or class does not exist." >&2; exit 1; fi\n'
        f'echo "$@" >> {log}\ncat >> {log}.data\necho "request id is $2-1 (1 file(s))"\n'
    )
    (bin_dir / "lpstat").write_text(
        "#!/bin/sh\n"
        'case "$2" in off) echo "printer off disabled since Sat" ;;'
        ' broken) echo "lpstat: Invalid destination name" >&2; exit 1 ;;'
        ' *) echo "printer $2 is idle.  enabled since Sat" ;; esac\n'
    )
    for tool in ("lp", "lpstat"):
        (bin_dir / tool).chmod(stat.S_IRWXU)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def test_cups_sends_zpl_raw_and_pdf_as_a_document(fake_cups):
    cups = open_printer("cups:Zebra")
    assert cups.status().ready
    cups.print(ZPL, "zpl")
    cups.print(b"%PDF-1.4 fake", "pdf")
    calls = fake_cups.read_text().splitlines()
    assert calls[0].split() == ["-d", "Zebra", "-t", "RMA", "labels", "-o", "raw"]
    assert "raw" not in calls[1]
    assert fake_cups.with_suffix(".log.data").read_bytes() == ZPL + b"%PDF-1.4 fake"


def test_cups_problems_are_one_line(fake_cups):
    assert open_printer("cups:off").status().problem == "queue off is disabled"
    assert "Invalid destination" in open_printer("cups:broken").status().problem
    with pytest.raises(PrinterError, match="does not exist"):
        open_printer("cups:broken").print(ZPL, "zpl")


def test_cups_without_lp_installed_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PrinterError, match="not installed"):
        open_printer("cups:Zebra").print(ZPL, "zpl")


# --- delivery is confirmed: a socket that took bytes is not a printed label ---------------------


class BadPrinter(Listener):
    """A real listening socket that answers the first ``~HS`` "ready", then misbehaves as told.

    ``resets``: reads a little of the job, then resets the connection (RST).
    ``never-reads``: reads nothing after the first status answer, holds the connection open.
    ``no-second-status``: reads the whole job but never answers the ``~HS`` that follows it.
    """

    def __init__(self, behaviour: str):
        self.behaviour = behaviour
        self.received = b""
        super().__init__()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.1)
        with conn:
            asked = b""
            while b"~HS" not in asked and not self._stop.is_set():
                try:
                    asked += conn.recv(3 - len(asked) if len(asked) < 3 else 1)
                except TimeoutError:
                    continue
            conn.sendall(host_status_answer())
            if self.behaviour == "resets":
                while len(self.received) < 100 and not self._stop.is_set():
                    try:
                        self.received += conn.recv(50)
                    except TimeoutError:
                        continue
                self._stop.wait(0.05)  # the sender has had time to think the job is done
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                return  # closing with linger 0: a reset
            while not self._stop.is_set():
                if self.behaviour == "never-reads":
                    self._stop.wait(0.1)
                    continue
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                self.received += chunk


@pytest.mark.parametrize(
    "behaviour, says",
    [
        ("resets", "dropped the connection"),
        ("never-reads", "did not confirm"),
        ("no-second-status", "did not confirm"),
    ],
)
def test_a_printer_that_says_ready_then_misbehaves_has_not_printed(behaviour, says):
    with BadPrinter(behaviour) as bad, pytest.raises(PrinterError, match=says) as failed:
        open_printer(bad.url, timeout=0.5).print(ZPL, "zpl")
    assert "\n" not in str(failed.value)


def test_a_printer_that_never_reads_a_large_job_has_not_printed():
    big = ZPL * (24 * 1024 * 1024 // len(ZPL))  # more than any socket buffer holds
    with BadPrinter("never-reads") as bad, pytest.raises(PrinterError, match=r"stopped taking data|did not confirm"):
        open_printer(bad.url, timeout=0.5).print(big, "zpl")


def test_a_printer_whose_buffer_never_empties_has_not_printed(printer):
    """It says "ready", takes the bytes, and keeps reporting a format in its buffer that never prints."""
    printer.formats_in_buffer, printer.labels_remaining = 1, 1
    with pytest.raises(PrinterError, match=r"did not confirm.*1 format\(s\) in its buffer, 1 label\(s\) left"):
        open_printer(printer.url, timeout=0.5).print(ZPL, "zpl")


def test_a_printer_that_works_through_its_buffer_confirms_the_job(printer):
    """Formats and labels waiting that go down, then reach zero: confirmed."""
    printer.formats_in_buffer, printer.labels_remaining, printer.drains = 2, 3, True
    open_printer(printer.url, timeout=2).print(ZPL, "zpl")
    assert printer.wait_for_jobs(1) == [ZPL]
    assert printer.status_requests >= 3  # before the job, then until the buffer was empty


def test_host_status_reads_formats_in_buffer_and_labels_remaining():
    status = parse_host_status(host_status_answer(formats=2, labels_remaining=7, partial=True))
    assert (status.formats, status.labels_remaining, status.partial) == (2, 7, True)
    assert status.ready  # waiting work is not a problem in itself
