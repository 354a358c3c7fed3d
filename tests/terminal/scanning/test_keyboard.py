"""The Textual side of the keyboard wedge, and the one private Textual name it leans on."""

from __future__ import annotations

import textual

from terminal.scanning.keyboard import TEXTUAL_MAJOR, key_event, textual_major


def test_the_private_key_name_is_checked_on_every_textual_major():
    # Fails on the next Textual major on purpose: check that textual.keys._character_to_key still exists and
    # still gives the names below (Input types event.character; bindings match the names), then bump TEXTUAL_MAJOR.
    assert textual_major() == TEXTUAL_MAJOR == 8, textual.__version__


def test_held_characters_become_the_key_events_a_terminal_sends():
    assert [(k.key, k.character, k.is_printable) for k in map(key_event, "a7-./ ")] == [
        ("a", "a", True),
        ("7", "7", True),
        ("minus", "-", True),
        ("full_stop", ".", True),
        ("slash", "/", True),
        ("space", " ", True),
    ]
