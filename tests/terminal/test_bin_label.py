"""`rma label bin NAME`: a Code 128 label that scans back as that bin, for the bins the station has."""

from __future__ import annotations

from click.testing import CliRunner

from terminal.cli import rma
from terminal.scanning import Kind, read_scan
from tests.terminal.test_label_cli import zpl_decoded


def invoke(tmp_path, *args: str):
    config = tmp_path / "station.toml"
    config.write_text('station = "zone-1"\n[bins]\nOUTLET = ["b_stock", "donate"]\n')
    return CliRunner().invoke(
        rma,
        list(args),
        env={"RMA_STATION_CONFIG": str(config), "XDG_DATA_HOME": str(tmp_path / "data")},
        catch_exceptions=False,
    )


def test_a_bin_label_reads_back_as_that_bin(tmp_path):
    result = invoke(tmp_path, "label", "bin", "b-grade", "--out", "-")
    assert result.exit_code == 0, result.output
    [[text]] = zpl_decoded(result.stdout_bytes)
    scan = read_scan(text, "test")
    assert (scan.kind, scan.value) == (Kind.BIN, "B-GRADE")


def test_a_station_bin_has_a_label_too(tmp_path):
    result = invoke(tmp_path, "label", "bin", "OUTLET", "--out", "-")
    assert result.exit_code == 0 and zpl_decoded(result.stdout_bytes) == [["BIN:OUTLET"]]


def test_a_bin_the_station_does_not_have_is_one_line(tmp_path):
    result = invoke(tmp_path, "label", "bin", "SHELF-9", "--out", "-")
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("rma: no bin SHELF-9 at this station; bins: B-GRADE, CLAIMS")
    assert len(result.stderr.strip().splitlines()) == 1
