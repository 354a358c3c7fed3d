"""`rma checklist validate|list|routing`: check checklist and routing files and show what the station loads."""

from __future__ import annotations

import sys
from gettext import gettext as _
from gettext import ngettext
from pathlib import Path

import click

from qc_checklists import check_file, load_library, standard_folder
from qc_checklists.library import checklist_files
from qc_checklists.loader import Problem
from terminal.cli.common import fail, padded
from terminal.i18n import N_


@click.group("checklist")
def checklist() -> None:
    """QC checklists: one YAML file per product category."""


def _files(paths: tuple[str, ...]) -> list[Path]:
    """The files named, with folders expanded to their checklist files."""
    if not paths:
        return checklist_files(standard_folder())
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        found.extend(checklist_files(path) if path.is_dir() else [path])
    return found


@checklist.command("validate")
@click.argument("paths", nargs=-1, type=click.Path())
def validate(paths: tuple[str, ...]) -> None:
    """Check checklist files (default: the standard ones); FILE:LINE: reason for every problem, exit 1 if any."""
    files = _files(paths)
    if not files:
        fail(_("no checklist files (*.yaml) in {folders}").format(folders=", ".join(paths)))
    problems: list[Problem] = []
    for path in files:
        checklist, found = check_file(path)
        problems.extend(found)
        if checklist is not None:
            items = len(checklist.items)
            click.echo(
                ngettext(
                    "ok  {path}  ({id}, {count} item, hash {hash})",
                    "ok  {path}  ({id}, {count} items, hash {hash})",
                    items,
                ).format(path=path, id=checklist.id, count=items, hash=checklist.content_hash[:12])
            )
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        bad = len({p.path for p in problems})
        fail(
            ngettext(
                "{problems} problem(s) in {bad} of {files} file",
                "{problems} problem(s) in {bad} of {files} files",
                len(files),
            ).format(problems=len(problems), bad=bad, files=len(files))
        )


@checklist.command("list")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False),
    default=None,
    help=N_("Checklist folder (default: the standard checklists)."),
)
def list_(folder: str | None) -> None:
    """Show the checklists the station loads: category, items, version, hash, languages; and refused files."""
    library = load_library(folder)
    click.echo(_("checklists in {folder}").format(folder=library.folder))
    for cid, c in sorted(library.checklists.items()):
        photos = sum(1 for i in c.items if i.photo_required_on_fail)
        rules = (
            _("default rules")
            if c.rules_are_default
            else ngettext("{count} rule", "{count} rules", len(c.rules)).format(count=len(c.rules))
        )
        click.echo(
            _("  {id:22} v{version:<3} {items:2} items  {photos} need a photo on fail  {rules} {hash}  {title}").format(
                id=cid,
                version=c.version,
                items=len(c.items),
                photos=photos,
                rules=padded(rules, 14),
                hash=c.content_hash[:12],
                title=c.title,
            )
            + ("  [en, {}]".format(", ".join(c.languages)) if c.languages else "")
        )
    for category, problems in sorted(library.invalid.items()):
        more = len(problems) - 1
        click.echo(
            _("  {category:22} REFUSED: {problem}").format(category=category, problem=problems[0])
            + (_(" (+{count} more)").format(count=more) if more else "")
        )
    if library.invalid:
        sys.exit(1)


@checklist.command("routing")
@click.argument("path", required=False, type=click.Path())
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False),
    default=None,
    help=N_("Checklist folder whose item ids the rules may name (default: the standard checklists)."),
)
def routing(path: str | None, folder: str | None) -> None:
    """Check a routing rule file (default: the standard one) and show its rules in the order they decide."""
    from qc_checklists import check_routing_file, standard_routing_file

    library = load_library(folder)
    rules, problems = check_routing_file(path or standard_routing_file(), library.checklists)
    for problem in problems:
        click.echo(str(problem), err=True)
    if rules is None:
        fail(
            _("{n} problem(s) in {path}; the station inspects nothing until it is fixed").format(
                n=len(problems), path=path or standard_routing_file()
            )
        )
    click.echo(
        _("ok  {path}  ({id} v{version}, {n} rules, default {default}, hash {hash})").format(
            path=rules.path,
            id=rules.id,
            version=rules.version,
            n=len(rules.rules),
            default=rules.default.value,
            hash=rules.content_hash[:12],
        )
    )
    for rule in rules.rules:
        bin_name = rule.bin or rules.bin_for(rule.then)
        where, in_bin = _("line {line}").format(line=rule.line), _("bin {bin}").format(bin=f"{bin_name:10}")
        click.echo(f"  {where:9} {rule.then.value:17} {in_bin} {rule.describe()}")
    otherwise, in_bin = _("else"), _("bin {bin}").format(bin=rules.bin_for(rules.default))
    click.echo(f"  {otherwise:9} {rules.default.value:17} {in_bin}")
