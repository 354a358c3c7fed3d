"""The station app: wiring only — screens, bindings, where a scan goes, what threads report."""

from __future__ import annotations

from gettext import gettext as _

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from terminal import i18n
from terminal.backlog import Waiting, header_line, station_backlog
from terminal.camera import StationCamera
from terminal.config import Settings
from terminal.i18n import N_
from terminal.messages import CameraStateChanged, PrinterChanged, Recorded, Scanned, SyncStatus
from terminal.operators import Session
from terminal.photos import photo_folder
from terminal.printing import PrintQueue, start_print_queue
from terminal.scanning import Kind, read_scan
from terminal.scanning.keyboard import KeyboardWedge
from terminal.screens.backlog import BacklogScreen
from terminal.screens.dialogs import SignIn, SupervisorApproval
from terminal.screens.inspect import InspectScreen
from terminal.screens.print_jobs import PrintJobs
from terminal.screens.putaway import PutAwayScreen
from terminal.screens.receive import ReceiveScreen
from terminal.station_db import StationDb
from terminal.sync_worker import SyncWorker
from terminal.today import header_totals
from terminal.widgets.status_bar import Header
from terminal.workers import failure_line

BACKLOG_EVERY = 60.0  # seconds between readings of the backlog for the header's overdue count
# after a write, the backlog is read again once this many seconds later (however many writes came meanwhile):
# on a big database the reading takes the database thread ~0.1 s, which a scan behind it waited for after
# every put-away (bench/lpn_bench.py at 1,000,000 plates: bin scans' p99 77 ms)
BACKLOG_AFTER_WRITE = 20.0


