"""`rma operator add|list`: the operators registered at this station (only they sign in)."""

from __future__ import annotations

import sys
from gettext import gettext as _
from gettext import ngettext

import click

from sync.store import ROLES, StoreError
from terminal import i18n
from terminal.cli.common import db_option, encoding_option, fail, open_store, settings_from
from terminal.i18n import N_, number


@click.group("operator")
def operator() -> None:
    """Operators: only registered badges sign in; a supervisor's badge approves overrides and undos."""


@operator.command("add")
@click.argument("operator_id")
@click.option("--name", default="", help=N_("The operator's name, shown at sign-in (default: kept, or none)."))
@click.option(
    "--role",
    type=click.Choice(ROLES),
    default=None,
    help=N_("clerk, inspector or supervisor (default: kept, or clerk for a new operator)."),
)
@click.option(
    "--operator-language",  # not --language: that one is rma's own (the language of this command)
    "language",
    default=None,
    metavar="en|zh-CN",
    help=N_("The language the station speaks while they are signed in (default: kept, or the station's)."),
)
@db_option
@click.pass_context
def add(
    ctx: click.Context, operator_id: str, name: str, role: str | None, language: str | None, db: str | None
) -> None:
    """Register OPERATOR_ID (the badge's OP:<id>), or change a registered operator's name, role or language."""
    try:
        language = i18n.normalise(language) if language else language
    except i18n.UnknownLanguage as exc:
        fail(str(exc))
    with open_store(settings_from(ctx, db=db)) as store:
        try:
            known = store.operator(operator_id.strip()) is not None
            added = store.add_operator(operator_id, name, role, language)
        except StoreError as exc:
            fail(str(exc))
    done = (
        _("updated {id} ({name}, {role}); badge: rma label badge {id}")
        if known
        else _("registered {id} ({name}, {role}); badge: rma label badge {id}")
    )
    click.echo(done.format(id=added.id, name=added.name or _("no name"), role=added.role))


@operator.command("list")
@db_option
@click.pass_context
def list_(ctx: click.Context, db: str | None) -> None:
    """The registered operators: id, role, name."""
    with open_store(settings_from(ctx, db=db)) as store:
        found = store.operators()
    if not found:
        click.echo(_("no operators registered: nobody can sign in (rma operator add ID --role supervisor)"))
    for op in found:
        click.echo(f"{op.id:24} {op.role:10} {op.name}".rstrip())


@click.command("operators")
@click.argument("file", type=click.Path(dir_okay=False))
@db_option
@encoding_option
@click.pass_context
def import_operators(ctx: click.Context, file: str, db: str | None, encoding: str) -> None:
    """Register operators from a CSV FILE with a header row: id, name, role (clerk, inspector, supervisor).

    A bad row is one line FILE:LINE: reason; the other rows are registered; exit 1 if any row failed.
    """
    from sync.imports import ImportFileError, read_operator_file

    try:
        rows = read_operator_file(file, encoding)
    except ImportFileError as exc:
        fail(str(exc))
    problems = registered = 0
    with open_store(settings_from(ctx, db=db)) as store:
        for row in rows:  # a bad row is one line; the others are registered
            if row.problem:
                click.echo(f"{file}:{row.line}: {row.problem}", err=True)
                problems += 1
                continue
            try:
                language = i18n.normalise(row.language) if row.language else None
                store.add_operator(row.id, row.name, row.role, language)
                registered += 1
            except (StoreError, i18n.UnknownLanguage) as exc:
                click.echo(f"{file}:{row.line}: {exc}", err=True)
                problems += 1
    click.echo(
        ngettext(
            "registered {count} operator from {file}; {problems} problem(s)",
            "registered {count} operators from {file}; {problems} problem(s)",
            registered,
        ).format(count=number(registered), file=file, problems=number(problems))
    )
    if problems:
        sys.exit(1)
