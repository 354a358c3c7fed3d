"""Keep the zh-CN catalog in step with the source: extract, merge, compile, and list what is missing.

``./dev i18n`` runs this module; ``tests/terminal/test_i18n.py`` uses the same functions, so
the test and the tool can never disagree about which strings a person reads.
"""

from __future__ import annotations

import ast
import io
import sys

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from terminal.i18n import LOCALE_DIR

ROOT = LOCALE_DIR.parents[1]
SOURCES = ("terminal", "sync", "labels", "qc_checklists")
PO = LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "rma.po"
MO = PO.with_suffix(".mo")
# ngettext's plural forms are one entry; the rest as gettext has them.
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None}


def extracted() -> Catalog:
    """Every string the station's source marks for translation, with where it is written.

    Besides ``_()``, ``ngettext()`` and ``N_()``: the docstring of every Click command and group,
    which is its ``--help`` (``terminal.cli.translate_help`` translates it once the language is chosen).
    """
    template = Catalog(project="rma-station", fuzzy=False)
    for folder in SOURCES:
        found = extract_from_dir(ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS)
        for filename, lineno, message, comments, context in found:
            template.add(message, None, [(f"{folder}/{filename}", lineno)], auto_comments=comments, context=context)
        for path in sorted((ROOT / folder).rglob("*.py")):
            for lineno, docstring in command_docstrings(path.read_text(encoding="utf-8")):
                template.add(docstring, None, [(str(path.relative_to(ROOT)), lineno)])
    return template


def command_docstrings(source: str) -> list[tuple[int, str]]:
    """(line, docstring) of each function decorated ``@<something>.command(...)`` or ``.group(...)``.

    The docstring as Click shows it: cleaned like ``inspect.cleandoc``, up to a ``\\f``.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            call = decorator.func if isinstance(decorator, ast.Call) else decorator
            if isinstance(call, ast.Attribute) and call.attr in ("command", "group"):
                docstring = ast.get_docstring(node, clean=True)
                if docstring:
                    found.append((node.lineno, docstring.partition("\f")[0].rstrip()))
                break
    return found


def translations() -> Catalog:
    """The zh-CN catalog as it is on disk."""
    with PO.open("rb") as file:
        return read_po(file, locale="zh_CN")


def missing() -> list[str]:
    """The strings shown to people that have no (or only a fuzzy) zh-CN translation."""
    done = translations()
    gaps = []
    for message in extracted():
        if not message.id:
            continue
        ours = done.get(message.id, message.context)
        strings = ours.string if ours else None
        if isinstance(strings, tuple | list):
            strings = "" if not all(strings) else strings[0]
        if not ours or not strings or ours.fuzzy:
            gaps.append(message.id if isinstance(message.id, str) else message.id[0])
    return gaps


def compiled(catalog: Catalog) -> bytes:
    """The .mo file gettext reads, made from ``catalog``."""
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def update() -> list[str]:
    """Merge the source's strings into the catalog, drop the ones gone, compile; returns what is missing."""
    catalog = translations()
    template = extracted()
    template.creation_date = catalog.creation_date  # the header stays as it is: no churn in the file
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    with PO.open("wb") as file:
        write_po(file, catalog, no_location=True, sort_output=True, ignore_obsolete=True, width=100)
    MO.write_bytes(compiled(translations()))
    return missing()


def main() -> None:
    """``./dev i18n``: update the catalog and say what still needs a translation."""
    gaps = update()
    print(f"i18n: {len(translations())} strings in {PO.relative_to(ROOT)}; {len(gaps)} without zh-CN text")
    for gap in gaps:
        print(f"  missing: {gap}")
    sys.exit(0)


if __name__ == "__main__":
    main()
