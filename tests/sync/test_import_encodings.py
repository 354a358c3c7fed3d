"""Import files in the encodings Chinese (and other) Excel saves: UTF-8 with or without BOM, GBK/GB18030, UTF-16.

Every file is written with Python's own codecs; what is checked is what reaches the
station database, the receive screen, a label and the central server.
"""

from __future__ import annotations

import codecs
import json

import pytest
import requests
from click.testing import CliRunner

from sync.store import Store
from terminal.cli import rma

HEADER = "rma_code,order_ref,customer_name,tracking_number,reason,status,sku,gtin,description,qty,category\n"
# 𠮷 (U+20BB7) is outside GBK: only GB18030's four-byte sequences hold it
ROWS = (
    "RMA-CN-1,SO-88,张伟,SF1234567890123,尺码偏小,authorized,APP-1,,羊毛开衫 M码,1,apparel\n"
    "RMA-CN-2,SO-89,李娜,,质量问题,authorized,ELC-2,,蓝牙音箱,1,consumer_electronics\n"
)
EXTRA = "RMA-CN-3,SO-90,𠮷田,,与描述不符,authorized,GEN-3,,瑜伽垫,1,\n"


def run(tmp_path, *args: str):
    """`rma ARGS...` in this process, with a config file of our own."""
    config = tmp_path / "station.toml"
    config.write_text('station = "bench-1"\n')
    return CliRunner().invoke(rma, list(args), env={"RMA_STATION_CONFIG": str(config)}, catch_exceptions=False)


def write(path, text: str, encoding: str, *, bom: bytes = b"") -> None:
    """``text`` in ``encoding`` with Python's codecs, after ``bom`` (as Excel writes it)."""
    path.write_bytes(bom + codecs.encode(text, encoding))


def imported(db) -> dict[str, tuple]:
    """Each RMA in the database: customer, reason, and its lines' descriptions."""
    with Store(db) as store:
        codes = [r[0] for r in store.conn.execute("SELECT code FROM rmas ORDER BY code")]
        found = {}
        for code in codes:
            got = store.get_rma(code)
            assert got is not None
            found[code] = (got.customer_name, got.reason, tuple(ln.description for ln in got.lines))
        return found


EXPECTED = {
    "RMA-CN-1": ("张伟", "尺码偏小", ("羊毛开衫 M码",)),
    "RMA-CN-2": ("李娜", "质量问题", ("蓝牙音箱",)),
}


@pytest.mark.parametrize(
    "encoding, bom, shown",
    [
        ("utf-8", b"", ""),
        ("utf-8", codecs.BOM_UTF8, ""),
        ("gbk", b"", "GB18030"),
        ("gb18030", b"", "GB18030"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "UTF-16LE"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "UTF-16BE"),
    ],
    ids=["utf8", "utf8-bom", "gbk", "gb18030", "utf16le-bom", "utf16be-bom"],
)
def test_chinese_csv_in_every_excel_encoding_imports_the_same(tmp_path, encoding, bom, shown):
    path = tmp_path / "rmas.csv"
    extra = "" if encoding == "gbk" else EXTRA  # GBK cannot hold 𠮷
    write(path, HEADER + ROWS + extra, encoding, bom=bom)
    db = tmp_path / "s.db"
    result = run(tmp_path, "import", "rmas", str(path), "--db", str(db))
    assert result.exit_code == 0, result.stderr
    expected = dict(EXPECTED)
    if extra:
        expected["RMA-CN-3"] = ("𠮷田", "与描述不符", ("瑜伽垫",))
    assert imported(db) == expected
    assert f"imported {len(expected)} RMAs" in result.stdout
    if shown:  # a file that was not UTF-8 says how it was read
        assert f"read as {shown}" in result.stdout
    else:
        assert "read as" not in result.stdout


def test_excel_unicode_text_is_utf16_with_tabs(tmp_path):
    """Excel's "Unicode text" (*.txt): UTF-16LE with a BOM, columns separated by tabs."""
    path = tmp_path / "rmas.txt"
    write(path, (HEADER + ROWS).replace(",", "\t").replace("\n", "\r\n"), "utf-16-le", bom=codecs.BOM_UTF16_LE)
    db = tmp_path / "s.db"
    result = run(tmp_path, "import", "rmas", str(path), "--db", str(db))
    assert result.exit_code == 0, result.stderr
    assert imported(db) == EXPECTED


