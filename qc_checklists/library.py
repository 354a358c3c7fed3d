"""The checklists a station works with: one folder, one file per product category.

A category whose file is invalid is *refused*, never graded with another
checklist: falling back to ``general`` would hide the broken file and grade
the item against the wrong standard.  Categories without a file of their own
use ``general``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from gettext import gettext as _
from gettext import ngettext
from pathlib import Path

from qc_checklists.checklist import Checklist
from qc_checklists.loader import SUFFIXES, Problem, check_file

FALLBACK = "general"


def standard_folder() -> Path:
    """The folder of the checklists shipped with the station."""
    return Path(__file__).parent / "checklists"


class ChecklistUnavailable(Exception):
    """No valid checklist for a category; the message says which file and why."""


@dataclass
class Library:
    """Every checklist of a folder, and every problem of the files that were refused."""

    folder: Path
    checklists: dict[str, Checklist] = field(default_factory=dict)
    invalid: dict[str, list[Problem]] = field(default_factory=dict)  # category -> its file's problems

    @property
    def problems(self) -> list[Problem]:
        """All problems of all refused files."""
        return [p for problems in self.invalid.values() for p in problems]

    def for_category(self, category: str) -> Checklist:
        """The checklist that grades ``category``; :class:`ChecklistUnavailable` if there is none valid."""
        category = (category or FALLBACK).strip().lower()
        for name in (category, FALLBACK):
            if name in self.invalid:
                problems = self.invalid[name]
                first = problems[0]
                more = (
                    ngettext(" (and {count} more problem)", " (and {count} more problems)", len(problems) - 1).format(
                        count=len(problems) - 1
                    )
                    if len(problems) > 1
                    else ""
                )
                used = (
                    ""
                    if name == category
                    else _(" (used for '{category}', which has no checklist of its own)").format(category=category)
                )
                raise ChecklistUnavailable(
                    _("checklist '{name}'{used} is invalid, no inspection until it is fixed: {first}{more}").format(
                        name=name, used=used, first=first, more=more
                    )
                )
            if name in self.checklists:
                return self.checklists[name]
        raise ChecklistUnavailable(
            _("no checklist for '{category}' and no '{fallback}' checklist in {folder}").format(
                category=category, fallback=FALLBACK, folder=self.folder
            )
        )


def checklist_files(folder: str | Path) -> list[Path]:
    """The checklist files of a folder, by name."""
    folder = Path(folder)
    return sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and not p.name.startswith("."))


def load_library(folder: str | Path | None = None) -> Library:
    """Load every checklist file of ``folder`` (default: the standard checklists)."""
    folder = Path(folder) if folder is not None else standard_folder()
    library = Library(folder)
    if not folder.is_dir():
        library.invalid[FALLBACK] = [Problem(str(folder), 0, _("checklist folder does not exist"))]
        return library
    try:
        files = checklist_files(folder)
    except OSError as exc:
        library.invalid[FALLBACK] = [
            Problem(str(folder), 0, _("cannot list the checklist folder: {error}").format(error=exc.strerror))
        ]
        return library
    for path in files:
        checklist, problems = check_file(path)
        if checklist is not None:
            library.checklists[checklist.id] = checklist
        else:
            library.invalid[path.stem.lower()] = problems
    return library
