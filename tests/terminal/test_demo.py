"""`rma demo`: F8 and F9 can be tried, the database path is said before the station starts,
and the temporary demo folder is removed at exit (issue 15, case 13)."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time

import pytest
from click.testing import CliRunner

from sync.store import Store
from terminal.cli import rma
from terminal.config import Settings
from terminal.demo import CAMERA_RMA, create_demo_database, demo_session, film_demo_camera, queue_demo_badge
from terminal.screens.print_jobs import PrintJobs
from tests.conftest import wait_until


def test_demo_help_names_the_real_default():
    out = CliRunner().invoke(rma, ["demo", "--help"]).output
    assert "rma-demo-" in " ".join(out.split()) and "removed when the station quits" in " ".join(out.split())
    assert "data folder" not in out


def test_a_temporary_demo_folder_is_removed_at_exit_even_after_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR is read again
    with pytest.raises(RuntimeError), demo_session() as session:
        create_demo_database(session.db, 3)
        assert session.db.is_file() and session.folder.name.startswith("rma-demo-")
        raise RuntimeError("the station crashed")
    assert not session.folder.exists()
    with demo_session(keep=True) as kept:  # --no-station: the database is what was asked for
        create_demo_database(kept.db, 3)
    assert kept.db.is_file()
    with demo_session(tmp_path / "mine.db") as given:  # --db: the user's file, never removed
        create_demo_database(given.db, 3)
    assert given.db.is_file() and not given.temporary


def test_no_station_keeps_the_database_and_says_where(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    env.pop("RMA_STATION_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-m", "terminal", "demo", "--rmas", "3", "--no-station"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    [folder] = tmp_path.glob("rma-demo-*")
    assert f"demo database with 3 RMAs: {folder / 'demo.db'}" in done.stdout
    assert (folder / "demo.db").is_file()


def read_until(fd: int, wanted: bytes, seconds: float) -> bytes:
    """Read a pty until ``wanted`` appears (or the time is up, or it closes)."""
    out = b""
    deadline = time.monotonic() + seconds
    while wanted not in out and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
    return out


def test_the_demo_says_its_database_before_the_station_starts_and_removes_its_folder_on_quit(tmp_path):
    """The real `rma demo` in a real terminal (a pty): path first, the screen, F10, folder gone."""
    env = {
        **os.environ,
        "TMPDIR": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "TERM": "xterm-256color",
        "COLUMNS": "120",
        "LINES": "40",
    }
    env.pop("RMA_STATION_CONFIG", None)
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "terminal", "demo", "--rmas", "5"],
        stdin=child,
        stdout=child,
        stderr=child,
        env=env,
        close_fds=True,
    )
    os.close(child)
    try:
        before = read_until(main, b"\x1b[?1049h", 90)  # the station switches to its own screen
        [folder] = tmp_path.glob("rma-demo-*")
        text = before.decode("utf-8", "replace")
        assert f"demo database with 5 RMAs: {folder / 'demo.db'}" in text
        assert "removed when the station quits" in text
        assert (folder / "demo-camera.avi").is_file()
        read_until(main, b"RMA Station", 30)
        os.write(main, b"\x1b[21~")  # F10 quits
        after = read_until(main, b"removed the demo folder", 60)
        assert proc.wait(timeout=60) == 0
        assert b"removed the demo folder" in after
        assert not folder.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)


async def test_in_the_demo_f9_lists_print_jobs_and_the_camera_sees_an_rma(tmp_path):
    import zplkit
    from PIL import Image
    from pyzbar import pyzbar

    from terminal.app import make_app

    with demo_session(tmp_path / "demo.db") as session:
        create_demo_database(session.db, 5)
        film_demo_camera(session.camera)
        queue_demo_badge(session)
        settings = Settings(
            station="demo-bench",
            db=str(session.db),
            printer=session.printer,
            camera=session.camera,
            sources={"db": "flag"},
        )
        app = make_app(settings, notice=session.notice)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: any(str(session.db) in n.message for n in app._notifications))
            await pilot.press("f9")
            await wait_until(pilot, lambda: isinstance(app.screen, PrintJobs))
            await wait_until(pilot, lambda: "printed" in (app.print_queue.jobs(1) or [None])[0].state, 30)
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, PrintJobs))
            await pilot.press("f8")
            await wait_until(pilot, lambda: app.camera.preview is not None)
            app.sign_in("anna")
            # the sample video shows the label about 10 s in (played at its own speed)
            await wait_until(pilot, lambda: received(session.db, CAMERA_RMA), 90)
    spool = (session.folder / "demo-labels.zpl").read_bytes()
    [badge] = zplkit.render(spool, zplkit.Options(dpi=203)).labels
    assert [d.data for d in pyzbar.decode(Image.open(io.BytesIO(badge.png())).convert("L"))] == [b"OP:anna"]


def received(db, code: str) -> bool:
    with Store(db) as store:
        return store.get_rma(code).stage == "received"
