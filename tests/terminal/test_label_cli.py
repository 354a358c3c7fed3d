"""`rma label ...` end to end: real database, real files, a real loopback printer."""

from __future__ import annotations

import io

import pytest
from click.testing import CliRunner
from PIL import Image

from terminal.cli import rma
from terminal.scanning import Kind, read_scan
from terminal.scanning.scan import COMMANDS
from tests.helpers.loopback_printer import LoopbackPrinter, refusing_url


def decode(image: Image.Image) -> list[str]:
    """Barcodes in an image, read by zbar."""
    from pyzbar import pyzbar

    return sorted(d.data.decode("ascii") for d in pyzbar.decode(image.convert("L")))


def zpl_decoded(zpl: bytes, dpi: int = 203) -> list[list[str]]:
    """What a printer would print (zplkit), label by label, decoded."""
    import zplkit

    return [decode(Image.open(io.BytesIO(s.png()))) for s in zplkit.render(zpl, zplkit.Options(dpi=dpi)).labels]


@pytest.fixture
def run(tmp_path):
    """Run `rma ...` with a station config of our own (no printer unless a test gives one)."""
    config = tmp_path / "station.toml"
    config.write_text('station = "bench-1"\n')

    def invoke(*args: str, printer: str | None = None):
        if printer is not None:
            config.write_text(f'station = "bench-1"\nprinter = "{printer}"\n')
        return CliRunner().invoke(
            rma,
            list(args),
            env={"RMA_STATION_CONFIG": str(config), "XDG_DATA_HOME": str(tmp_path / "data")},
            catch_exceptions=False,
        )

    return invoke


@pytest.fixture
def db(store, db_path):
    with store.write() as conn:
        for n, customer in ((1, "ACME^FS^XZ^XA^FDFAKE"), (2, "Zoe Mueller")):
            store.upsert_rma(
                conn,
                {
                    "rma_code": f"RMA-2026-00000{n}",
                    "order_ref": f"SO-{n}",
                    "customer_name": customer,
                    "reason": "damaged",
                    "status": "authorized",
                },
                [{"sku": f"SKU-{n}00", "qty": 1}, {"sku": f"SKU-{n}01", "qty": 2}],
            )
    return str(db_path)


def test_rma_labels_from_the_database_as_one_pdf(run, db, tmp_path):
    import pypdfium2

    out = tmp_path / "labels.pdf"
    result = run("label", "rma", "RMA-2026-000001", "rma-2026-000002", "--db", db, "--out", str(out))
    assert result.exit_code == 0, result.output
    pdf = pypdfium2.PdfDocument(out.read_bytes())
    pages = [decode(page.render(scale=203 / 72).to_pil()) for page in pdf]
    pdf.close()
    assert pages == [["RMA-2026-000001"], ["RMA-2026-000002"]]


def test_rma_labels_from_a_csv_one_png_each(run, tmp_path):
    csv = tmp_path / "rmas.csv"
    csv.write_text(
        "rma_code,customer_name,order_ref,reason,status,sku,qty\n"
        "RMA-9,ACME,SO-9,too big,authorized,SKU-1,1\n"
        "RMA-9,ACME,SO-9,too big,authorized,SKU-2,1\n"
        "RMA-10,Zoe,SO-10,broken,authorized,SKU-3,1\n"
    )
    result = run(
        "label", "rma", "--from-csv", str(csv), "--size", "4x2", "--dpi", "300", "--out", str(tmp_path / "rma.png")
    )
    assert result.exit_code == 0, result.output
    for code in ("RMA-9", "RMA-10"):
        image = Image.open(tmp_path / f"rma-{code}.png")
        assert image.size == (1200, 600) and decode(image) == [code]


def test_the_command_sheet_sent_to_a_printer_carries_every_command_the_router_knows(run):
    with LoopbackPrinter() as printer:
        result = run("label", "commands", printer=printer.url)
        assert result.exit_code == 0, result.output
        [job] = printer.wait_for_jobs(1)
    sheets = zpl_decoded(job)
    assert len(sheets) == 2 and all(len(sheet) <= 10 for sheet in sheets)  # 11 commands: 6 + 5
    scans = [read_scan(text, "test") for sheet in sheets for text in sheet]
    assert all(s.kind == Kind.COMMAND for s in scans)
    assert sorted(s.value for s in scans) == sorted(COMMANDS)


