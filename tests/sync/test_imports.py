"""Import files of expected returns: whole RMAs or none, one line per problem, bounded memory."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sync.store import Store
from terminal.cli import rma

HEADER = "rma_code,order_ref,customer_name,tracking_number,reason,status,sku,gtin,description,qty,category\n"
HOSTILE = "\u009b31m\u202eevil\u200b\u200d\ufeff\x07\x1b[2J\u2028x\x85y\u00a0z\tq"


def run(tmp_path, *args: str):
    """`rma ARGS...` in this process, with a config file of our own."""
    config = tmp_path / "station.toml"
    config.write_text('station = "bench-1"\n')
    return CliRunner().invoke(rma, list(args), env={"RMA_STATION_CONFIG": str(config)}, catch_exceptions=False)


def no_controls(text: str) -> bool:
    return text.isprintable()


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_control_and_invisible_characters_never_reach_the_database(tmp_path, kind):
    path = tmp_path / f"rmas.{kind}"
    if kind == "csv":
        path.write_text(
            HEADER + f'"RMA\u200b-7","SO-7","{HOSTILE}",,"{HOSTILE}",authorized,"SKU\u202e-1",,"{HOSTILE}",1,apparel\n',
            encoding="utf-8",
        )
    else:
        path.write_text(
            json.dumps(
                [
                    {
                        "rma_code": "RMA\u200b-7",
                        "order_ref": "SO-7",
                        "customer_name": HOSTILE,
                        "reason": HOSTILE,
                        "status": "authorized",
                        "lines": [{"sku": "SKU\u202e-1", "description": HOSTILE, "qty": 1}],
                    }
                ]
            ),
            encoding="utf-8",
        )
    db = tmp_path / "s.db"
    result = run(tmp_path, "import", "rmas", str(path), "--db", str(db))
    assert result.exit_code == 0, result.stderr
    with Store(db) as store:
        rma_ = store.get_rma("RMA-7")  # the zero-width space is gone: the plain scan finds it
        assert rma_ is not None
        assert rma_.customer_name == "31mevil[2J x y z q"
        assert all(
            no_controls(v) for v in (rma_.customer_name, rma_.reason, rma_.lines[0].sku, rma_.lines[0].description)
        )
        assert rma_.lines[0].sku == "SKU-1"
    received = run(tmp_path, "receive", "RMA-7", "--db", str(db), "--station", "b", "--operator", "anna")
    assert received.exit_code == 0 and received.stdout.isprintable() is False  # (its newline)
    assert all(line.isprintable() for line in received.stdout.splitlines())


def test_scans_and_imports_clean_text_the_same_way():
    from sync.imports import read_rma_file
    from terminal.scanning import read_scan

    code = "RMA\u009b-\u200b9\u202e"
    parsed = read_rma_file(text=HEADER + f"{code},,,,,authorized,S,,,1,\n", kind="csv")
    assert parsed.rmas[0].rma["rma_code"] == read_scan(code).text.upper() == "RMA-9"


def imported(db) -> dict[str, list[str]]:
    """The RMAs in the database and their lines' SKUs."""
    with Store(db) as store:
        codes = [r[0] for r in store.conn.execute("SELECT code FROM rmas ORDER BY code")]
        return {code: [ln.sku for ln in store.get_rma(code).lines] for code in codes}


def problems(result) -> list[str]:
    """The lines on stderr (each must be one problem, no traceback)."""
    assert "Traceback" not in result.stderr
    return result.stderr.strip().splitlines()


def test_a_json_rma_with_a_bad_line_is_refused_whole(tmp_path):
    path = tmp_path / "rmas.json"
    path.write_text(
        json.dumps(
            [
                {
                    "rma_code": "RMA-1",
                    "status": "authorized",
                    "lines": [{"sku": "A", "qty": 1}, "not a line", {"sku": "C", "qty": 1}],
                },
                {"rma_code": "RMA-2", "status": "authorized", "lines": [{"sku": "D", "qty": 1}]},
            ],
            indent=2,
        ),
        encoding="utf-8",
    )
    db = tmp_path / "s.db"
    result = run(tmp_path, "import", "rmas", str(path), "--db", str(db))
    assert result.exit_code == 1
    assert problems(result) == [
        f"{path}:2: RMA-1: line 2 of its lines is not an object",
        f"{path}:2: RMA RMA-1 not loaded because of the errors above",
    ]
    assert imported(db) == {"RMA-2": ["D"]}  # never half an RMA


