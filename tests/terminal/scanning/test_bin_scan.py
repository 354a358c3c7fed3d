"""A bin's label scans as BIN:NAME: its own kind, the bin's name in capitals."""

from __future__ import annotations

from terminal.scanning import Kind, read_scan


def test_a_bin_label_is_a_bin_in_capitals_whatever_the_scanner_sent():
    scan = read_scan("]C0bin:b-grade 2")
    assert (scan.kind, scan.value) == (Kind.BIN, "B-GRADE 2")


def test_the_prefix_alone_is_no_bin():
    assert read_scan("BIN:").kind == Kind.PARCEL
