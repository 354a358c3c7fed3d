"""The station's second language: the catalog covers every string, and the language is chosen as documented."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from terminal import i18n
from terminal.i18n import catalog


def test_every_string_shown_to_a_person_has_a_zh_cn_translation():
    gaps = catalog.missing()
    assert not gaps, f"{len(gaps)} strings without zh-CN text (translate them in {catalog.PO}): {gaps[:20]}"


def test_the_compiled_catalog_is_the_catalog():
    assert catalog.MO.read_bytes() == catalog.compiled(catalog.translations()), "run ./dev i18n"


def test_the_extraction_finds_strings_in_every_layer():
    # Guards the check above: a broken extraction would find nothing, and nothing would be missing.
    where = {path.split("/")[0] for message in catalog.extracted() for path, _line in message.locations}
    assert "terminal" in where


@pytest.fixture
def rma(tmp_path):
    """Run `rma ARGS...` with its own config folder and the given extra environment."""

    def run(*args: str, **env: str) -> subprocess.CompletedProcess:
        environ = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), **env}
        for name in ("RMA_STATION_CONFIG", i18n.LANGUAGE_ENV):
            if name not in env:
                environ.pop(name, None)
        done = subprocess.run(
            [sys.executable, "-m", "terminal", *args], capture_output=True, text=True, env=environ, timeout=60
        )
        assert "Traceback" not in done.stderr, done.stderr
        return done

    return run


def test_a_usage_error_is_in_chinese_with_the_flag(rma):
    done = rma("--language", "zh-CN", "no-such-command")
    assert done.returncode == 2
    assert "参见 rma --help" in done.stderr


def test_the_flag_may_stand_after_the_command(rma):
    assert "参见" in rma("receive", "--no-such-flag", "--language", "zh-CN").stderr


def test_the_environment_chooses_when_no_flag_does(rma):
    assert "参见" in rma("no-such-command", RMA_LANGUAGE="zh_CN.UTF-8").stderr
    assert "参见" not in rma("--language", "en", "no-such-command", RMA_LANGUAGE="zh-CN").stderr


def test_station_toml_chooses_the_language(rma, tmp_path):
    config = tmp_path / "station.toml"
    config.write_text('language = "zh-CN"\n', encoding="utf-8")
    assert "参见" in rma("--config", str(config), "no-such-command").stderr
    assert "参见" not in rma("--config", str(config), "no-such-command", RMA_LANGUAGE="en").stderr


def test_the_system_locale_counts_last_and_only_when_the_station_speaks_it(rma):
    assert "参见" in rma("no-such-command", LANGUAGE="", LANG="zh_CN.UTF-8").stderr
    assert "see rma --help" in rma("no-such-command", LANGUAGE="", LANG="de_DE.UTF-8").stderr


def test_an_unknown_language_is_one_line_naming_the_ones_there_are(rma):
    done = rma("--language", "klingon", "receive")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "en, zh-CN" in done.stderr


def test_no_translated_string_hides_inside_an_f_string():
    # Babel's extractor does not look inside f-strings: a _() there is never in the catalog, never translated.
    import re

    inside = re.compile(r"""\bf(["']).*\{\s*(_|ngettext)\(\s*["']""")  # a literal msgid: _(variable) is fine
    found = [
        f"{path.relative_to(catalog.ROOT)}:{n}"
        for folder in catalog.SOURCES
        for path in sorted((catalog.ROOT / folder).rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if inside.search(line)
    ]
    assert not found, f"_() inside an f-string (write _('...').format(...) outside it): {found}"