@pytest.mark.parametrize("encoding", ["gb18030", "utf-16-le"])
def test_a_json_file_in_another_encoding_is_still_json(tmp_path, encoding):
    path = tmp_path / "rmas.data"  # no .json suffix: the first character decides
    data = [{"rma_code": "RMA-CN-1", "customer_name": "张伟", "reason": "尺码偏小", "status": "authorized"}]
    data[0]["lines"] = [{"sku": "APP-1", "description": "羊毛开衫 M码", "qty": 1, "category": "apparel"}]
    bom = codecs.BOM_UTF16_LE if encoding.startswith("utf-16") else b""
    write(path, json.dumps(data, ensure_ascii=False, indent=1), encoding, bom=bom)
    db = tmp_path / "s.db"
    result = run(tmp_path, "import", "rmas", str(path), "--db", str(db))
    assert result.exit_code == 0, result.stderr
    assert imported(db) == {"RMA-CN-1": EXPECTED["RMA-CN-1"]}


def test_encoding_can_be_named_when_detection_cannot_know(tmp_path):
    """谢伟 in GBK (D0 BB CE B0) happens to be valid UTF-8 (лΰ): a file with only that is read as UTF-8.

    Detection tries strict UTF-8 first (see sync/imports.py why); --encoding settles it.
    """
    path = tmp_path / "tiny.csv"
    write(path, HEADER + "RMA-1,,谢伟,,,authorized,S1,,,1,\n", "gbk")
    guessed = run(tmp_path, "import", "rmas", str(path), "--db", str(tmp_path / "a.db"))
    assert guessed.exit_code == 0 and imported(tmp_path / "a.db")["RMA-1"][0] == "лΰ"
    named = run(tmp_path, "import", "rmas", str(path), "--db", str(tmp_path / "b.db"), "--encoding", "gbk")
    assert named.exit_code == 0, named.stderr
    assert imported(tmp_path / "b.db")["RMA-1"][0] == "谢伟"
    assert "read as GBK" in named.stdout


def test_an_unknown_encoding_name_is_one_line(tmp_path):
    path = tmp_path / "rmas.csv"
    write(path, HEADER + ROWS, "utf-8")
    result = run(tmp_path, "import", "rmas", str(path), "--db", str(tmp_path / "s.db"), "--encoding", "klingon")
    assert result.exit_code != 0
    assert "Traceback" not in result.stderr
    [line] = [ln for ln in result.stderr.splitlines() if "klingon" in ln]
    assert "not an encoding" in line


def test_an_undecodable_file_names_the_encodings_tried_and_where(tmp_path):
    """0xFF is neither UTF-8 nor GB18030: one line names both, with the byte offset and line of each."""
    path = tmp_path / "broken.csv"
    good = (HEADER + ROWS).encode("gb18030")
    broken = good + b"RMA-X,,\xff\xfe,,,authorized,S,,,1,\n"
    path.write_bytes(broken)
    db = tmp_path / "s.db"
    result = run(tmp_path, "import", "rmas", str(path), "--db", str(db))
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    first_utf8_error = broken.index("张".encode("gb18030"))  # D5 C5: D5 wants a continuation byte, C5 is not one
    assert f"not UTF-8 (byte {first_utf8_error}, line 2)" in line
    assert f"not GB18030 (byte {len(good) + 7}, line 4)" in line
    assert "--encoding" in line and line.endswith("nothing imported")
    assert not db.exists() or imported(db) == {}


def test_a_named_encoding_that_does_not_fit_says_so(tmp_path):
    path = tmp_path / "rmas.csv"
    data = (HEADER + ROWS).encode("utf-8")
    path.write_bytes(data)
    result = run(tmp_path, "import", "rmas", str(path), "--db", str(tmp_path / "s.db"), "--encoding", "ascii")
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert f"not ASCII (byte {data.index('张'.encode())}, line 2)" in line and "GB18030" not in line


def test_a_gb18030_import_is_read_as_a_stream_not_held_whole(tmp_path):
    """Detection streams too: a 4.5+ MB GB18030 file is detected, checked and loaded in under 2 MB."""
    import tracemalloc

    from sync.imports import RmaFile

    path = tmp_path / "big.csv"
    with open(path, "w", encoding="gb18030", newline="") as out:
        out.write(HEADER)
        for n in range(400):
            out.writelines(
                f'RMA-{n},SO-{n},张伟,,尺码偏小,authorized,SKU-{n}-{i},,"{"羊毛开衫 M码 灰色 " * 23}",1,apparel\n'
                for i in range(25)
            )
    size = path.stat().st_size
    assert size > 4_500_000
    tracemalloc.start()
    try:
        source = RmaFile(path)
        assert source.check() == []
        loaded = sum(len(rma_.lines) for rma_ in source.rmas())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert loaded == 10_000 and source.encoding.name == "GB18030"
    assert peak < 2_000_000, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.1f} MB file"


