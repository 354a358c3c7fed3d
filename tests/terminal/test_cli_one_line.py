"""Every `rma` command that cannot do its job says so in exactly one line on stderr (issue 15, case 14).

Each case runs the real command line as a process, against real files and sockets.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest


@pytest.fixture
def rma(tmp_path):
    """Run `rma ARGS...` in a clean environment; returns the CompletedProcess."""
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")}
    env.pop("RMA_STATION_CONFIG", None)
    env.pop("RMA_SERVER_TOKEN", None)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "terminal", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )

    return run


def one_line(done: subprocess.CompletedProcess) -> str:
    """The single stderr line of a failed command (fails the test when there are more or none)."""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("rma: "), lines[0]
    return lines[0]


@pytest.mark.parametrize(
    "args, words",
    [
        (("receive", "--bogus"), "No such option '--bogus' (see rma receive --help)"),
        (("nosuch",), "No such command 'nosuch' (see rma --help)"),
        (("receive",), "Missing argument 'CODES...' (see rma receive --help)"),
        (("label", "rma", "X", "--size", "9x9"), "see rma label rma --help"),
    ],
)
def test_usage_errors_are_one_line_naming_the_help(rma, args, words):
    done = rma(*args)
    assert done.returncode == 2
    assert words in one_line(done)


def test_help_still_works_and_exits_zero(rma):
    done = rma("receive", "--help")
    assert done.returncode == 0 and "Usage: rma receive" in done.stdout and not done.stderr


def test_server_on_a_busy_port_is_one_line_before_starting(rma, tmp_path):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    try:
        done = rma("server", "--db", str(tmp_path / "server.db"), "--port", str(port))
    finally:
        busy.close()
    assert done.returncode == 1
    line = one_line(done)
    assert f"127.0.0.1:{port}" in line and "in use" in line


def closed_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_sync_with_an_unreachable_server_is_one_whole_line(rma, tmp_path):
    db = str(tmp_path / "s.db")
    assert rma("receive", "X-1", "--db", db, "--operator", "anna").returncode == 1  # one unexpected-parcel event
    url = f"http://127.0.0.1:{closed_port()}"
    done = rma("sync", "--once", "--db", db, "--server", url, "--token", "t", "--retries", "0")
    assert done.returncode == 1
    assert one_line(done) == f"rma: server {url} unreachable: connection refused; 1 event waiting, nothing lost"


def test_sync_without_once_or_watch_says_which_to_choose(rma, tmp_path):
    done = rma("sync", "--db", str(tmp_path / "s.db"), "--server", "http://127.0.0.1:1", "--token", "t")
    assert done.returncode == 2
    line = one_line(done)
    assert "--once" in line and "--watch" in line


def test_decode_of_an_image_without_a_barcode_says_so(rma, tmp_path):
    from PIL import Image

    Image.new("RGB", (200, 120), "white").save(tmp_path / "blank.png")
    done = rma("decode", str(tmp_path / "blank.png"))
    assert done.returncode == 1
    assert one_line(done) == f"rma: no barcode found in {tmp_path / 'blank.png'}"


def test_reprint_of_a_job_that_does_not_exist_names_the_job_not_the_printer(rma, tmp_path):
    done = rma("label", "reprint", "99", "--db", str(tmp_path / "s.db"))
    assert done.returncode == 1
    assert one_line(done) == "rma: no print job 99"


def test_a_checklist_with_a_python_tag_names_the_tag(rma, tmp_path):
    path = tmp_path / "footwear.yaml"
    path.write_text(
        "checklist: footwear\ntitle: !!python/object:os.system x\nitems:\n  - id: pair\n"
        "    kind: pass_fail\n    severity: critical\n    prompt: Both shoes\n",
        encoding="utf-8",
    )
    done = rma("checklist", "validate", str(path))
    assert done.returncode == 1
    problem, summary = done.stderr.splitlines()  # one line for the problem, one counting them
    assert problem.startswith(f"{path}:2: tag !!python/object is not allowed;")
    assert summary == "rma: 1 problem(s) in 1 of 1 file"


def test_a_tag_on_a_mapping_is_refused_too(tmp_path):
    from qc_checklists.loader import check_text

    _, problems = check_text("checklist: x\ntitle: T\nitems: !!python/object/apply:os.system [ls]\n", "x.yaml", "x")
    assert [str(p) for p in problems if "tag" in p.reason] == [
        "x.yaml:3: tag !!python/object/apply is not allowed; "
        "a checklist holds plain text, numbers, lists and 'key: value' lines"
    ]
