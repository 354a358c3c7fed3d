"""The bins of a station: the routing rules' bins and station.toml's [bins]."""

from __future__ import annotations

import pytest

from terminal import config
from terminal.putaway import BinsUnavailable, station_bins


def test_station_toml_adds_bins_to_the_routing_rules(tmp_path):
    toml = tmp_path / "station.toml"
    toml.write_text('station = "zone-1"\n[bins]\nB-GRADE-2 = ["b_stock"]\nOUTLET = ["b_stock", "donate"]\n')
    bins = station_bins(config.load(toml))
    assert bins["B-GRADE-2"] == {"b_stock"} and bins["OUTLET"] == {"b_stock", "donate"}
    assert bins["B-GRADE"] == {"b_stock"}  # the routing rules' bins stay


def test_a_station_bin_that_is_no_list_is_one_line(tmp_path):
    toml = tmp_path / "station.toml"
    toml.write_text('[bins]\nB-GRADE-2 = "b_stock"\n')
    with pytest.raises(config.ConfigError, match="bins: B-GRADE-2 must be a list of channels"):
        config.load(toml)


def test_a_station_bin_naming_an_unknown_channel_is_one_line(tmp_path):
    toml = tmp_path / "station.toml"
    toml.write_text('[bins]\nB-GRADE-2 = ["outlet"]\n')
    with pytest.raises(BinsUnavailable, match=r"bins: bin B-GRADE-2: unknown channel 'outlet'"):
        station_bins(config.load(toml))