def test_operators_files_are_read_the_same_way(tmp_path):
    path = tmp_path / "ops.csv"
    write(path, "id,name,role\nzhangwei,张伟,clerk\nlina,李娜,supervisor\n", "gbk")
    db = tmp_path / "s.db"
    result = run(tmp_path, "import", "operators", str(path), "--db", str(db))
    assert result.exit_code == 0, result.stderr
    with Store(db) as store:
        assert {op.id: (op.name, op.role) for op in store.operators()} == {
            "zhangwei": ("张伟", "clerk"),
            "lina": ("李娜", "supervisor"),
        }
    tiny = tmp_path / "tiny.csv"
    write(tiny, "id,name\nxie,谢伟\n", "gbk")
    named = run(tmp_path, "import", "operators", str(tiny), "--db", str(db), "--encoding", "gbk")
    assert named.exit_code == 0, named.stderr
    with Store(db) as store:
        found = store.operator("xie")
        assert found is not None and found.name == "谢伟"
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"id,name\nx,\xff\n")
    refused = run(tmp_path, "import", "operators", str(broken), "--db", str(db))
    assert refused.exit_code == 1
    [line] = refused.stderr.strip().splitlines()
    assert "not UTF-8 (byte 10, line 2)" in line and "not GB18030 (byte 10, line 2)" in line


def test_a_gbk_file_reaches_a_label(tmp_path):
    """`rma label rma --from-csv` reads the same files: the customer's Chinese name is in the label's text."""
    path = tmp_path / "rmas.csv"
    write(path, HEADER + ROWS, "gbk")
    out = tmp_path / "labels.svg"  # an SVG keeps its text as text (the ZPL sends Chinese as graphics)
    result = run(tmp_path, "label", "rma", "--from-csv", str(path), "--format", "svg", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert any("张伟" in label.read_text(encoding="utf-8") for label in tmp_path.glob("labels-*.svg"))  # one per RMA


async def test_a_gbk_import_shows_chinese_on_the_receive_screen(tmp_path):
    from terminal.app import make_app
    from terminal.config import Settings
    from terminal.widgets.outcome_banner import OutcomeBanner
    from tests.conftest import scanner_burst, wait_until

    path = tmp_path / "rmas.csv"
    write(path, HEADER + ROWS, "gbk")
    db = tmp_path / "s.db"
    assert run(tmp_path, "import", "rmas", str(path), "--db", str(db)).exit_code == 0
    with Store(db) as store:
        store.add_operator("anna", "Anna Schmidt")
    app = make_app(Settings(station="bench-t", db=str(db), sources={"db": "flag"}), operator="anna")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.operator == "anna")
        scanner_burst(app, "SF1234567890123")  # the SF Express waybill of RMA-CN-1
        banner = app.screen.query_one(OutcomeBanner)
        await wait_until(pilot, lambda: banner.word == "RECEIVED")
        shown = str(banner.render())
        for text in ("张伟", "尺码偏小", "羊毛开衫 M码"):
            assert text in shown


def test_a_gb18030_file_round_trips_through_the_server(sqlite_storage, sqlite_server, sqlite_tokens, tmp_path):
    """The ERP's GBK export, read by the importer, goes to the server; a station pulls it, receives, pushes;
    the server's timeline gives the Chinese back exactly."""
    from sync.client import SyncClient
    from sync.imports import RmaFile

    path = tmp_path / "erp.csv"
    write(path, HEADER + ROWS + EXTRA, "gb18030")
    source = RmaFile(path)
    assert source.check() == []
    records = [{**p.rma, "lines": p.lines, "tracking_numbers": p.tracking} for p in source.rmas()]
    answer = requests.post(
        f"{sqlite_server.url}/api/v1/rmas",
        json={"rmas": records},
        headers={"Authorization": f"Bearer {sqlite_tokens['erp']}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    client = SyncClient(sqlite_server.url, sqlite_tokens["A"])
    with Store(tmp_path / "station.db") as station:
        client.sync(station)
        assert imported(tmp_path / "station.db")["RMA-CN-3"] == ("𠮷田", "与描述不符", ("瑜伽垫",))
        assert station.receive("SF1234567890123", "A", "op1").outcome.value == "RECEIVED"
        client.sync(station)
    timeline = requests.get(
        f"{sqlite_server.url}/api/v1/rmas/rma-cn-1",
        headers={"Authorization": f"Bearer {sqlite_tokens['A']}"},
        timeout=10,
    ).json()
    assert (timeline["rma"]["customer_name"], timeline["rma"]["reason"]) == ("张伟", "尺码偏小")
    assert timeline["rma"]["lines"][0]["description"] == "羊毛开衫 M码"
    assert timeline["stage"] == "received"


def test_a_header_of_nonsense_says_how_the_file_was_read(tmp_path):
    """A UTF-16LE mark before UTF-16BE text reads as nonsense: the header line says as what it was read."""
    path = tmp_path / "rmas.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + (HEADER + "RMA-1,,,,,authorized,S1,,,1,\n").encode("utf-16-be"))
    result = run(tmp_path, "import", "rmas", str(path), "--db", str(tmp_path / "s.db"))
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert "header lacks column(s)" in line and "read as UTF-16LE (name another with --encoding)" in line
