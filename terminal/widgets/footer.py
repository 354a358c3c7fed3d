"""The footer of the station's screens: the keys, described in the language in force.

Bindings are written at import time, before a language is chosen, so their
descriptions are marked ``N_()`` and translated here, each time the footer
composes its keys (Textual recomposes it when the bindings change), and again
when the app says the language changed (``language_changed``).
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
    """Textual's footer, its key descriptions translated as they are drawn; compact and without the command
    palette's key (Ctrl+P still opens it), so a screen's keys and the station's fit 80 columns."""

    def __init__(self, *children, **options) -> None:
        super().__init__(*children, **({"show_command_palette": False, "compact": True} | options))

    def compose(self) -> ComposeResult:
        hides = getattr(self.app, "footer_hides", lambda action: False)
        for widget in super().compose():
            if isinstance(widget, FooterKey) and hides(widget.action):
                continue
            if isinstance(widget, FooterKey) and widget.description:
                widget.source_description = widget.description  # type: ignore[attr-defined]
                widget.description = _(widget.description)
            yield widget

    def language_changed(self) -> None:
        """Describe the keys shown in the language now in force (the app calls this when it changes)."""
        for key in self.query(FooterKey):
            source = getattr(key, "source_description", "")
            if source:
                key.description = _(source)
                key.refresh(layout=True)
