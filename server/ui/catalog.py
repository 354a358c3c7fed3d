"""The web pages' two languages: English (the source text) and Simplified Chinese (zh-CN).

The station's gettext catalog (``terminal/i18n/zh_CN/LC_MESSAGES/rma.mo``) belongs to the
station's distribution: ``pip install ./server`` does not ship it and the server may not import
``terminal``.  So the pages keep a small catalog of their own, ``zh_CN.json`` beside this module
(English msgid -> Simplified Chinese), read into a standard-library
:class:`gettext.NullTranslations` that Jinja2's i18n extension installs.  Templates write
``{{ _("...") }}``; Python code marks text with :func:`N_` and the template translates it
where it is drawn.  ``tests/server/test_ui_catalog.py`` fails on a string without zh-CN text.
"""

from __future__ import annotations

import gettext
import json
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "zh-CN")
CATALOG = Path(__file__).parent / "zh_CN.json"


def N_(message: str) -> str:
    """Mark ``message`` for translation where it is drawn, not where it is written."""
    return message


class JsonTranslations(gettext.NullTranslations):
    """gettext's interface over a {msgid: translation} dict; a missing msgid reads in English."""

    def __init__(self, messages: dict[str, str]):
        super().__init__()
        self.messages = messages

    def gettext(self, message: str) -> str:
        """The translation of ``message``, or ``message``."""
        return self.messages.get(message) or message

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        """Chinese has one form: the singular's entry (with its ``%(num)s``); English picks by ``n``."""
        found = self.messages.get(msgid1)
        if found:
            return found
        return msgid1 if n == 1 else msgid2


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The translations for one of :data:`LANGUAGES`."""
    if language == "zh-CN":
        return JsonTranslations(json.loads(CATALOG.read_text(encoding="utf-8")))
    return gettext.NullTranslations()


def choose(asked: str | None, accept_language: str) -> str:
    """The page's language: ``?lang=`` when it is one of ours, else the browser's best, else English."""
    if asked:
        tag = _known(asked)
        if tag:
            return tag
    offers = []
    for i, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        offers.append((-weight, i, tag.strip()))
    for weight, _i, tag in sorted(offers):
        known = _known(tag)
        if known and weight < 0:
            return known
    return "en"


def _known(tag: str) -> str | None:
    tag = tag.strip().replace("_", "-").lower()
    if tag == "en" or tag.startswith("en-"):
        return "en"
    if tag == "zh" or tag.startswith(("zh-cn", "zh-hans", "zh-sg")):
        return "zh-CN"
    return None
