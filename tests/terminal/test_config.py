"""station.toml values have types: a wrong one is one line naming the key, the file and the type wanted."""

from __future__ import annotations

import pytest

from terminal.config import ConfigError, load


@pytest.mark.parametrize(
    "line, key",
    [
        ('db = ["x"]', "db"),
        ("station = 7", "station"),
        ("printer = { url = 'tcp://x' }", "printer"),
        ("server_url = true", "server_url"),
        ("camera = [0]", "camera"),
        ("camera = true", "camera"),
        ("server_token = 1.5", "server_token"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_naming_key_file_and_type(tmp_path, monkeypatch, line, key):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "station.toml"
    config.write_text(line + "\n")
    with pytest.raises(ConfigError) as refused:
        load(config)
    message = str(refused.value)
    assert str(config) in message and f"{key} " in message and "text" in message
    assert "\n" not in message
    assert list(tmp_path.iterdir()) == [config]  # no file named "['x']" or the like


def test_a_camera_may_be_a_device_number(tmp_path):
    config = tmp_path / "station.toml"
    config.write_text('camera = 0\ndb = "/tmp/x.db"\n')
    settings = load(config)
    assert settings.camera == "0" and settings.db == "/tmp/x.db"


def test_the_command_line_says_so_in_one_line_and_makes_no_file(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from terminal.cli import rma

    monkeypatch.chdir(tmp_path)
    config = tmp_path / "station.toml"
    config.write_text('db = ["x"]\n')
    result = CliRunner().invoke(
        rma, ["receive", "RMA-1"], env={"RMA_STATION_CONFIG": str(config)}, catch_exceptions=False
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == f'rma: {config}: db must be text in quotes (e.g. db = "..."), not a list'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["station.toml"]


def test_a_printer_resident_cjk_font_is_a_setting(tmp_path):
    config = tmp_path / "station.toml"
    config.write_text('zpl_cjk_font = "E:SIMSUN.TTF"\n')
    settings = load(config)
    assert settings.zpl_cjk_font == "E:SIMSUN.TTF" and settings.sources["zpl_cjk_font"] == f"file {config}"
    assert load(tmp_path / "station.toml").zpl_cjk_font == "E:SIMSUN.TTF"
    (tmp_path / "empty.toml").write_text("")
    assert load(tmp_path / "empty.toml").zpl_cjk_font == ""


@pytest.mark.parametrize("value", ["SIMSUN.TTF", "E:SIMSUN.TTF^XZ^XA", "E:~JR.TTF", "E:A_VERY_LONG_NAME.TTF"])
def test_a_printer_font_that_is_not_one_is_refused_in_one_line(tmp_path, value):
    config = tmp_path / "station.toml"
    config.write_text(f'zpl_cjk_font = "{value}"\n')
    with pytest.raises(ConfigError) as refused:
        load(config)
    message = str(refused.value)
    assert str(config) in message and "zpl_cjk_font" in message and "E:SIMSUN.TTF" in message
    assert "\n" not in message
