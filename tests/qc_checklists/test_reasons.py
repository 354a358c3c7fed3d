"""The return-reason vocabulary: the customer's words (Chinese or English) → one reason code."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from qc_checklists.reasons import REASONS, reason_code
from sync.store import Store
from terminal.cli import rma

HEADER = "rma_code,order_ref,customer_name,tracking_number,reason,status,sku,gtin,description,qty,category\n"


@pytest.mark.parametrize(
    "text, code",
    [
        ("尺码偏小", "size_too_small"),
        ("质量问题", "defective"),
        ("与描述不符", "not_as_described"),
        ("运输损坏", "damaged_in_transit"),
        ("不想要了", "changed_mind"),
        ("发错货", "wrong_item"),
        ("too small", "size_too_small"),
        ("defective", "defective"),
        ("not as described", "not_as_described"),
        ("damaged in transit", "damaged_in_transit"),
        ("changed mind", "changed_mind"),
        ("wrong item", "wrong_item"),
        # as customers and portals write them: case, spaces, a full stop, full-width forms
        ("  Too Small. ", "size_too_small"),
        ("尺码偏小。", "size_too_small"),
        ("尺码 偏小", "size_too_small"),
        ("DAMAGED  IN\tTRANSIT", "damaged_in_transit"),
        ("Changed my mind!", "changed_mind"),
        ("ｄｅｆｅｃｔｉｖｅ", "defective"),  # noqa: RUF001 - the full-width letters are the point
        ("size_too_small", "size_too_small"),  # a code is its own text
    ],
)
def test_the_customers_words_map_to_one_code(text, code):
    assert reason_code(text) == code


@pytest.mark.parametrize("text", ["", "   ", "my dog ate it", "尺码偏小但是也有质量问题", None])
def test_words_outside_the_table_have_no_code(text):
    assert reason_code(text) == ""


def test_one_table_every_code_in_both_languages_no_phrase_twice():
    seen: dict[str, str] = {}
    for reason in REASONS:
        assert reason.code.isidentifier() and reason.code.islower()
        assert reason.zh and any("\u4e00" <= ch <= "\u9fff" for ch in reason.zh[0]), reason.code
        assert reason.en and reason.en[0].isascii(), reason.code
        for phrase in (*reason.zh, *reason.en):
            assert reason_code(phrase) == reason.code, phrase
            key = " ".join(phrase.casefold().split())
            assert key not in seen, f"{phrase!r} is in {seen.get(key)} and {reason.code}"
            seen[key] = reason.code
    assert {r.code for r in REASONS} >= {
        "size_too_small",
        "defective",
        "not_as_described",
        "damaged_in_transit",
        "changed_mind",
        "wrong_item",
    }


def test_an_import_keeps_the_customers_text_and_gains_the_code(tmp_path):
    path = tmp_path / "rmas.csv"
    path.write_bytes(
        (
            HEADER + "RMA-1,,张伟,,尺码偏小,authorized,S1,,,1,apparel\n"
            "RMA-2,,Eva,,Damaged in transit,authorized,S2,,,1,\n"
            "RMA-3,,Li,,my dog ate it,authorized,S3,,,1,\n"
        ).encode("gbk")
    )
    db = tmp_path / "s.db"
    config = tmp_path / "station.toml"
    config.write_text('station = "bench-1"\n')
    result = CliRunner().invoke(
        rma, ["import", "rmas", str(path), "--db", str(db)], env={"RMA_STATION_CONFIG": str(config)}
    )
    assert result.exit_code == 0, result.output
    with Store(db) as store:
        found = {code: store.get_rma(code) for code in ("RMA-1", "RMA-2", "RMA-3")}
        assert {code: (r.reason, r.reason_code) for code, r in found.items() if r} == {
            "RMA-1": ("尺码偏小", "size_too_small"),
            "RMA-2": ("Damaged in transit", "damaged_in_transit"),
            "RMA-3": ("my dog ate it", ""),
        }