def test_a_badge_reads_back_as_that_operator(run):
    result = run("label", "badge", "anna", "--name", "Anna Kowalska", "--out", "-")
    assert result.exit_code == 0
    [[text]] = zpl_decoded(result.stdout_bytes)
    scan = read_scan(text, "test")
    assert scan.kind == Kind.BADGE and scan.value == "anna"


def test_a_disposition_label_takes_the_sku_of_the_rma_line(run, db, tmp_path):
    out = tmp_path / "d.svg"
    result = run(
        "label",
        "disposition",
        "rma-2026-000002",
        "2",
        "scrapped",
        "--defect",
        "cracked",
        "--inspector",
        "anna",
        "--db",
        db,
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    import cairosvg

    image = Image.open(io.BytesIO(cairosvg.svg2png(bytestring=out.read_bytes(), dpi=203, background_color="white")))
    assert decode(image) == ["SKU-201"]


@pytest.mark.parametrize(
    "args, message",
    [
        (("label", "rma", "RMA-NOPE"), "RMA RMA-NOPE is not in the station database"),
        (("label", "disposition", "RMA-2026-000001", "9", "RESELLABLE"), "has no line 9"),
        (("label", "rma"), "give RMA codes or --from-csv"),
        (("label", "badge", "anna"), "say where the labels go"),
        (("label", "badge", "anna", "--printer", "lpt1"), "is not tcp://HOST:PORT"),
        (("label", "badge", "anna", "--printer", "tcp://127.0.0.1:9100", "--format", "png"), "prints zpl, not png"),
        (("label", "rma", "RMA-2026-000001", "--size", "4x2", "--out", "/no/such/folder/x.zpl"), "does not exist"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(run, db, args, message):
    needs_db = args[1] in ("rma", "disposition") and len(args) > 2
    result = run(*args, *(("--db", db) if needs_db else ()))
    assert result.exit_code != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_an_unreachable_printer_is_one_line_and_nothing_half_printed(run, db):
    result = run("label", "rma", "RMA-2026-000001", "--db", db, "--printer", refusing_url())
    assert result.exit_code == 1
    assert "refused the connection" in result.stderr and "waits in the print queue" in result.stderr
    with LoopbackPrinter(paper_out=True) as printer:
        result = run("label", "rma", "RMA-2026-000001", "--db", db, "--printer", printer.url)
        assert result.exit_code == 1 and "paper out" in result.stderr
        assert printer.wait_for_jobs(1, timeout=0.3) == []


def test_a_bad_csv_makes_no_labels(run, tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("rma_code,status,sku,qty\nRMA-1,authorized,SKU-1,zero\n")
    result = run("label", "rma", "--from-csv", str(csv), "--out", str(tmp_path / "x.zpl"))
    assert result.exit_code == 1 and "bad.csv:2: qty 'zero' is not a whole number" in result.stderr
    assert not (tmp_path / "x.zpl").exists()


def test_jobs_are_listed_and_reprinted(run, tmp_path, db_path):
    from labels import badge_label
    from terminal.printing import PrintQueue, queue_path_for

    with PrintQueue(queue_path_for(db_path), refusing_url()) as queue:
        job = queue.submit(badge_label("anna"))
        assert queue.print_next() is False  # the printer is away: kept
    listed = run("label", "jobs", "--db", str(db_path))
    assert listed.exit_code == 0 and f"{job}  waiting" in listed.output and "refused" in listed.output
    with LoopbackPrinter() as printer:
        result = run("label", "reprint", str(job), "--db", str(db_path), "--printer", printer.url)
        assert result.exit_code == 0, result.stderr
        jobs = printer.wait_for_jobs(2)
    assert len(jobs) == 2 and jobs[0] == jobs[1]  # the kept job and its reprint, same bytes
    assert [decode_one for decode_one in zpl_decoded(jobs[0])] == [["OP:anna"]]
    listed = run("label", "jobs", "--db", str(db_path))
    assert "waiting" not in listed.output and listed.output.count("printed") == 2


def test_a_cli_print_the_printer_did_not_confirm_is_kept_waiting(run, db, db_path):
    """`rma label ... --printer URL` goes through the station's print queue: a failed print is kept, not dropped."""
    from terminal.printing import PrintQueue, queue_path_for

    with LoopbackPrinter() as printer:
        printer.formats_in_buffer = 1  # says ready, takes the bytes, never prints them
        result = run("label", "rma", "RMA-2026-000001", "--db", db, "--printer", printer.url + "?timeout=0.3")
        assert result.exit_code == 1
        assert len(result.stderr.strip().splitlines()) == 1
        assert "did not confirm the label" in result.stderr and "job 1 waits in the print queue" in result.stderr
        assert "printed 1 label" not in result.stdout
        with PrintQueue(queue_path_for(db_path), None) as queue:
            [kept] = queue.jobs()
            assert kept.state == "waiting" and "did not confirm" in kept.last_error
            assert printer.wait_for_jobs(1) == [queue.data(kept.id)]
        printer.formats_in_buffer = 0
        listed = run("label", "jobs", "--db", db)
        assert "1  waiting" in listed.output
        again = run("label", "rma", "RMA-2026-000001", "--db", db, "--printer", printer.url)
        assert again.exit_code == 0, again.stderr
        assert "printed 1 label " in again.stdout and "job 2" in again.stdout


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_both_command_sheets_are_written_as_numbered_files(run, tmp_path, suffix):
    """Two sheets in a one-page format are two files, x-1 and x-2, and the command line names both."""
    out = tmp_path / f"sheets.{suffix}"
    result = run("label", "commands", "--out", str(out))
    assert result.exit_code == 0, result.output
    written = [tmp_path / f"sheets-{n}.{suffix}" for n in (1, 2)]
    assert sorted(tmp_path.glob(f"sheets*.{suffix}")) == written
    assert result.output.strip() == f"wrote 2 labels to {written[0]}, {written[1]}"
    if suffix == "png":
        images = [Image.open(path) for path in written]
    else:
        import cairosvg

        images = [
            Image.open(io.BytesIO(cairosvg.svg2png(bytestring=p.read_bytes(), dpi=203, background_color="white")))
            for p in written
        ]
    read = [code for image in images for code in decode(image)]
    assert sorted(read) == sorted(f"CMD:{c}" for c in COMMANDS)  # the PASS/FAIL sheet is not lost


def test_a_chinese_badge_sent_to_a_stock_printer_prints_the_name(run):
    """No printer font configured: the name goes as a graphic; zplkit prints it, tesseract reads it back."""
    import zplkit

    from labels import badge_label, place
    from tests.labels.conftest import ocr_lines

    with LoopbackPrinter() as printer:
        result = run("label", "badge", "wangfang", "--name", "王芳", printer=printer.url)
        assert result.exit_code == 0, result.output
        [job] = printer.wait_for_jobs(1)
    assert b"^GFA," in job
    [scene] = zplkit.render(job, zplkit.Options(dpi=203)).labels
    image = Image.open(io.BytesIO(scene.png()))
    assert decode(image) == ["OP:wangfang"]
    assert "王芳" in ocr_lines(image, place(badge_label("wangfang", "王芳"), 203))


def test_a_printer_font_in_the_station_config_sends_chinese_as_text_in_it(run, tmp_path):
    config = tmp_path / "station.toml"
    out = tmp_path / "badge.zpl"
    config.write_text('station = "bench-1"\nzpl_cjk_font = "E:SIMSUN.TTF"\n')
    result = run("label", "badge", "wangfang", "--name", "王芳", "--out", str(out))
    assert result.exit_code == 0, result.output
    zpl = out.read_text("ascii")
    assert "^GF" not in zpl and "^A@N," in zpl and ",E:SIMSUN.TTF^FH^FD_E7_8E_8B_E8_8A_B3^FS" in zpl
    config.write_text('station = "bench-1"\nzpl_cjk_font = "SIMSUN"\n')
    result = run("label", "badge", "wangfang", "--name", "王芳", "--out", str(out))
    assert result.exit_code != 0 and "zpl_cjk_font" in result.output and len(result.output.splitlines()) == 1
