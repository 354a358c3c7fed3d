"""The station app: wiring only — screens, bindings, the scan router."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, time as dtime, timezone

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.content import Content

from sync.store import StoreError
from terminal.config import Settings
from terminal.printing import start_print_queue
from terminal.scanning import Kind, Scan, read_scan
from terminal.scanning.wedge import Wedge
from terminal.screens.dialogs import SignIn, SupervisorApproval
from terminal.screens.inspect import InspectScreen
from terminal.screens.print_jobs import PrintJobs
from terminal.screens.receive import ReceiveScreen
from terminal.photos import photo_folder
from terminal.station_camera import StationCamera
from terminal.station_db import StationDb
from terminal.sync_worker import SyncStatus, SyncWorker
from terminal.widgets.status_bar import Header, StatusBar, SyncState

TODAY_NAMES = {"rma.received": "received", "parcel.unexpected": "unexpected",
               "parcel.refused": "refused", "rma.receive_undone": "undone", "item.mismatch": "mismatch"}


class StationApp(App):
    """RMA Station."""

    CSS_PATH = "station.tcss"
    TITLE = "RMA Station"
    BINDINGS = [
        Binding("f2", "sign_in", "Sign in"),
        Binding("f3", "sign_out", "Sign out"),
        Binding("f6", "show('receive')", "Receive"),
        Binding("f7", "show('inspect')", "Inspect"),
        Binding("f8", "toggle_camera", "Camera"),
        Binding("f9", "print_jobs", "Print jobs"),
        Binding("f10", "quit", "Quit"),
    ]

    def __init__(self, settings: Settings, *, operator: str | None = None, db: StationDb | None = None,
                 notice: str = ""):
        super().__init__()
        self.notice = notice  # one line shown at start (the demo says where its database is)
        self.settings = settings
        self.db = db or StationDb(settings.db_path, create_folder=settings.db_is_default)
        self.operator = ""
        self.operator_role = ""  # clerk, inspector or supervisor: the signed-in operator's registered role
        self.header = Header(station=settings.station)
        self.signed_in = asyncio.Event()
        self._first_operator = operator
        self.wedge = Wedge()
        self._release_timer = None
        self.print_queue = None  # terminal.printing.PrintQueue once mounted, if a printer is configured
        self.sync_worker: SyncWorker | None = None  # once mounted, if a server is configured
        self.camera = StationCamera(self, settings.camera, photo_folder(settings.db_path))

    def on_mount(self) -> None:
        self.install_screen(ReceiveScreen(), "receive")
        self.install_screen(InspectScreen(), "inspect")
        self.push_screen("receive")
        self.print_queue = start_print_queue(self)
        self.refresh_status()
        if self._first_operator:
            self.sign_in(self._first_operator)
        self.camera.start()
        self.sync_worker = SyncWorker.for_app(self)  # None without a server
        if self.notice:
            self.notify(self.notice, timeout=20, markup=False)

    def action_show(self, name: str) -> None:
        """Switch between the receive and inspect screens (each keeps its state)."""
        if not self.screen.is_modal and self.screen is not self.get_screen(name):
            self.switch_screen(name)

    def on_unmount(self) -> None:
        if self.sync_worker:
            self.sync_worker.stop()
        if self.print_queue is not None:
            self.print_queue.stop(timeout=2)
        self.camera.stop()
        self.db.close()

    def on_sync_status(self, status: SyncStatus) -> None:
        """The sync worker's report: into the header, with a fresh unsent count."""
        self.header.set_sync(SyncState(status.online, status.waiting, status.last_success, status.last_error,
                                       status.conflicts, status.photos_waiting, status.photo_problems,
                                       status.restored))
        self.show_in_header("sync", status.text)  # the long form, for whoever reads one part
        self.refresh_status()

    # -- scans ----------------------------------------------------------------

    def route_text(self, raw: str, source: str, at: float | None = None) -> None:
        """Read raw scanner text (arrived at monotonic time ``at``) and route it."""
        scan = read_scan(raw, source)
        self.route(dataclasses.replace(scan, at=at) if at is not None else scan)

    def route(self, scan: Scan) -> None:
        """Send a scan where it belongs: badges and sign-out here, the rest to the screen."""
        if scan.kind == Kind.BADGE and isinstance(self.screen, SupervisorApproval):
            self.screen.take_badge(scan.value)  # a supervisor's badge answers the dialog, it signs nobody in
        elif scan.kind == Kind.BADGE:
            self.sign_in(scan.value)
        elif scan.kind == Kind.COMMAND and scan.value == "SIGN-OUT":
            self.action_sign_out()
        else:
            for screen in reversed(self.screen_stack):
                if hasattr(screen, "handle_scan"):
                    screen.handle_scan(scan)
                    break

    @property
    def photo_source(self) -> StationCamera | None:
        """Where the inspect screen takes photos from: the station camera, when one is configured."""
        return self.camera if self.camera.source else None

    def on_station_camera_scanned(self, message: StationCamera.Scanned) -> None:
        """A camera scan goes the same way as a keyboard one."""
        self.camera.show_code(message.read)
        self.route(read_scan(message.read.raw, source="camera"))

    def on_station_camera_state_changed(self, message: StationCamera.StateChanged) -> None:
        """Camera live, lost, back: header, preview, and one line when it went wrong."""
        self.camera.show_state(message.state)

    def action_print_jobs(self) -> None:
        """Show the print jobs (reprint one, retry the waiting ones)."""
        if self.print_queue is None:
            self.notify("No printer configured: set printer in station.toml.", severity="warning")
        elif not isinstance(self.screen, PrintJobs):
            self.push_screen(PrintJobs(self.print_queue))

    def action_toggle_camera(self) -> None:
        """Show or hide the camera's live preview."""
        self.camera.toggle_preview(self.screen)

    async def on_event(self, event: events.Event) -> None:
        """Catch a scanner's burst whatever has focus (see terminal.scanning.wedge)."""
        if not isinstance(event, events.Key) or event.is_forwarded or getattr(self.focused, "ACCEPTS_SCANS", False) \
                or getattr(event, "_released", False):
            await super().on_event(event)
            return
        if event.is_printable and event.character:
            self.wedge.hold(event.character, event.time)
            if self._release_timer is not None:
                self._release_timer.stop()
            self._release_timer = self.set_timer(self.wedge.max_gap * 1.5, self._release_held)
            return
        if event.key == "enter" and self.wedge.is_burst(event.time):
            self.route_text(self.wedge.take(), source="wedge")
            return
        await self._release_held()
        await super().on_event(event)

    async def _release_held(self) -> None:
        """Give held keys to the focused widget: they were typed, not scanned."""
        for character in self.wedge.take():
            key = events.Key(_key_name(character), character)
            key._released = True
            await super().on_event(key)

    # -- operators -------------------------------------------------------------

    @work(group="operator")
    async def sign_in(self, operator_id: str) -> None:
        """Sign a registered operator in (badge or typed id), recording an event; refuse anyone else."""
        station = self.settings.station

        def sign_in_registered(store):
            found = store.operator(operator_id)
            if found is not None:
                store.record("operator.signed_in", station, found.id, {"operator": found.id, "role": found.role})
            return found

        try:
            found = await self.db.run(sign_in_registered)
        except StoreError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        if found is None:
            who = f" ({self.operator} stays signed in)" if self.operator else ""
            self.notify(f"{operator_id[:64]} is not a registered operator: not signed in{who}. "
                        f"A supervisor registers badges: rma operator add {operator_id[:64]}",
                        severity="error", markup=False)
            self.bell()
            return
        self.operator, self.operator_role = found.id, found.role
        self.signed_in.set()
        self.notify(f"Signed in: {found.id}" + (f" ({found.name}, {found.role})" if found.name else f" ({found.role})"),
                    markup=False)
        self.refresh_status()

    @work(group="operator")
    async def action_sign_out(self) -> None:
        """Sign the operator out; scans wait until the next sign-in."""
        if not self.operator:
            return
        operator, station = self.operator, self.settings.station
        self.operator = self.operator_role = ""
        self.signed_in.clear()
        try:
            await self.db.run(lambda store: store.record("operator.signed_out", station, operator, {}))
        except StoreError as exc:
            self.notify(str(exc), severity="error", markup=False)
        self.refresh_status()

    @work(group="operator")
    async def action_sign_in(self) -> None:
        """Ask for an operator id."""
        operator_id = await self.push_screen_wait(SignIn())
        if operator_id:
            scan = read_scan(operator_id)
            self.sign_in(scan.value if scan.kind == Kind.BADGE else scan.text)

    # -- header ----------------------------------------------------------------

    @work(group="status", exclusive=True)
    async def refresh_status(self) -> None:
        """Re-read the unsent count and today's counts into every status bar."""
        since = datetime.combine(datetime.now().date(), dtime()).astimezone().astimezone(timezone.utc) \
            .isoformat(timespec="milliseconds")
        station = self.settings.station
        try:
            unsent, counts, dispositions = await self.db.run(
                lambda store: (store.unsent_count(), store.counts_since(since, station),
                               store.dispositions_since(since, station)))
        except StoreError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        today = {name: counts.get(kind, 0) for kind, name in TODAY_NAMES.items() if counts.get(kind)}
        today.update(dispositions)  # the shift's inspected units per disposition
        self.header.station, self.header.operator, self.header.unsent, self.header.counts = \
            station, self.operator, unsent, today
        self._repaint_header()

    def show_in_header(self, part: str, text: "str | Content") -> None:
        """Show one part's line ("disk", "camera", "sync", "printer") in every status bar; a str is plain text."""
        self.header.parts[part] = text
        self._repaint_header()

    def _repaint_header(self) -> None:
        for bar in self.screen.query(StatusBar):
            bar.refresh()

    def ring(self, problem: bool) -> None:
        """One bell for a good scan, three for one that needs attention."""
        self.bell()
        if problem:
            self.set_timer(0.2, self.bell)
            self.set_timer(0.4, self.bell)


def _key_name(character: str) -> str:
    """Textual's key name for a printable character ("a", "space", "full_stop", ...)."""
    from textual.keys import _character_to_key

    return character if character.isalnum() else _character_to_key(character)


def make_app(settings: Settings, *, operator: str | None = None, db: StationDb | None = None,
             notice: str = "") -> StationApp:
    """The one factory the CLI and the tests use."""
    return StationApp(settings, operator=operator, db=db, notice=notice)
