"""E-mail to supervisors through SMTP (the standard library's smtplib): escalations and the daily digest.

Settings come from the environment, as the webhooks' do (README, "SLA clocks and escalation"):
``RMA_SMTP_HOST`` (no host: no mail), ``RMA_SMTP_PORT``, ``RMA_SMTP_SECURITY`` (``none``,
``starttls``, ``ssl``; by default ``ssl`` on 465, ``starttls`` on 587, else ``none``),
``RMA_SMTP_USER`` with ``RMA_SMTP_PASSWORD`` or ``RMA_SMTP_PASSWORD_FILE``, ``RMA_SMTP_FROM``,
``RMA_SMTP_TIMEOUT``, and the supervisors: ``RMA_SLA_MAIL_TO`` (addresses, comma-separated).

Text in a message came from imports and stations (RMA codes, categories, customer names):
:func:`header_text` makes it one line of printable characters before it goes into a header,
so CR/LF in a name can never start a header of its own; bodies are plain text.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

SECURITY = ("none", "starttls", "ssl")


class MailError(Exception):
    """A message that was not sent; the text says why, in one line."""


def header_text(text: str, limit: int = 150) -> str:
    """``text`` as one header line: control characters (CR, LF, tabs, NUL, …) become spaces, runs of space one."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in str(text))
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def body_text(text: str) -> str:
    """``text`` for a plain-text body line: control characters other than the line break become spaces."""
    return "".join(ch if ch.isprintable() or ch == "\n" else " " for ch in str(text))


def _address(text: str) -> Address:
    value = text.strip()
    if not value or any(not ch.isprintable() or ch.isspace() for ch in value) or value.count("@") != 1:
        raise ValueError(f"{text!r} is not an e-mail address")
    username, domain = value.split("@")
    if not username or not domain:
        raise ValueError(f"{text!r} is not an e-mail address")
    return Address(addr_spec=value)


@dataclass
class MailSettings:
    """Where mail goes and how; :meth:`from_env` reads ``RMA_SMTP_*`` and ``RMA_SLA_MAIL_TO``."""

    host: str = ""
    port: int = 25
    security: str = "none"
    user: str = ""
    password: str = ""
    sender: str = ""
    to: list[str] = field(default_factory=list)
    timeout: float = 10.0

    @property
    def enabled(self) -> bool:
        """Whether mail is set up: an SMTP host and at least one supervisor."""
        return bool(self.host and self.to)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> MailSettings:
        """The settings in the environment; ValueError naming the variable that is wrong."""
        env = dict(os.environ if env is None else env)
        made = cls(host=env.get("RMA_SMTP_HOST", "").strip())
        port = env.get("RMA_SMTP_PORT", "").strip()
        if port:
            if not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"RMA_SMTP_PORT={port!r} is not a port (1-65535)")
            made.port = int(port)
        security = env.get("RMA_SMTP_SECURITY", "").strip().lower()
        if security and security not in SECURITY:
            raise ValueError(f"RMA_SMTP_SECURITY={security!r}: use one of {', '.join(SECURITY)}")
        made.security = security or {465: "ssl", 587: "starttls"}.get(made.port, "none")
        made.user = env.get("RMA_SMTP_USER", "").strip()
        made.password = env.get("RMA_SMTP_PASSWORD", "")
        secret_file = env.get("RMA_SMTP_PASSWORD_FILE", "").strip()
        if secret_file:
            try:
                with open(secret_file, encoding="utf-8") as handle:
                    made.password = handle.read().strip()
            except OSError as exc:
                raise ValueError(f"RMA_SMTP_PASSWORD_FILE: cannot read {secret_file}: {exc.strerror or exc}") from None
        made.sender = env.get("RMA_SMTP_FROM", "").strip() or f"rma-server@{socket.getfqdn() or 'localhost'}"
        made.to = [a.strip() for a in env.get("RMA_SLA_MAIL_TO", "").split(",") if a.strip()]
        for name, value in [("RMA_SMTP_FROM", made.sender)] + [("RMA_SLA_MAIL_TO", a) for a in made.to]:
            try:
                _address(value)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        timeout = env.get("RMA_SMTP_TIMEOUT", "").strip()
        if timeout:
            made.timeout = float(timeout)
        return made


def message(settings: MailSettings, subject: str, body: str) -> EmailMessage:
    """A plain-text message from the server to the supervisors; the subject made one safe line."""
    msg = EmailMessage()
    msg["Subject"] = header_text(subject)
    msg["From"] = _address(settings.sender)
    msg["To"] = [_address(a) for a in settings.to]
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=settings.sender.split("@")[-1])
    msg.set_content(body_text(body))
    return msg


def send(settings: MailSettings, msg: EmailMessage) -> None:
    """Send one message; :class:`MailError` with the reason when the server did not take it."""
    where = f"{settings.host}:{settings.port}"
    try:
        if settings.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with smtp:
            if settings.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.user:
                smtp.login(settings.user, settings.password)
            refused = smtp.send_message(msg)
        if refused:
            raise MailError(f"{where} refused {', '.join(sorted(refused))}")
    except smtplib.SMTPException as exc:
        raise MailError(f"{where}: {header_text(str(exc), 300)}") from None
    except (OSError, ssl.SSLError) as exc:
        raise MailError(f"cannot reach {where}: {getattr(exc, 'strerror', None) or exc}") from None
