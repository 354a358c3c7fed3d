"""`rma` — the station's command line: thin wrappers over the library.

Every command exits non-zero with one clear line on stderr when it cannot do
its job; none prints a traceback for bad input.

This package only assembles the `rma` group.  Each command group lives in a
module of its own (``station``, ``receiving``, ``operators``, ``sync``,
``label``, ``decode``, ``checklist``) and imports what the commands share from
:mod:`terminal.cli.common`, never from this package.
"""

from __future__ import annotations

import sys
from gettext import gettext as _

import click

from terminal import config as station_config
from terminal import i18n
from terminal.cli import checklist, decode, label, operators, receiving, station, sync
from terminal.cli.common import fail


class OneLineGroup(click.Group):
    """The `rma` group: a usage error is one line on stderr naming the help, not Click's three.

    It also offers the commands other installed distributions add (entry point group
    ``rma.commands``): the central server, where it is installed, is ``rma server``. The
    station itself never imports the server.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *(ep.name for ep in _plug_ins())})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        found = super().get_command(ctx, name)
        if found is None:
            found = next((ep.load() for ep in _plug_ins() if ep.name == name), None)
        if found is None and name == "server":
            return _server_missing
        return found

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        args = config_first(list(sys.argv[1:] if args is None else args))
        speak(args)
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else (prog_name or "rma")
            message = " ".join(exc.format_message().split()).rstrip(".")
            fail(_("{message} (see {where} --help)").format(message=message, where=where), exc.exit_code)
        except click.ClickException as exc:
            fail(" ".join(exc.format_message().split()), exc.exit_code)
        except click.Abort:
            fail(_("stopped; nothing more was done"))
        sys.exit(code if isinstance(code, int) else 0)


def _plug_ins():
    from importlib.metadata import entry_points

    return entry_points(group="rma.commands")


@click.command("server", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def _server_missing() -> None:
    """The central server (not installed here: pip install ./server)."""
    fail(
        "the central server is not installed on this machine; install it with `pip install ./server` "
        "(the rma-server distribution), then run `rma server` or `rma-server`"
    )


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    default=None,
    help=f"Station config file (default: ${station_config.CONFIG_ENV}, then {station_config.default_config_path()}).",
)
@click.option(
    "--language",
    default=None,
    metavar="en|zh-CN",
    help=f"Language of screens and messages (default: ${i18n.LANGUAGE_ENV}, then station.toml, then the system's).",
)
@click.pass_context
def rma(ctx: click.Context, config: str | None, language: str | None) -> None:
    """RMA Station: receive, inspect and sort customer returns, offline first."""
    ctx.obj = {"config": config}  # the language was chosen before parsing: OneLineGroup.main


@rma.group("import")
def import_() -> None:
    """Load data into the station database."""


import_.add_command(receiving.import_rmas)
import_.add_command(operators.import_operators)
for command in (
    station.station,
    station.demo,
    station.show_config,
    receiving.receive,
    operators.operator,
    sync.sync_command,
    sync.conflicts,
    label.label,
    decode.decode,
    checklist.checklist,
):
    rma.add_command(command)
del command


GROUP_OPTIONS = ("--config", "--language")


def config_first(args: list[str]) -> list[str]:
    """Let ``--config PATH`` and ``--language L`` stand anywhere (``rma station --config x.toml``).

    Click only takes a group's options before the subcommand, so they are moved there.
    """
    for option in GROUP_OPTIONS:
        for n, arg in enumerate(args):
            if arg == "--":
                break
            if arg.startswith(option + "="):
                args = [arg, *args[:n], *args[n + 1 :]]
                break
            if arg == option and n + 1 < len(args):
                args = [arg, args[n + 1], *args[:n], *args[n + 2 :]]
                break
    return args


def speak(args: list[str]) -> None:
    """Choose the language before Click parses anything, so even a usage error is in it.

    ``--language`` wins, then $RMA_LANGUAGE, then ``language`` in station.toml (``--config``).
    """
    args = args[: args.index("--")] if "--" in args else args
    given = {option: value for option, value in zip(args, [*args[1:], None], strict=True) if option in GROUP_OPTIONS}
    for arg in args:
        option, equals, value = arg.partition("=")
        if equals and option in GROUP_OPTIONS:
            given[option] = value
    try:
        configured = station_config.load(given.get("--config")).language
    except station_config.ConfigError:
        configured = None  # the command that reads the file says what is wrong with it
    try:
        i18n.use(i18n.choose(given.get("--language"), configured))
    except i18n.UnknownLanguage as exc:
        fail(str(exc), 2)


def main() -> None:
    """Console-script entry point."""
    rma(prog_name="rma")
