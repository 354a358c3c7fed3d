"""The web UI's own tables: supervisors' accounts and their sessions, and the status links' secret.

Tables (their own :class:`sqlalchemy.MetaData`, created by :meth:`server.db.ServerDb.create`):

* ``ui_users``: a supervisor or manager -- name, role and the scrypt hash of the password
  (``scrypt$n$r$p$salt$hash``, hex; the password itself is never kept). Separate from the
  stations' tokens: a station token opens no page, a password opens no API.
* ``ui_sessions``: one row per signed-in browser, keyed by the SHA-256 of the cookie's value
  (the value itself is only in the browser), with the session's CSRF token and its expiry.

The secret that signs the customers' status links is a row of the server's ``meta`` table
(``status_link_secret``), drawn on first use, so every server process sharing the database
signs and checks the same links.

Nothing here imports :mod:`server.db` (it creates these tables); functions take the
:class:`~server.db.ServerDb` they work on.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

if TYPE_CHECKING:
    from server.db import ServerDb

ROLES = ("supervisor", "manager")
USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
SESSION_SECONDS = 12 * 3600  # one shift; then sign in again
MIN_PASSWORD = 10
# scrypt's cost: N=2**14, r=8, p=1 (OWASP's floor for scrypt): 16 MiB and some 50 ms a try
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1

metadata = sa.MetaData()

users = sa.Table(
    "ui_users",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password", sa.Text, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
)

sessions = sa.Table(
    "ui_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("user_name", sa.String(64), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Index("ui_sessions_user", "user_name"),
)


class UserError(ValueError):
    """An account the server refuses to create; the message is for a person."""


@dataclass(frozen=True)
class User:
    """A signed-in supervisor or manager, with the session's CSRF token."""

    name: str
    role: str
    csrf: str = ""

    @property
    def is_manager(self) -> bool:
        """Managers see everything; supervisors everything but the user admin."""
        return self.role == "manager"


def create(engine: sa.Engine) -> None:
    """Create the tables if missing."""
    metadata.create_all(engine)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def hash_password(password: str) -> str:
    """The stored form of a password: scrypt with a fresh 16-byte salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    """Whether ``password`` is the one ``stored`` was made from (constant-time comparison)."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=len(digest) // 2
        )
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


# checked when the name is unknown, so a wrong name costs as long as a wrong password
_NOBODY = hash_password(secrets.token_urlsafe(16))


def add_user(db: ServerDb, name: str, role: str, password: str | None = None, *, reset: bool = False) -> str:
    """Create (or with ``reset`` give a new password and role to) a user; returns the password.

    Without ``password`` one is drawn (to be shown once).
    """
    if not USER_NAME.match(name):
        raise UserError(f"user name {name!r} must be 1-64 letters, digits, '.', '_', '@' or '-'")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if password is None:
        password = secrets.token_urlsafe(12)
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password must have at least {MIN_PASSWORD} characters; nothing was changed")
    stored = hash_password(password)
    with db.write() as conn:
        held = conn.execute(sa.select(users.c.name).where(users.c.name == name)).first()
        if held is not None and not reset:
            raise UserError(f"user {name} exists already; add --reset to give a new password")
        if held is None:
            conn.execute(users.insert().values(name=name, role=role, password=stored, created_at=_now()))
        else:
            conn.execute(users.update().where(users.c.name == name).values(role=role, password=stored))
            conn.execute(sessions.delete().where(sessions.c.user_name == name))  # signed out everywhere
    return password


def list_users(db: ServerDb) -> list[dict]:
    """Every user with role and creation time (no password hashes), by name."""
    with db.read() as conn:
        rows = conn.execute(sa.select(users.c.name, users.c.role, users.c.created_at).order_by(users.c.name))
        return [dict(r._mapping) for r in rows]


def check_login(db: ServerDb, name: str, password: str) -> str | None:
    """The user's role when ``password`` is theirs, else None (as slow for an unknown name)."""
    with db.read() as conn:
        row = conn.execute(sa.select(users.c.role, users.c.password).where(users.c.name == name)).first()
    if row is None:
        password_matches(password, _NOBODY)
        return None
    return row.role if password_matches(password, row.password) else None


def _id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_session(db: ServerDb, name: str) -> str:
    """Start a session for ``name``; returns the cookie's value (only its hash is kept)."""
    session_id = secrets.token_urlsafe(32)
    now = time.time()
    with db.write() as conn:
        conn.execute(sessions.delete().where(sessions.c.expires_at < now))  # the expired ones, while here
        conn.execute(
            sessions.insert().values(
                id_hash=_id_hash(session_id),
                user_name=name,
                csrf=secrets.token_urlsafe(32),
                created_at=_now(),
                expires_at=now + SESSION_SECONDS,
            )
        )
    return session_id


def session_user(db: ServerDb, session_id: str) -> User | None:
    """The user of a live session (the role as it is now), or None."""
    if not session_id:
        return None
    with db.read() as conn:
        row = conn.execute(
            sa.select(users.c.name, users.c.role, sessions.c.csrf)
            .select_from(sessions.join(users, users.c.name == sessions.c.user_name))
            .where(sessions.c.id_hash == _id_hash(session_id), sessions.c.expires_at > time.time())
        ).first()
    return User(row.name, row.role, row.csrf) if row else None


def close_session(db: ServerDb, session_id: str) -> None:
    """End a session (logout): the cookie opens nothing any more."""
    with db.write() as conn:
        conn.execute(sessions.delete().where(sessions.c.id_hash == _id_hash(session_id)))


SECRET_KEY = "status_link_secret"


def status_secret(db: ServerDb) -> bytes:
    """The secret that signs customers' status links, drawn on first use and kept in ``meta``."""
    from server.db import meta  # here, not at the top: server.db imports this module

    with db.read() as conn:
        held = conn.execute(sa.select(meta.c.value).where(meta.c.key == SECRET_KEY)).scalar_one_or_none()
    if held is None:
        try:
            with db.write() as conn:
                conn.execute(meta.insert().values(key=SECRET_KEY, value=secrets.token_hex(32)))
        except IntegrityError:
            pass  # another process drew it first: that one holds
        with db.read() as conn:
            held = conn.execute(sa.select(meta.c.value).where(meta.c.key == SECRET_KEY)).scalar_one()
    return bytes.fromhex(held)
