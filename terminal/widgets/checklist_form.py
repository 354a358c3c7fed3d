"""The checklist of the item on the bench: every check, its answer, and where the cursor is."""

from __future__ import annotations

from gettext import gettext as _

from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from qc_checklists import NOT_APPLICABLE, Item, Kind, judge
from terminal.i18n import N_
from terminal.inspection import Draft

SEVERITY_STYLE = {"critical": "bold red", "major": "yellow", "minor": "dim"}
SEVERITIES = {"critical": N_("critical"), "major": N_("major"), "minor": N_("minor")}  # as shown
ANSWERS = (N_("PASS"), N_("FAIL"))  # a pass/fail answer as shown (upper case)


class ChecklistRow(Static):
    """One check: number, answer, prompt (with the keys to answer it when the cursor is here), severity."""


class ChecklistForm(VerticalScroll):
    """Renders a :class:`~terminal.inspection.Draft` and keeps the current check in view; holds no state."""

    DEFAULT_CSS = """
    ChecklistForm { height: 1fr; padding: 0 1; }
    ChecklistForm ChecklistRow { height: auto; }
    ChecklistForm ChecklistRow.current { background: $boost; }
    ChecklistForm .title { text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._shown: Draft | None = None
        self.compact = False  # a short terminal: one line per check, no help text

    def show(self, draft: Draft | None) -> None:
        """Show the draft's checklist (or nothing)."""
        if draft is not self._shown:
            self.remove_children()
            self._shown = draft
            if draft is None:
                return
            c = draft.checklist
            title = Text.assemble(
                (c.title_in(draft.language), "bold"),
                (
                    "   "
                    + _("checklist {id} v{version} · {hash}").format(
                        id=c.id, version=c.version, hash=c.content_hash[:12]
                    ),
                    "dim",
                ),
            )
            self.mount(Static(title, classes="title"), *[ChecklistRow() for _item in c.items])
            self.call_after_refresh(self.show, draft)
            return
        if draft is None:
            return
        rows = list(self.query(ChecklistRow))
        for n, (item, row) in enumerate(zip(draft.checklist.items, rows, strict=False)):
            here = n == draft.cursor
            row.set_class(here, "current")
            row.update(self._row(draft, n, item, here))
        if draft.cursor is not None and draft.cursor < len(rows):
            self.scroll_to_widget(rows[draft.cursor], animate=False)

    def _row(self, draft: Draft, n: int, item: Item, here: bool) -> Table:
        severity = item.severity.value if item.severity else ""
        camera = " 📷" if item.photo_required_on_fail or item.kind == Kind.PHOTO else ""
        prompt = Text(item.prompt_in(draft.language), style="bold" if here else "")
        if here:
            prompt.append("\n" + self._hint(item, draft.language), style="cyan")
            if item.help and not self.compact:
                prompt.append("\n" + item.help_in(draft.language), style="dim")
        table = Table(box=None, show_header=False, padding=(0, 1), expand=True)
        table.add_column(width=2)
        table.add_column(width=3, justify="right")
        table.add_column(width=16, no_wrap=True, overflow="ellipsis")
        table.add_column(ratio=1, no_wrap=not here, overflow="ellipsis")  # other checks: one line each
        table.add_column(width=11, no_wrap=True)  # "critical 📷"
        table.add_row(
            Text("▶", style="reverse") if here else "",
            str(n + 1),
            self._answer(draft, item),
            prompt,
            Text(
                _(SEVERITIES.get(severity, severity)) + camera if severity else camera,
                style=SEVERITY_STYLE.get(severity, ""),
            ),
        )
        return table

    @staticmethod
    def _hint(item: Item, language: str) -> str:
        if item.kind == Kind.CHOICE:
            return "   ".join(f"{i} {item.choice_label_in(ch.label, language)}" for i, ch in enumerate(item.choices, 1))
        return Draft.how_to_answer(item)

    @staticmethod
    def _answer(draft: Draft, item: Item) -> Text:
        photo = draft.photos.get(item.id)
        extra = "  📷" if photo is not None and not photo.exception else ""  # a photo added with C
        if item.id not in draft.answers:
            if item.kind == Kind.PHOTO:
                return Text(_("photo needed"), style="bold yellow")
            return Text("· · ·" + extra, style="dim")
        value = draft.answers[item.id]
        if item.kind == Kind.NOTE:
            return Text(str(value), style="italic")
        if item.kind == Kind.PHOTO:
            return Text(_("PHOTO {photo}").format(photo=photo.shown() if photo else ""), style="green")
        if value == NOT_APPLICABLE:
            return Text(_("n/a"), style="dim")
        finding = judge(item, value)
        if item.kind == Kind.PASS_FAIL:
            shown = _(str(value).upper())  # PASS or FAIL
        elif item.kind == Kind.MEASUREMENT:
            shown = f"{value:g} {item.unit}".strip()
        else:
            shown = item.choice_label_in(str(value), draft.language)
        if finding.failed and item.photo_required_on_fail:
            # a recorded "no camera" exception is not a photo: say which one it is
            shown += "  " + (_("📷 needed") if photo is None else (_("no camera") if photo.exception else _("📷 ok")))
        else:
            shown += extra
        return Text(shown, style="bold red" if finding.failed else "bold green")
