"""The keyboard wedge in the app: a scanner's burst is caught whatever has focus.

The timing is :class:`terminal.scanning.wedge.Wedge` (no Textual there); this
is the Textual side.  The app hands every event to :meth:`KeyboardWedge.on_event`:
printable keys are held for a moment; an Enter right behind a fast enough
burst makes the held keys one :class:`~terminal.messages.Scanned`, posted to
the app; anything else first releases the held keys, as typed, to the
focused widget.  Widgets with ``ACCEPTS_SCANS`` (the scan field, the reading
and operator fields) take bursts themselves.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable

import textual
from textual import events
from textual.app import App
from textual.timer import Timer

from terminal.messages import Scanned
from terminal.scanning.scan import read_scan
from terminal.scanning.wedge import Wedge

# The one private Textual name the station uses (there is no public way from a character to its key name).
# tests/terminal/scanning/test_keyboard.py fails on the next Textual major: check that
# textual.keys._character_to_key still exists and still gives Key events the names Input and bindings expect.
TEXTUAL_MAJOR = 8


def key_event(character: str) -> events.Key:
    """The Key event a terminal sends for a printable ``character`` ("a", "full_stop", "minus", ...)."""
    from textual.keys import _character_to_key  # private: see TEXTUAL_MAJOR

    return events.Key(character if character.isalnum() else _character_to_key(character), character)


def textual_major() -> int:
    """The installed Textual's major version (the private name above is checked against it)."""
    return int(textual.__version__.split(".")[0])


class KeyboardWedge:
    """Holds printable keys until it is clear whether they are a scan (posted) or typing (released)."""

    def __init__(self, app: App, dispatch: Callable[[events.Event], Awaitable[None]], timing: Wedge | None = None):
        self.app = app
        self.dispatch = dispatch  # the app's own handling of an event (App.on_event)
        self.timing = timing or Wedge()
        self._release_timer: Timer | None = None
        self._released: weakref.WeakSet[events.Key] = weakref.WeakSet()  # keys given back: never held again

    @property
    def held(self) -> list[tuple[str, float]]:
        """The keys held right now (character, time)."""
        return self.timing.held

    async def on_event(self, event: events.Event) -> None:
        """Hold, post as a scan, or pass on one event."""
        if (
            not isinstance(event, events.Key)
            or event.is_forwarded
            or event in self._released
            or getattr(self.app.focused, "ACCEPTS_SCANS", False)
        ):
            await self.dispatch(event)
            return
        if event.is_printable and event.character:
            self.timing.hold(event.character, event.time)
            if self._release_timer is not None:
                self._release_timer.stop()
            self._release_timer = self.app.set_timer(self.timing.max_gap * 1.5, self.release)
            return
        if event.key == "enter" and self.timing.is_burst(event.time):
            self.app.post_message(Scanned(read_scan(self.timing.take(), source="wedge")))
            return
        await self.release()
        await self.dispatch(event)

    async def release(self) -> None:
        """Give the held keys to the focused widget: they were typed, not scanned."""
        for character in self.timing.take():
            key = key_event(character)
            self._released.add(key)
            await self.dispatch(key)
