"""One convention for work off the event loop: a worker that fails is one line on screen, never the app's end.

Every ``@work`` in the station is ``exit_on_error=False``.  Worker state
messages do not bubble, so screens and dialogs that start workers mix in
:class:`PassesWorkerFailures`; the app's ``on_worker_state_changed`` turns
a failure into :func:`failure_line`, shown once with ``markup=False``.
"""

from __future__ import annotations

from gettext import gettext as _

from textual.worker import Worker, WorkerState

from sync.store import StoreError


def failure_line(worker: Worker) -> str:
    """One line a person reads about a worker that failed: what, and why."""
    error = worker.error
    if isinstance(error, StoreError):
        return str(error)  # the store's errors already say what happened and what to do
    what = (worker.name or _("a background task")).removeprefix("action_").replace("_", " ")
    return _("{task} failed ({error}); the station keeps running — tell the supervisor if it repeats").format(
        task=what, error=f"{type(error).__name__}: {error}"
    )


class PassesWorkerFailures:
    """Mixed into a screen or dialog: its workers' failures go to the app's one handler."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.app.post_message(event)  # type: ignore[attr-defined]
