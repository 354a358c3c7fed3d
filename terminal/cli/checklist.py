"""`rma checklist validate|list`: check checklist files and show what the station loads."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from qc_checklists import check_file, load_library, standard_folder
from qc_checklists.library import checklist_files
from qc_checklists.loader import Problem
from terminal.cli.common import fail


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
        fail(f"no checklist files (*.yaml) in {', '.join(paths)}")
    problems: list[Problem] = []
    for path in files:
        checklist, found = check_file(path)
        problems.extend(found)
        if checklist is not None:
            click.echo(
                f"ok  {path}  ({checklist.id}, {len(checklist.items)} items, hash {checklist.content_hash[:12]})"
            )
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        bad = len({p.path for p in problems})
        fail(f"{len(problems)} problem(s) in {bad} of {len(files)} file(s)")


@checklist.command("list")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False),
    default=None,
    help="Checklist folder (default: the standard checklists).",
)
def list_(folder: str | None) -> None:
    """Show the checklists the station loads: category, items, version, hash, languages; and refused files."""
    library = load_library(folder)
    click.echo(f"checklists in {library.folder}")
    for cid, c in sorted(library.checklists.items()):
        photos = sum(1 for i in c.items if i.photo_required_on_fail)
        rules = "default rules" if c.rules_are_default else f"{len(c.rules)} rules"
        click.echo(
            f"  {cid:22} v{c.version:<3} {len(c.items):2} items  {photos} need a photo on fail  "
            f"{rules:14} {c.content_hash[:12]}  {c.title}"
            + (f"  [en, {', '.join(c.languages)}]" if c.languages else "")
        )
    for category, problems in sorted(library.invalid.items()):
        click.echo(
            f"  {category:22} REFUSED: {problems[0]}" + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else "")
        )
    if library.invalid:
        sys.exit(1)
