"""What every `rma` command shares: one-line failures, the settings in force, the station database, options.

Each command module imports this one, never the package: ``terminal.cli`` only assembles them.
"""

from __future__ import annotations

import sys
import unicodedata
from typing import NoReturn

import click

from sync.store import Store, StoreError
from terminal import config as station_config
from terminal.i18n import N_


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line on stderr and exit."""
    click.echo(f"rma: {message}", err=True)
    sys.exit(code)


def columns(text: str) -> int:
    """The terminal columns ``text`` takes: two for a wide (CJK) character, one for the rest."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def padded(text: str, width: int) -> str:
    """``text`` with spaces after it up to ``width`` terminal columns (``f"{text:14}"`` counts characters)."""
    return text + " " * max(0, width - columns(text))


def settings_from(ctx: click.Context, **flags) -> station_config.Settings:
    """The settings in force: defaults, config file, then these flags."""
    try:
        return station_config.load(ctx.obj.get("config"), **flags)
    except station_config.ConfigError as exc:
        fail(str(exc))


def open_store(settings: station_config.Settings) -> Store:
    """Open the station database or exit with the reason."""
    try:
        return Store(settings.db_path, create_folder=settings.db_is_default)
    except StoreError as exc:
        fail(str(exc))


db_option = click.option(
    "--db",
    type=click.Path(dir_okay=False),
    default=None,
    help=N_("Station database file (default: the user's data folder)."),
)
station_option = click.option("--station", default=None, help=N_("Station id (default: config file, then host name)."))
encoding_option = click.option(
    "--encoding",
    default="",
    metavar="NAME",
    help=N_("The file's encoding, e.g. gbk, gb18030, utf-8 (default: its byte-order mark, else UTF-8, else GB18030)."),
)
