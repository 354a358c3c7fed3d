"""The station and the central server install apart, each into a clean virtual environment.

`pip install .` is the station: no FastAPI, uvicorn, SQLAlchemy or psycopg.
`pip install ./server` is the server: no Textual, OpenCV or zxing-cpp.
Both are real installs from this checkout (wheels built by pip), then run.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
SERVER_ONLY = {"fastapi", "uvicorn", "sqlalchemy", "psycopg", "psycopg-binary", "starlette"}
STATION_ONLY = {"textual", "opencv-python-headless", "zxing-cpp", "pyzbar", "python-barcode", "reportlab"}


def _venv(where: Path, *targets: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, timeout=120)
    python = where / "bin" / "python"
    for target in targets:
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(target)],
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    return python


def _installed(python: Path) -> set[str]:
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {p["name"].lower().replace("_", "-") for p in json.loads(listed)}


@pytest.fixture(scope="module")
def station_python(tmp_path_factory) -> Path:
    return _venv(tmp_path_factory.mktemp("station-venv"), ROOT)


@pytest.fixture(scope="module")
def server_python(tmp_path_factory) -> Path:
    return _venv(tmp_path_factory.mktemp("server-venv"), ROOT / "server")


def test_the_station_installs_without_the_server(station_python, tmp_path):
    names = _installed(station_python)
    assert "rma-station" in names and "textual" in names
    assert not names & SERVER_ONLY, names & SERVER_ONLY
    rma = station_python.parent / "rma"
    made = subprocess.run(
        [str(rma), "demo", "--no-station", "--rmas", "5", "--db", str(tmp_path / "demo.db")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "demo.db").stat().st_size > 0
    received = subprocess.run(
        [str(rma), "receive", "--db", str(tmp_path / "demo.db"), "RMA-2026-000001"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert received.stdout.startswith("RECEIVED"), received.stdout + received.stderr
    no_server = subprocess.run([str(rma), "server", "--port", "0"], capture_output=True, text=True, timeout=60)
    assert no_server.returncode == 1
    assert no_server.stderr.count("\n") == 1 and "pip install ./server" in no_server.stderr


def test_the_server_installs_and_runs_without_the_station(server_python, tmp_path):
    names = _installed(server_python)
    assert "rma-server" in names and "fastapi" in names
    assert not names & STATION_ONLY, names & STATION_ONLY
    assert "rma-station" not in names
    rma_server = server_python.parent / "rma-server"
    db = str(tmp_path / "server.db")
    token = subprocess.run(
        [str(rma_server), "add-station", "bench-1", "--db", db], capture_output=True, text=True, timeout=60
    )
    assert token.returncode == 0, token.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [str(rma_server), "--db", db, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        answer = None
        for _ in range(300):
            try:
                answer = requests.get(
                    f"http://127.0.0.1:{port}/api/v1/station",
                    timeout=2,
                    headers={"Authorization": f"Bearer {token.stdout.strip()}"},
                )
                break
            except requests.ConnectionError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.1)
        assert answer is not None and answer.status_code == 200, answer
        assert answer.json()["station"] == "bench-1"
        # the web UI's templates, stylesheet and zh-CN catalog are in the distribution
        login = requests.get(f"http://127.0.0.1:{port}/ui/login?lang=zh-CN", timeout=5)
        assert login.status_code == 200 and "登录" in login.text
        assert requests.get(f"http://127.0.0.1:{port}/ui/static/ui.css", timeout=5).text.startswith("/*")
    finally:
        proc.terminate()
        proc.wait(20)


def test_the_server_alone_imports_rma_files_and_runs_its_webhook_commands(server_python, tmp_path):
    """`rma server import rmas` uses the station's parser (sync.imports), shipped with the server without the store."""
    rma_server = str(server_python.parent / "rma-server")
    db = str(tmp_path / "server.db")
    rmas = tmp_path / "rmas.csv"
    rmas.write_text(
        "rma_code,order_ref,customer_name,tracking_number,reason,status,sku,gtin,description,qty,category\n"
        "RMA-1,SO-1,李雷,SF1,damaged,authorized,SKU-1,,Kettle,1,kitchen\n"
        "RMA-2,SO-2,Ann,,,authorized,SKU-2,,,0,\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [rma_server, "import", "rmas", str(rmas), "--db", db], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1, done.stderr  # one bad row
    assert done.stdout.startswith("imported 1 RMAs") and done.stderr.startswith(f"{rmas}:3: qty 0"), done
    listed = subprocess.run([rma_server, "webhooks", "list", "--db", db], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and listed.stdout.startswith("no webhook endpoints"), listed.stderr
