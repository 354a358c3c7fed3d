"""The station's two languages: English (the source text) and Simplified Chinese (zh-CN).

Every string a person reads is written ``_("...")`` where it is shown, with the
standard library's ``from gettext import gettext as _`` (and ``ngettext``), in
every layer: sync, labels and qc_checklists need no import of ours for it.
:func:`use` binds the ``rma`` catalog kept in this folder as gettext's domain
and picks the language; text that must be written before a language is chosen
(key bindings, tables built at import) is marked ``N_("...")`` and translated
where it is drawn.  ``./dev i18n`` extracts the strings, updates the catalog and
compiles it; ``tests/terminal/test_i18n.py`` fails when a string has no zh-CN text.
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path

from babel import Locale
from babel.numbers import format_decimal

DOMAIN = "rma"
LOCALE_DIR = Path(__file__).parent
LANGUAGE_ENV = "RMA_LANGUAGE"
# The languages a station speaks: the name used in station.toml and flags -> gettext's catalog name.
LANGUAGES = {"en": "en", "zh-CN": "zh_CN"}
_ALIASES = {"zh": "zh-CN", "zh-cn": "zh-CN", "zh-hans": "zh-CN", "zh-hans-cn": "zh-CN", "zh-sg": "zh-CN"}
_current = "en"


class UnknownLanguage(ValueError):
    """A language the station has no catalog for; the message names the ones it has."""


def N_(message: str) -> str:
    """Mark ``message`` for translation where it is drawn, not where it is written."""
    return message


def normalise(language: str) -> str:
    """``zh_CN.UTF-8``, ``zh-cn``, ``zh-Hans`` -> ``zh-CN``; ``en_US``, ``C`` -> ``en``."""
    tag = language.strip().split(".")[0].split("@")[0].replace("_", "-").lower()
    if tag in ("", "c", "posix") or tag == "en" or tag.startswith("en-"):
        return "en"
    if tag in _ALIASES:
        return _ALIASES[tag]
    known = ", ".join(LANGUAGES)
    raise UnknownLanguage(f"language {language!r} is not one the station speaks; use one of: {known}")


def choose(flag: str | None = None, configured: str | None = None) -> str:
    """The language in force: the flag, then $RMA_LANGUAGE, then station.toml, then the system's, then English.

    The system's (``$LANGUAGE``, ``$LC_ALL``, ``$LC_MESSAGES``, ``$LANG``) only counts when it is
    one the station speaks, so an unrelated locale never stops a clerk.
    """
    for given in (flag, os.environ.get(LANGUAGE_ENV), configured):
        if given:
            return normalise(given)
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        for given in os.environ.get(name, "").split(":"):
            if given:
                try:
                    return normalise(given)
                except UnknownLanguage:
                    break
    return "en"


def use(language: str) -> str:
    """Show every string in ``language`` from now on (the whole process); returns its normal name.

    gettext looks the language up in ``$LANGUAGE`` at each call, so that is where it is set:
    child processes (the sync worker, ``lp``) speak the same language.
    """
    global _current
    name = normalise(language)
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = LANGUAGES[name]
    _current = name
    return name


def current() -> str:
    """The language in force (``en`` or ``zh-CN``)."""
    return _current


def locale() -> Locale:
    """The Babel locale for numbers and dates in the language in force."""
    return Locale.parse(LANGUAGES[_current])


def number(value: float) -> str:
    """A number as the language in force writes it (grouping, decimal sign)."""
    return format_decimal(value, locale=locale())