def test_duplicated_csv_columns_are_refused(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("rma_code,status,sku,qty,description,qty\nRMA-1,authorized,S,1,x,5\n", encoding="utf-8")
    db = tmp_path / "s.db"
    result = run(tmp_path, "import", "rmas", str(path), "--db", str(db))
    assert result.exit_code == 1
    [line] = problems(result)
    assert line.startswith(f"rma: {path}:1: column 'qty' appears twice in the header (columns 4 and 6)")
    assert imported(db) == {}


@pytest.mark.parametrize("closed_later", [True, False])
def test_an_unclosed_quote_is_named_by_the_line_it_opened_on(tmp_path, closed_later):
    rows = [f"RMA-{n},,,,,authorized,S{n},,item,1,\n" for n in range(1, 9)]
    rows[2] = 'RMA-3,,"Eva Jensen,,,authorized,S3,,item,1,\n'  # line 4: the quote is never closed ...
    if closed_later:
        rows[6] = 'RMA-7,,Zoe",,,authorized,S7,,item,1,\n'  # ... until line 8 closes a quote of its own
    path = tmp_path / "quote.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    db = tmp_path / "s.db"
    result = run(tmp_path, "import", "rmas", str(path), "--db", str(db))
    assert result.exit_code == 1
    [line] = problems(result)
    assert line.startswith(f"rma: {path}:4: a quote opened on this line is not closed")
    assert "nothing imported" in line
    assert imported(db) == {}  # no RMA loaded without the rows the quote swallowed


def test_line_numbers_are_where_a_row_starts(tmp_path):
    path = tmp_path / "multi.csv"
    path.write_text(
        HEADER + 'RMA-1,,,,,authorized,S1,,"two\nlines",zero,\n' + "RMA-2,,,,,authorized,S2,,x,1,\n", encoding="utf-8"
    )
    result = run(tmp_path, "import", "rmas", str(path), "--db", str(tmp_path / "s.db"))
    assert result.exit_code == 1
    assert problems(result) == [f"{path}:2: qty 'zero' is not a whole number"]
    assert imported(tmp_path / "s.db") == {"RMA-2": ["S2"]}


def test_a_field_of_a_million_characters_is_one_line(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text(
        HEADER + "RMA-1,,,,,authorized,S1,,x,1,\n" + "RMA-2,,," + "x" * 1_000_000 + ",,authorized,S2,,x,1,\n",
        encoding="utf-8",
    )
    result = run(tmp_path, "import", "rmas", str(path), "--db", str(tmp_path / "s.db"))
    assert result.exit_code == 1
    [line] = problems(result)
    assert line.startswith(f"rma: {path}:3: a field of more than ") and "nothing imported" in line


@pytest.mark.parametrize(
    "nested",
    [
        "[" * 100_000 + "]" * 100_000,
        '[{"rma_code": "RMA-1", "status": "authorized", "lines": ' + "[" * 100_000 + "]" * 100_000 + "}]",
        '{"rmas": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ],
)
def test_deeply_nested_json_is_one_line(tmp_path, nested):
    path = tmp_path / "deep.json"
    path.write_text(nested, encoding="utf-8")
    result = run(tmp_path, "import", "rmas", str(path), "--db", str(tmp_path / "s.db"))
    assert result.exit_code == 1
    [line] = problems(result)
    assert "nested too deeply" in line and "nothing imported" in line


def test_json_problems_name_the_line_the_rma_starts_on(tmp_path):
    path = tmp_path / "rmas.json"
    data = [
        {"rma_code": f"RMA-{n}", "status": "authorized", "lines": [{"sku": f"S{n}", "qty": 1}]} for n in range(1, 4)
    ]
    data[2]["lines"][0]["qty"] = "zero"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    start = [i for i, text in enumerate(path.read_text().splitlines(), 1) if text == "  {"][2]  # the third RMA
    result = run(tmp_path, "import", "rmas", str(path), "--db", str(tmp_path / "s.db"))
    assert result.exit_code == 1
    assert problems(result) == [f"{path}:{start}: qty 'zero' is not a whole number"]


def test_a_gbk_file_is_read_as_gb18030(tmp_path):
    """(Refused with a hint before issue 13; tests/sync/test_import_encodings.py has the other encodings.)"""
    path = tmp_path / "gbk.csv"
    path.write_bytes((HEADER + "RMA-1,SO-1,张三,,尺码不合适,authorized,S1,,外套,1,\n").encode("gb18030"))
    result = run(tmp_path, "import", "rmas", str(path), "--db", str(tmp_path / "s.db"))
    assert result.exit_code == 0, result.stderr
    assert "(read as GB18030)" in result.stdout
    with Store(tmp_path / "s.db") as store:
        found = store.get_rma("RMA-1")
        assert found is not None and (found.customer_name, found.reason) == ("张三", "尺码不合适")


def test_semicolons_get_a_hint(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text(HEADER.replace(",", ";") + "RMA-1;;;;;authorized;S1;;x;1;\n", encoding="utf-8")
    result = run(tmp_path, "import", "rmas", str(path), "--db", str(tmp_path / "s.db"))
    assert result.exit_code == 1
    [line] = problems(result)
    assert "header lacks column(s)" in line and "separated by ';'" in line


def test_rows_of_one_rma_apart_in_the_file_still_make_one_rma(tmp_path):
    path = tmp_path / "apart.csv"
    path.write_text(
        HEADER + "RMA-1,,,,,authorized,A,,x,1,\nRMA-2,,,,,authorized,B,,x,1,\nRMA-1,,,,,authorized,C,,x,1,\n",
        encoding="utf-8",
    )
    result = run(tmp_path, "import", "rmas", str(path), "--db", str(tmp_path / "s.db"))
    assert result.exit_code == 0, result.stderr
    assert imported(tmp_path / "s.db") == {"RMA-1": ["A", "C"], "RMA-2": ["B"]}


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_an_import_is_read_as_a_stream_not_held_whole(tmp_path, kind):
    """Memory follows one RMA and a read buffer, not the file: 4.5+ MB are checked and loaded in under 2 MB.

    (bench/import_bench.py measures the real process on a 70 MB file.)
    """
    import tracemalloc

    from sync.imports import RmaFile

    path = tmp_path / f"big.{kind}"
    with open(path, "w", encoding="utf-8") as out:
        out.write(HEADER if kind == "csv" else "[\n")
        for n in range(400):
            lines = [
                {"sku": f"SKU-{n}-{i}", "description": "Merino crew-neck sweater, size M " * 14, "qty": 1}
                for i in range(25)
            ]
            if kind == "csv":
                out.writelines(
                    f'RMA-{n},SO-{n},Anna Schmidt,,wrong size,authorized,{ln["sku"]},,"{ln["description"]}",1,apparel\n'
                    for ln in lines
                )
            else:
                out.write(
                    ("," if n else "")
                    + json.dumps({"rma_code": f"RMA-{n}", "status": "authorized", "lines": lines})
                    + "\n"
                )
        out.write("" if kind == "csv" else "]\n")
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
    assert loaded == 10_000
    assert peak < 2_000_000, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.1f} MB file"


def test_a_json_list_read_in_chunks_gives_every_rma_exactly(tmp_path):
    """RMAs and numbers cut by the reader's chunk boundaries come out whole."""
    import random

    from sync.imports import RmaFile

    rng = random.Random(1)
    data = [
        {
            "rma_code": f"RMA-{n}",
            "status": "authorized",
            "lines": [{"sku": f"S{n}-{i}", "qty": rng.randint(1, 10**6)} for i in range(rng.randint(1, 4))],
        }
        for n in range(15000)
    ]
    path = tmp_path / "many.json"
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    source = RmaFile(path)
    assert source.check() == []
    assert [(p.rma["rma_code"], [(ln["sku"], ln["qty"]) for ln in p.lines]) for p in source.rmas()] == [
        (d["rma_code"], [(ln["sku"], ln["qty"]) for ln in d["lines"]]) for d in data
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        ('[\n\n{"rma_code": "A", "status": oops}]', "f.json:3: not valid JSON: Expecting value"),
        ('[\n{"rma_code": "A",\n "qty": 1}\n{"x": 1}]', "f.json:4: not valid JSON: expected ',' or ']'"),
        ('[{"rma_code": "A"}] trailing', "f.json:1: not valid JSON: extra data after the list"),
        ('"text"', "f.json: expected a list of RMAs"),
    ],
)
def test_broken_json_is_one_line_with_its_line(text, message):
    from sync.imports import ImportFileError, read_rma_file

    with pytest.raises(ImportFileError) as refused:
        read_rma_file(text=text, kind="json", name="f.json")
    assert str(refused.value).startswith(message) and str(refused.value).endswith("nothing imported")


def test_the_object_forms_of_json_still_load():
    from sync.imports import read_rma_file

    row = {"rma_code": "A", "status": "authorized", "sku": "s", "qty": 1}
    wrapped = read_rma_file(text=json.dumps({"rmas": [row, {**row, "rma_code": "B"}]}), kind="json")
    assert [p.rma["rma_code"] for p in wrapped.rmas] == ["A", "B"]
    assert [p.rma["rma_code"] for p in read_rma_file(text=json.dumps(row), kind="json").rmas] == ["A"]