class StationApp(App):
    """RMA Station."""

    CSS_PATH = "station.tcss"
    TITLE = "RMA Station"
    BINDINGS = [
        Binding("f2", "sign_in", N_("Sign in")),
        Binding("f3", "sign_out", N_("Sign out")),
        Binding("f6", "show('receive')", N_("Receive")),
        Binding("f7", "show('inspect')", N_("Inspect")),
        Binding("f12", "show('putaway')", N_("Put away")),  # F12: F4/F5 are the inspect/receive screens' own
        Binding("f11", "backlog", N_("Backlog")),  # what waits here, due first (terminal/screens/backlog.py)
        Binding("f8", "toggle_camera", N_("Camera")),
        Binding("f9", "print_jobs", N_("Print jobs")),
        Binding("f10", "quit", N_("Quit")),
    ]

    def __init__(
        self, settings: Settings, *, operator: str | None = None, db: StationDb | None = None, notice: str = ""
    ):
        super().__init__()
        self.settings, self.notice = settings, notice  # notice: one line at start (the demo's database)
        self.db = db or StationDb(settings.db_path, create_folder=settings.db_is_default)
        self.session, self._first_operator = Session(), operator
        self._backlog_due: Timer | None = None  # the reading of the backlog after writes, once scheduled
        self.header = Header(station=settings.station)  # every status bar watches it
        self.wedge = KeyboardWedge(self, super().on_event)
        self.print_queue: PrintQueue | None = None  # once mounted, if a printer is configured
        self.sync_worker: SyncWorker | None = None  # once mounted, if a server is configured
        self.camera = StationCamera(self, settings.camera, photo_folder(settings.db_path))
        self.station_language = i18n.current()  # the one the command chose; an operator's replaces it while signed in

    operator = property(lambda self: self.session.operator, doc="The signed-in operator's id ('' for nobody).")
    operator_role = property(lambda self: self.session.role, doc="The signed-in operator's registered role.")
    signed_in = property(lambda self: self.session.signed_in, doc="Set while someone is signed in.")
    photo_source = property(
        lambda self: self.camera if self.camera.source else None,
        doc="Where the inspect screen takes photos from: the station camera, if configured.",
    )

    def on_mount(self) -> None:
        self.install_screen(ReceiveScreen(), "receive")
        # the station's language (station.toml `language`, issue 13's settings) picks the checklists' texts
        self.install_screen(InspectScreen(), "inspect")
        self.install_screen(PutAwayScreen(), "putaway")
        self.push_screen("receive")
        self.print_queue = start_print_queue(self)
        self.refresh_status()
        self.refresh_backlog()
        self.set_interval(BACKLOG_EVERY, self.refresh_backlog)  # ages grow without a write
        if self._first_operator:
            self.sign_in(self._first_operator)
        self.camera.start()
        self.sync_worker = SyncWorker.for_app(self)  # None without a server
        if self.notice:
            self.notify(self.notice, timeout=20, markup=False)

    def on_unmount(self) -> None:
        if self.sync_worker:
            self.sync_worker.stop()
        if self.print_queue is not None:
            self.print_queue.stop(timeout=2)
        self.camera.stop()
        self.db.close()

    async def on_event(self, event: events.Event) -> None:
        await self.wedge.on_event(event)  # a scanner's burst is caught whatever has focus

    def on_scanned(self, message: Scanned) -> None:
        """Badges and sign-out are the app's; a supervisor's badge answers the approval dialog; the rest goes on."""
        scan = message.scan
        if message.read is not None:
            self.camera.show_code(message.read)
        if scan.kind == Kind.BADGE and isinstance(self.screen, SupervisorApproval):
            self.screen.take_badge(scan.value)  # it approves, it signs nobody in
        elif scan.kind == Kind.BADGE:
            self.sign_in(scan.value)
        elif scan.kind == Kind.COMMAND and scan.value == "SIGN-OUT":
            self.action_sign_out()
        else:  # to the screen under any dialogs: it holds the scan while one is open, and says so
            self.active_screen.post_message(Scanned(scan, message.read))

    @property
    def active_screen(self) -> Screen:
        """The working screen (receive, inspect): the top one that is not a dialog."""
        return next(s for s in reversed(self.screen_stack) if not s.is_modal)

    def on_recorded(self, message: Recorded) -> None:
        """A write went in: its totals into the header, and the outbox pushed at once (when a server is set)."""
        self.header.show_totals(message.totals.unsent, message.totals.today)
        if self._backlog_due is None:  # an inspection or a put-away changes what waits: read it again soon
            self._backlog_due = self.set_timer(BACKLOG_AFTER_WRITE, self._backlog_after_writes)
        if self.sync_worker is not None:
            self.sync_worker.sync_now()  # only wakes the sync thread: never waits

    def on_sync_status(self, status: SyncStatus) -> None:
        """The sync worker's report: into the header, with a fresh unsent count."""
        self.header.set_sync(status.state)
        self.header.show_part("sync", status.text)  # the long form, for whoever reads one part
        self.refresh_status()
        if status.sla_changed:  # the server's limits came: the overdue count by them, not by the built-in ones
            self.refresh_backlog()

    def on_printer_changed(self, message: PrinterChanged) -> None:
        self.header.show_part("printer", message.text)

    def on_camera_state_changed(self, message: CameraStateChanged) -> None:
        self.camera.show_state(message.state)  # header, preview, and one line when it went wrong

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a failed worker (the app's, a screen's, a dialog's) becomes one line on screen."""
        if event.state == WorkerState.ERROR:
            self.notify(failure_line(event.worker), severity="error", markup=False)

    @work(group="status", exclusive=True, exit_on_error=False)
    async def refresh_status(self) -> None:
        """Re-read the unsent count and today's counts (at start and after each sync round)."""
        station = self.settings.station
        totals = await self.db.run(lambda store: header_totals(store, station))
        self.header.show_totals(totals.unsent, totals.today)

    def _backlog_after_writes(self) -> None:
        self._backlog_due = None
        self.refresh_backlog()

    @work(group="backlog", exclusive=True, exit_on_error=False)
    async def refresh_backlog(self) -> None:
        """Re-read what waits here, for the header's overdue count."""
        self.show_backlog(await self.db.run(station_backlog))

    def show_backlog(self, backlog: list[Waiting]) -> None:
        """The overdue count into the header ("" hides it)."""
        line = header_line(backlog)
        self.header.show_part("sla", Content.styled(line, "b reverse yellow") if line else "")

    @work(group="operator", exit_on_error=False)
    async def sign_in(self, operator_id: str) -> None:
        """Sign a registered operator in (badge or typed id), recording an event; refuse anyone else."""
        await self.session.sign_in(self, operator_id)
        self.screen.refresh_bindings()  # the footer shows F3 instead of F2

    @work(group="operator", exit_on_error=False)
    async def action_sign_out(self) -> None:
        """Sign the operator out; scans wait until the next sign-in."""
        await self.session.sign_out(self)
        self.screen.refresh_bindings()  # the footer shows F2 instead of F3

    @work(group="operator", exit_on_error=False)
    async def action_sign_in(self) -> None:
        """Ask for an operator id."""
        operator_id = await self.push_screen_wait(SignIn())
        if operator_id:
            scan = read_scan(operator_id)
            self.sign_in(scan.value if scan.kind == Kind.BADGE else scan.text)

    def speak(self, language: str) -> None:
        """Show every screen in ``language`` from now on: each one redraws its words, keys and header."""
        if i18n.normalise(language) == i18n.current():
            return
        i18n.use(language)
        screens = {
            id(s): s for s in [*self.screen_stack, *(self.get_screen(n) for n in ("receive", "inspect", "putaway"))]
        }
        for screen in screens.values():
            if not screen.is_mounted:
                continue  # composed later, in the new language
            for node in [screen, *screen.walk_children()]:
                changed = getattr(node, "language_changed", None)
                if callable(changed):
                    changed()  # screens, banners, fields, footers (terminal.widgets.footer)
        self.header.show_operator(self.header.operator)  # the status bars repaint in it

    def footer_hides(self, action: str) -> bool:
        """Keys the footer leaves out now, so the others fit 80 columns (they still work): the key of the
        screen shown, F2 while someone is signed in (a badge scan signs the next one in), F3 while nobody is."""
        shown = {"show('receive')": "receive", "show('inspect')": "inspect", "show('putaway')": "putaway"}
        if action in shown:
            return self.is_screen_installed(shown[action]) and self.screen is self.get_screen(shown[action])
        if action in ("sign_in", "sign_out"):
            return bool(self.operator) == (action == "sign_in")
        return action == "backlog" and isinstance(self.screen, BacklogScreen)

    def action_show(self, name: str) -> None:
        """Switch between the receive, inspect and put-away screens (each keeps its state)."""
        if not self.screen.is_modal and self.screen is not self.get_screen(name):
            self.switch_screen(name)

    def action_print_jobs(self) -> None:
        """Show the print jobs (reprint one, retry the waiting ones)."""
        if self.print_queue is None:
            self.notify(_("No printer configured: set printer in station.toml."), severity="warning")
        elif not isinstance(self.screen, PrintJobs):
            self.push_screen(PrintJobs(self.print_queue))

    def action_backlog(self) -> None:
        """Show what waits at this station, due first."""
        if not isinstance(self.screen, BacklogScreen):
            self.push_screen(BacklogScreen())

    def action_toggle_camera(self) -> None:
        """Show or hide the camera's live preview."""
        self.camera.toggle_preview(self.screen)

    def ring(self, problem: bool) -> None:
        """One bell for a good scan, three for one that needs attention."""
        self.bell()
        if problem:
            self.set_timer(0.2, self.bell)
            self.set_timer(0.4, self.bell)


def make_app(
    settings: Settings, *, operator: str | None = None, db: StationDb | None = None, notice: str = ""
) -> StationApp:
    """The one factory the CLI and the tests use."""
    return StationApp(settings, operator=operator, db=db, notice=notice)
