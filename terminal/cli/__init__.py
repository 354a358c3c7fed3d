"""`rma` — the station's command line: thin wrappers over the library.

Every command exits non-zero with one clear line on stderr when it cannot do
its job; none prints a traceback for bad input.

This package only assembles the `rma` group.  Each command group lives in a
module of its own (``station``, ``receiving``, ``putaway``, ``exceptions``, ``operators``,
``sync``, ``label``, ``decode``, ``checklist``, ``container``) and imports what the commands share from
:mod:`terminal.cli.common`, never from this package.
"""

from __future__ import annotations

import inspect
import re
import sys
from gettext import gettext as _

import click

from terminal import config as station_config
from terminal import i18n
from terminal.cli import checklist, container, decode, exceptions, label, operators, putaway, receiving, station, sync
from terminal.cli.common import columns, fail
from terminal.i18n import N_

# The commands other distributions add keep their own help, in English (the server has no catalog yet);
# in another language the station's list names them in its own words.
PLUG_IN_HELP = {"server": N_("The central server (its help is in English)")}


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
            if found is not None and name in PLUG_IN_HELP:
                english = vars(found).setdefault("_english_short_help", found.short_help)
                found.short_help = english if i18n.current() == "en" else _(PLUG_IN_HELP[name])
        if found is None and name == "server":
            translate_help(_server_missing)
            return _server_missing
        return found

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        args = config_first(list(sys.argv[1:] if args is None else args))
        speak(args)
        translate_help(self)
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
        _(
            "the central server is not installed on this machine; install it with `pip install ./server` "
            "(the rma-server distribution), then run `rma server` or `rma-server`"
        )
    )


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    default=None,
    help=N_("Station config file (default: $RMA_STATION_CONFIG, then station.toml in the user's config folder)."),
)
@click.option(
    "--language",
    default=None,
    metavar="en|zh-CN",
    help=N_("Language of screens and messages (default: $RMA_LANGUAGE, then station.toml, then the system's)."),
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
    putaway.putaway,
    container.container,
    container.count,
    exceptions.exception,
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


def translate_help(command: click.Command) -> None:
    """Put the help texts of ``command`` and of every command under it in the language in force.

    Click takes help texts (a command's docstring, an option's ``help=N_("...")``) when the
    modules are imported, before :func:`speak` chose the language; so they are written in
    English, and translated here once it is chosen, before Click parses: ``rma --language zh-CN
    receive --help`` is Chinese throughout.  (The other way, importing the command modules only
    after the choice, would still leave every docstring English and needs a lazy group; this
    needs nothing of a command but ``N_()`` on its option help.)  The English is kept aside on
    each object, so a process that speaks again translates afresh.  ``./dev i18n`` extracts the
    commands' docstrings (``terminal/i18n/catalog.py``); Click's own words ("Usage:", "Missing
    argument" ...) are in the catalog through ``terminal/cli/click_texts.py``.
    """
    english = vars(command).setdefault("_english_help", command.help)
    if english:
        command.help = _(inspect.cleandoc(english).partition("\f")[0].rstrip())
        command.short_help = short_help(command.help)
    # Click wraps help by characters; a Chinese character takes two columns of the terminal
    command.context_class = click.Context if i18n.current() == "en" else WideContext
    for param in command.params:
        english = vars(param).setdefault("_english_help", getattr(param, "help", None))
        if english:
            param.help = _(english)
    if getattr(command, "_help_option", None) is not None:
        command._help_option = None  # made again, in this language, from Click's "Show this message and exit."
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            translate_help(sub)


SHORT_HELP_COLUMNS = 44
# no line of Chinese starts with these (they close what came before)
_CLOSING = set(
    "\uff0c\u3002\u3001\uff1b\uff1a\uff1f\uff01\uff09\u300b\u300d\u300f\u3011\u201d\u2019,.;:?!)]"
)  # full-width ones, and ASCII


def short_help(text: str) -> str | None:
    """A command's line in its group's list, for text without spaces between words (Chinese).

    Click makes it by words, which Chinese does not separate; so its first sentence, cut to
    about 44 columns.  None (Click's own) for text with no "。" in its first paragraph.
    """
    first = text.partition("\n\n")[0]
    if "。" not in first:
        return None
    sentence = first.partition("。")[0]
    if columns(sentence) <= SHORT_HELP_COLUMNS:
        return sentence
    cut = ""
    for ch in sentence:
        if columns(cut + ch) > SHORT_HELP_COLUMNS - 2:
            break
        cut += ch
    return cut.rstrip("\uff0c\u3001\uff1b\uff1a\uff08 ") + "…"


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` columns: between Chinese characters, or at spaces."""
    lines: list[str] = []
    line = ""
    for token in re.findall(r"[\u2e80-\uffff]|[^\s\u2e80-\uffff]+|\s+", " ".join(text.split())):
        if line and columns(line + token) > width and not token.isspace() and token not in _CLOSING:
            lines.append(line.rstrip())
            line = ""
        if line or not token.isspace():
            line += token
    return [*lines, line.rstrip()] if line.strip() else lines


class WideHelpFormatter(click.HelpFormatter):
    """Click's help layout, with lines measured in terminal columns, not characters."""

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        for n, paragraph in enumerate(text.split("\n\n")):
            if n:
                self.write("\n")
            for line in wrap(paragraph, self.width - self.current_indent):
                self.write(f"{indent}{line}\n")

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        first_col = min(max((columns(first) for first, _second in rows), default=0), col_max) + col_spacing
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if columns(first) <= first_col - col_spacing:
                self.write(" " * (first_col - columns(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = wrap(second, max(self.width - first_col - 2, 10)) or [""]
            self.write(f"{lines[0]}\n")
            for line in lines[1:]:
                self.write(f"{'':>{first_col + self.current_indent}}{line}\n")


class WideContext(click.Context):
    """A context whose help is laid out by :class:`WideHelpFormatter` (for Chinese)."""

    formatter_class = WideHelpFormatter


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
