"""Chinese carriers' waybills at receiving (issue 13, part 4): SF Express, JD Logistics, ZTO, YTO, STO,
Yunda, J&T and China Post/EMS, from their public number formats, found as the US/EU carriers' are.

Realistic numbers: each in its carrier's published format, with the right check digit where the format has
one (China Post/EMS: the UPU S10 mod-11 digit); the all-digit ones chosen so that some would pass for an
EAN/UPC/GTIN-14 check and some not, as a day's parcels do."""

from __future__ import annotations

import biip
import pytest
from click.testing import CliRunner

from sync.carriers import s10_check_digit, waybill
from sync.store import Outcome, Store
from terminal.cli import rma
from terminal.receiving import NotRead, receive_at_bench, receive_typed
from terminal.scanning import Kind, read_scan
from terminal.scanning.decoders import StationDecoder
from terminal.scanning.synthetic import HD, Bench, frame, waybill_label
from tests.conftest import add_rma

# (carrier, the tracking number an import gives, what its waybill barcode holds)
WAYBILLS = [
    ("SF Express", "SF1023574470215", "SF1023574470215"),
    ("JD Logistics", "JDVA11408814483", "JDVA11408814483-1-1-"),  # parcel 1 of 1 of the waybill
    ("JD Logistics", "JDX012345678901", "JDX012345678901-2-3-"),  # parcel 2 of 3
    ("YTO Express", "YT2300138746511", "YT2300138746511"),
    ("J&T Express", "JT3002232682242", "JT3002232682242"),
    ("China Post / EMS", "EA319204865CN", "EA319204865CN"),  # S10, check digit 5
    ("China Post / EMS", "LB076132488CN", "LB076132488CN"),  # S10 small packet, check digit 8
    ("China Post / EMS", "9896341235417", "9896341235417"),  # 13 digits: no valid EAN-13
    ("China Post / EMS", "1240921381750", "1240921381750"),
    ("ZTO Express", "75312345678901", "75312345678901"),  # 14 digits: no valid GTIN-14
    ("ZTO Express", "75312345678900", "75312345678900"),  # 14 digits that also pass a GTIN-14 check
    ("STO Express", "773165231258961", "773165231258961"),  # 15 digits
    ("STO Express", "77316523125895", "77316523125895"),  # 14 digits, a valid GTIN-14 too
    ("Yunda", "462598779470531", "462598779470531"),  # 15 digits
]
IDS = [w[2] for w in WAYBILLS]


def gtin_ok(text: str) -> bool:
    try:
        return biip.parse(text).gtin is not None
    except Exception:  # noqa: BLE001
        return False


def test_the_numbers_are_realistic():
    # the mix a day brings: all-digit numbers that would pass a product-code check, and ones that would not
    digits = [n for _, n, _ in WAYBILLS if n.isdigit()]
    assert any(gtin_ok(n) for n in digits) and any(not gtin_ok(n) for n in digits)
    assert s10_check_digit("47312482") == 9  # the UPU's own S10 example, AA 47312482 9 GB


@pytest.mark.parametrize(("carrier", "number", "scanned"), WAYBILLS, ids=IDS)
def test_a_waybill_scan_finds_the_rma_imported_with_its_number(store, carrier, number, scanned):
    add_rma(store, "RMA-CN-1", customer="张伟", tracking=(number,))
    scan = read_scan(scanned)
    receipt, _ = receive_at_bench(store, scan.text, "bench-1", "li", item_barcode=scan.kind == Kind.ITEM)
    assert (receipt.outcome, receipt.matched_by, receipt.rma.code) == (Outcome.RECEIVED, "tracking number", "RMA-CN-1")
    found = waybill(scanned)
    assert found is not None and (found.carrier.name, found.number) == (carrier, number)


@pytest.mark.parametrize(("carrier", "number", "scanned"), WAYBILLS, ids=IDS)
def test_an_unknown_waybill_is_an_unexpected_parcel_at_the_bench_and_on_the_command_line(
    store, carrier, number, scanned
):
    # not NOT READ (a misread EAN) and not NOT AN RMA (a product barcode): a parcel nobody announced
    add_rma(store, "RMA-OTHER", tracking=("1Z999AA10123456784",))
    scan = read_scan(scanned)
    receipt, _ = receive_at_bench(store, scan.text, "bench-1", "li", item_barcode=scan.kind == Kind.ITEM)
    assert receipt.outcome is Outcome.NOT_EXPECTED
    received, line = receive_typed(store, read_scan(scanned, source="cli"), "bench-1", "li")
    assert not received and line.startswith(Outcome.NOT_EXPECTED.value)
    assert [e.payload["scanned"] for e in store.events()] == [scan.text, scan.text]


def test_an_s10_number_with_a_wrong_check_digit_is_not_read(store):
    with pytest.raises(NotRead) as misread:
        receive_at_bench(store, "EA319204864CN", "bench-1", "li")  # the right digit is 5
    assert "check digit" in str(misread.value) and "\n" not in str(misread.value)
    assert store.events() == []
    # a number as the import gave it is always found, check digit or not
    add_rma(store, "RMA-CN-2", tracking=("EA319204864CN",))
    receipt, _ = receive_at_bench(store, "EA319204864CN", "bench-1", "li")
    assert receipt.outcome is Outcome.RECEIVED


@pytest.mark.parametrize("ean", ["6901234567892", "5012345678900", "501234567890"])
def test_a_product_barcode_at_receiving_is_still_not_an_rma(store, ean):
    # China's GS1 prefix 690–699; a UK EAN-13 and UPC-A in the shape of old 13/12-digit waybill numbers
    scan = read_scan(ean)
    assert scan.kind is Kind.ITEM
    receipt, _ = receive_at_bench(store, scan.text, "bench-1", "li", item_barcode=True)
    assert receipt.outcome is Outcome.NOT_AN_RMA and store.events() == []


@pytest.mark.parametrize("scanned", ["JDVA11408814483-1-1-", "SF1023574470215", "EA319204865CN"])
def test_the_camera_reads_a_waybill_and_receiving_finds_its_rma(store, scanned):
    number = waybill(scanned).number
    add_rma(store, "RMA-CN-3", customer="王芳", tracking=(number,))
    image = frame(Bench(HD, seed=3), waybill_label(scanned), width_share=0.45, angle=-4, blur=1.0, noise=6, seed=5)
    reads = [r for r in StationDecoder().decode(image) if r.format.upper().startswith("CODE")]
    assert [r.text for r in reads] == [scanned]  # decoded back from pixels, never told
    scan = read_scan(reads[0].raw, source="camera")
    receipt, _ = receive_at_bench(store, scan.text, "bench-1", "li", item_barcode=scan.kind == Kind.ITEM)
    assert (receipt.outcome, receipt.rma.code) == (Outcome.RECEIVED, "RMA-CN-3")


def test_an_imported_jd_parcel_barcode_is_stored_as_its_waybill_number(tmp_path):
    path = tmp_path / "rmas.csv"
    path.write_text(
        "rma_code,customer_name,status,sku,qty,tracking_number\n"
        "RMA-CN-9,赵敏,authorized,SKU-1,1,JDVA11408814483-1-2-|YT2300138746511\n",
        encoding="utf-8",
    )
    db = tmp_path / "s.db"
    result = CliRunner().invoke(rma, ["import", "rmas", str(path), "--db", str(db)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with Store(db) as store:
        assert store.get_rma("RMA-CN-9").tracking_numbers == ("JDVA11408814483", "YT2300138746511")
        # the other parcel of the same waybill names the same RMA
        assert store.find_rma("JDVA11408814483-2-2-")[0].code == "RMA-CN-9"
