"""The station's print queue against real loopback printers: kept, retried, never dropped."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from labels import badge_label, disposition_label, rma_label
from terminal.config import Settings
from terminal.printing import PrintQueue, PrintQueueError, print_label, queue_path_for
from tests.helpers.loopback_printer import LoopbackPrinter, refusing_url


def decode(image):
    """Barcodes in an image, read by zbar."""
    from pyzbar import pyzbar

    return sorted(d.data.decode("ascii") for d in pyzbar.decode(image.convert("L")))


def zpl_images(zpl: bytes, dpi: int):
    """ZPL as zplkit (an independent renderer) prints it."""
    import io

    import zplkit
    from PIL import Image

    return [Image.open(io.BytesIO(s.png())) for s in zplkit.render(zpl, zplkit.Options(dpi=dpi)).labels]


FAST = dict(retry_pauses=(0.05,), idle_check=0.2)


def wait_until(condition, timeout=10.0):
    """Poll until condition() is true; False if it never became true (the test's assert says what)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def label(n: int):
    return rma_label(f"RMA-2026-{n:06d}", customer="ACME", day="2026-11-21")


@pytest.fixture
def queue_file(tmp_path):
    return tmp_path / "station.print-queue.db"


def test_jobs_print_in_order_on_a_ready_printer(queue_file):
    with LoopbackPrinter() as printer, PrintQueue(queue_file, printer.url, **FAST) as queue:
        ids = [queue.submit(label(n)) for n in (1, 2, 3)]
        queue.start()
        jobs = printer.wait_for_jobs(3)
        assert [queue.data(i) for i in ids] == jobs
        assert wait_until(lambda: queue.waiting() == 0)
        assert all(j.state == "printed" and j.printer == printer.url for j in queue.jobs())


def test_a_printer_out_of_paper_keeps_every_job_and_prints_them_once_fixed(queue_file):
    states = []
    with (
        LoopbackPrinter(paper_out=True) as printer,
        PrintQueue(queue_file, printer.url, on_change=states.append, **FAST) as queue,
    ):
        ids = [queue.submit(label(n)) for n in (1, 2)]
        queue.start()
        assert wait_until(lambda: queue.jobs()[-1].attempts >= 3)
        first = next(j for j in queue.jobs() if j.id == ids[0])
        assert first.state == "waiting" and "paper out" in first.last_error
        assert queue.waiting() == 2 and printer.jobs == []
        assert any("NOT READY: paper out" in s.text for s in states)
        printer.paper_out = False
        queue.retry_now()
        assert printer.wait_for_jobs(2) == [queue.data(i) for i in ids]
        assert wait_until(lambda: "PRINTER ready" in states[-1].text and queue.waiting() == 0)


@pytest.mark.parametrize("broken", ["silent", "refusing"])
def test_jobs_survive_a_dead_printer_and_a_restart(queue_file, broken):
    silent = LoopbackPrinter(answers=False)
    url = silent.url if broken == "silent" else refusing_url()
    try:
        with PrintQueue(queue_file, url, **FAST) as queue:
            queue.printer.timeout = 0.3
            job = queue.submit(label(7))
            queue.start()
            assert wait_until(lambda: queue.jobs()[0].attempts >= 1)
            assert not queue.state().status.ready
            expected = queue.data(job)
    finally:
        silent.close()
    with LoopbackPrinter() as printer, PrintQueue(queue_file, printer.url, **FAST) as again:
        again.start()  # a new station start, the same queue file
        assert printer.wait_for_jobs(1) == [expected]
        assert wait_until(lambda: again.waiting() == 0)


def test_a_job_can_be_reprinted_byte_for_byte(queue_file):
    with LoopbackPrinter() as printer, PrintQueue(queue_file, printer.url, **FAST) as queue:
        first = queue.submit(badge_label("anna", "Anna Kowalska"))
        queue.start()
        printer.wait_for_jobs(1)
        again = queue.reprint(first)
        assert printer.wait_for_jobs(2) == [queue.data(first)] * 2
        newest = queue.jobs()[0]
        assert newest.id == again and newest.reprint_of == first and newest.what == "badge anna"
        with pytest.raises(PrintQueueError, match="no print job 999"):
            queue.reprint(999)


def test_submitting_from_many_threads_loses_nothing(queue_file):
    with LoopbackPrinter() as printer, PrintQueue(queue_file, printer.url, **FAST).start() as queue:
        threads = [threading.Thread(target=queue.submit, args=(label(n),)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        jobs = printer.wait_for_jobs(8)
        assert sorted(jobs) == sorted(queue.data(j.id) for j in queue.jobs())


async def test_the_station_header_shows_the_printer_and_labels_print_from_the_app(tmp_path):
    from terminal.app import make_app
    from terminal.widgets.status_bar import StatusBar

    with LoopbackPrinter() as printer:
        settings = Settings(station="bench-1", db=str(tmp_path / "station.db"), printer=printer.url)
        app = make_app(settings)
        async with app.run_test(size=(160, 30)) as pilot:
            bar = app.screen.query_one(StatusBar)
            for _ in range(200):
                if "PRINTER ready" in bar.part("printer"):
                    break
                await pilot.pause(0.05)
            assert "PRINTER ready" in bar.part("printer")
            # what the inspect screen will do on save: one line, off the event loop
            job = await print_label(app, disposition_label("SCRAPPED", sku="SKU-9", rma="RMA-1", line=1))
            jobs = await asyncio.to_thread(printer.wait_for_jobs, 1)
            assert jobs == [await asyncio.to_thread(app.print_queue.data, job)]
            printer.paper_out = True
            await asyncio.to_thread(app.print_queue.check_printer)
            for _ in range(100):
                if "paper out" in bar.part("printer"):
                    break
                await pilot.pause(0.05)
            assert "NOT READY: paper out" in bar.part("printer")
            from terminal.screens.receive import ReceiveScreen

            await app.push_screen(ReceiveScreen())  # a screen pushed later shows the printer too
            later = app.screen.query_one(StatusBar)
            assert later is not bar
            for _ in range(100):
                if "paper out" in later.part("printer"):
                    break
                await pilot.pause(0.05)
            assert "NOT READY: paper out" in later.part("printer")
        [[sku]] = [decode(i) for i in zpl_images(jobs[0], 203)]
        assert sku == "SKU-9"
        assert queue_path_for(settings.db_path).is_file()


async def test_a_station_without_a_printer_has_no_queue(tmp_path):
    from terminal.app import make_app

    app = make_app(Settings(station="bench-1", db=str(tmp_path / "station.db")))
    async with app.run_test():
        assert app.print_queue is None
        assert await print_label(app, badge_label("anna")) is None


async def test_print_jobs_screen_lists_jobs_and_reprints_one(tmp_path):
    from textual.widgets import DataTable

    from terminal.app import make_app
    from terminal.screens.print_jobs import PrintJobs

    with LoopbackPrinter() as printer:
        app = make_app(Settings(station="bench-1", db=str(tmp_path / "station.db"), printer=printer.url))
        async with app.run_test(size=(160, 40)) as pilot:
            for _ in range(100):
                if app.print_queue is not None:
                    break
                await pilot.pause(0.05)
            await print_label(app, badge_label("anna", "Anna Kowalska"), what="badge anna")
            [first] = await asyncio.to_thread(printer.wait_for_jobs, 1)
            await pilot.press("f9")
            for _ in range(100):
                if isinstance(app.screen, PrintJobs) and app.screen.query_one(DataTable).row_count:
                    break
                await pilot.pause(0.05)
            table = app.screen.query_one(DataTable)
            assert [str(c) for c in table.get_row_at(0)[:3]] == ["1", "badge anna", "printed"]
            await pilot.press("r")
            jobs = await asyncio.to_thread(printer.wait_for_jobs, 2)
            for _ in range(100):
                if app.screen.query_one(DataTable).row_count == 2:
                    break
                await pilot.pause(0.05)
            assert app.screen.query_one(DataTable).row_count == 2
            await pilot.press("escape")
            await pilot.pause(0.2)
            assert not isinstance(app.screen, PrintJobs)
    assert jobs == [first, first]  # byte for byte


def test_a_job_the_printer_took_but_did_not_confirm_stays_waiting_with_the_reason(queue_file):
    """A printer that says ready and takes the bytes, but whose buffer never empties, has printed nothing."""
    with LoopbackPrinter() as printer, PrintQueue(queue_file, printer.url, **FAST) as queue:
        printer.formats_in_buffer = printer.labels_remaining = 1
        queue.printer.timeout = 0.3
        job = queue.submit(label(1))
        assert queue.print_next() is False
        [kept] = queue.jobs()
        assert kept.state == "waiting" and kept.printed_at is None
        assert "did not confirm the label" in kept.last_error and "\n" not in kept.last_error
        assert printer.wait_for_jobs(1) == [queue.data(job)]  # the bytes did reach it: sent is not printed
        assert "did not confirm" in queue.state().text
        printer.formats_in_buffer = printer.labels_remaining = 0  # it prints again
        assert queue.print_next() is True
        assert queue.jobs()[0].state == "printed" and queue.waiting() == 0


def test_a_queue_file_from_before_named_migrations_keeps_its_jobs(queue_file):
    import sqlite3

    old_schema = """
    CREATE TABLE IF NOT EXISTS print_jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, what TEXT NOT NULL, format TEXT NOT NULL,
        data BLOB NOT NULL, state TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'printed')),
        attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '', printed_at TEXT,
        printer TEXT NOT NULL DEFAULT '', reprint_of INTEGER REFERENCES print_jobs(id));
    CREATE INDEX IF NOT EXISTS print_jobs_waiting ON print_jobs(state, id);
    """
    conn = sqlite3.connect(queue_file)
    conn.executescript(old_schema)
    conn.execute(
        "INSERT INTO print_jobs (created_at, what, format, data) VALUES ('2026-11-20T09:00', 'old', 'zpl', "
        "x'5e58415e585a')"
    )
    conn.commit()
    conn.close()
    with PrintQueue(queue_file, None) as queue:
        assert [(j.what, j.state) for j in queue.jobs()] == [("old", "waiting")]
        assert queue.data(1) == b"^XA^XZ"
        assert queue.submit_document(b"^XA^FDnew^XZ", fmt="zpl", what="new") == 2
        assert queue.waiting() == 2


def test_another_programs_file_is_not_taken_as_the_print_queue(queue_file):
    import sqlite3

    conn = sqlite3.connect(queue_file)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.commit()
    conn.close()
    with PrintQueue(queue_file, None) as queue, pytest.raises(PrintQueueError, match="another program"):
        queue.waiting()


async def test_the_station_sends_chinese_in_the_printer_font_its_config_names(tmp_path):
    from terminal.app import make_app

    with LoopbackPrinter() as printer:
        settings = Settings(
            station="bench-1", db=str(tmp_path / "station.db"), printer=printer.url, zpl_cjk_font="E:SIMSUN.TTF"
        )
        app = make_app(settings)
        async with app.run_test(size=(160, 30)):
            await print_label(app, disposition_label("SCRAPPED", sku="SKU-9", rma="RMA-1", line=1, defect="外壳破裂"))
            [job] = await asyncio.to_thread(printer.wait_for_jobs, 1)
    assert b"^A@N," in job and b",E:SIMSUN.TTF^FH^FD" in job and b"^GF" not in job


async def test_a_station_without_a_chinese_font_prints_the_label_and_says_so_once(tmp_path, monkeypatch):
    """fontconfig that knows no CJK font (a machine set up without ./dev): the job prints, one notice says why."""
    from labels.layout import cjk_font, cjk_font_face
    from terminal.app import make_app

    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
        f"<fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{tmp_path}/cache</cachedir></fontconfig>"
    )
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    cjk_font_face.cache_clear()
    cjk_font.cache_clear()
    try:
        with LoopbackPrinter() as printer:
            app = make_app(Settings(station="bench-1", db=str(tmp_path / "station.db"), printer=printer.url))
            async with app.run_test(size=(160, 30)):
                for _ in range(2):
                    await print_label(app, badge_label("wangfang", "王芳"))
                jobs = await asyncio.to_thread(printer.wait_for_jobs, 2)
                notes = [str(n.message) for n in app._notifications if "font" in str(n.message)]
    finally:
        cjk_font_face.cache_clear()
        cjk_font.cache_clear()
    assert [decode(i) for job in jobs for i in zpl_images(job, 203)] == [["OP:wangfang"], ["OP:wangfang"]]
    assert len(notes) == 1 and "no Chinese font is installed" in notes[0] and "\n" not in notes[0]


def test_a_late_printer_answer_does_not_hide_a_newer_one(queue_file):
    """The header once said "PRINTER ready" with the paper out: a status asked earlier answered later and won."""
    with LoopbackPrinter() as printer, PrintQueue(queue_file, printer.url, **FAST) as queue:
        printer.slow_answers = [0.5]  # the first ~HS: asked while the paper is in, answered late
        earlier = threading.Thread(target=queue.check_printer)
        earlier.start()
        assert wait_until(lambda: printer.status_requests == 1)
        printer.paper_out = True
        queue.check_printer()  # asked later, answered at once: paper out
        earlier.join()
        assert queue.status is not None and not queue.status.ready
        assert "paper out" in queue.status.problem
