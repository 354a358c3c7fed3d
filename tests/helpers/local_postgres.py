"""A throw-away PostgreSQL cluster from the machine's own binaries (tests, benchmarks, trials).

Uses Debian's layout (``/usr/lib/postgresql/<version>/bin``) or whatever
``initdb`` is on the PATH.  The cluster lives in a temporary folder, listens
on a free loopback port and keeps its unix socket in that folder.  PostgreSQL
refuses to run as root, so as root it runs as the ``postgres`` system user
(or ``nobody``) through ``runuser``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """No usable PostgreSQL binaries, or the cluster would not start; the message says why."""


def find_bindir() -> Path:
    """The folder holding initdb and pg_ctl, newest version first."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PostgresUnavailable("no initdb found (install Debian's postgresql package; ./dev does)")


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalPostgres:
    """One cluster: ``start()``, ``url(dbname)``, ``create_database(name)``, ``stop()``."""

    def __init__(self, *, fsync: bool = False, user: str = "rma"):
        self.bindir = find_bindir()
        self.user = user
        self.fsync = fsync
        self.dir = Path(tempfile.mkdtemp(prefix="rma-pg-"))
        self.port = free_port()
        self.run_as: list[str] = []
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                try:
                    account = pwd.getpwnam(name)
                except KeyError:
                    continue
                os.chown(self.dir, account.pw_uid, account.pw_gid)
                self.run_as = ["runuser", "-u", name, "--"]
                break
            else:
                raise PostgresUnavailable("running as root and no 'postgres' or 'nobody' user to run PostgreSQL as")

    def _run(self, *args: str) -> None:
        done = subprocess.run(self.run_as + list(args), capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise PostgresUnavailable(f"{Path(args[0]).name} failed: {(done.stderr or done.stdout).strip()[-500:]}")

    def start(self) -> LocalPostgres:
        """initdb + pg_ctl start; returns once connections are accepted."""
        data = self.dir / "data"
        self._run(
            str(self.bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", self.user, "-E", "UTF8", "--no-sync"
        )
        options = (
            f"-k {self.dir} -p {self.port} -c listen_addresses=127.0.0.1 -c max_connections=300 "
            f"-c shared_buffers=128MB" + ("" if self.fsync else " -c fsync=off -c synchronous_commit=off")
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(self.dir / "log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        self._options = options
        return self

    def restart(self) -> None:
        """Stop (fast: open connections are cut) and start again, on the same port."""
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.dir / "data"),
            "-l",
            str(self.dir / "log"),
            "-m",
            "fast",
            "-w",
            "-t",
            "60",
            "restart",
        )

    def halt(self) -> None:
        """Stop the cluster, keeping its data, for :meth:`resume` (a PostgreSQL that is down or not up yet)."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "-w", "-t", "60", "stop")

    def resume(self) -> None:
        """Start a cluster :meth:`halt` stopped, on the same port."""
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.dir / "data"),
            "-l",
            str(self.dir / "log"),
            "-o",
            self._options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def url(self, dbname: str = "postgres") -> str:
        """A SQLAlchemy URL for a database of this cluster (over TCP on loopback)."""
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def execute(self, sql: str) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE)."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(sql)

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new empty database (or a copy of ``template``); returns its URL."""
        self.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)

    def stop(self) -> None:
        """Stop the cluster at once and remove its folder."""
        try:
            if (self.dir / "data" / "postmaster.pid").exists():  # not after halt()
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
