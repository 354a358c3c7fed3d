"""The footer of the station's screens: the keys, described in the language in force.

Bindings are written at import time, before a language is chosen, so their
descriptions are marked ``N_()`` and translated here, each time the footer
composes its keys (Textual recomposes it when the bindings change; the app
recomposes it when the language changes).
"""

from __future__ import annotations

from gettext import gettext as _

from textual.app import ComposeResult
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey

from terminal.i18n import N_

# Textual's own key, translated with ours: the command palette.
TEXTUAL_KEYS = (N_("palette"),)


class Footer(TextualFooter):
    """Textual's footer, its key descriptions translated as they are drawn."""

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey) and widget.description:
                widget.description = _(widget.description)
            yield widget
