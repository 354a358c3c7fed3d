"""The signature on every delivery, as the Standard Webhooks specification has it (Svix's scheme).

Headers::

    webhook-id:        dlv_…        the delivery id: the same on every try and replay (dedupe on it)
    webhook-timestamp: 1764586800   Unix seconds when this try was signed
    webhook-signature: v1,<base64>  base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}"))

The key is the endpoint's secret ``whsec_<base64>`` with the prefix taken off and the rest
base64-decoded.  A receiver recomputes the HMAC over the raw body it received, compares in
constant time, and refuses a timestamp more than five minutes from its clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from gettext import gettext as _

PREFIX = "whsec_"
MIN_KEY_BYTES = 16


def new_secret() -> str:
    """A fresh secret: ``whsec_`` and 32 random bytes in base64."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_…`` secret; ValueError saying what is wrong with it."""
    secret = secret.strip()
    if not secret.startswith(PREFIX):
        raise ValueError(_("the secret must start with whsec_ followed by base64"))
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(_("the part after whsec_ is not base64")) from None
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(
            _("the secret's key is {size} bytes; give at least {least}").format(size=len(key), least=MIN_KEY_BYTES)
        )
    return key


def signature(key: bytes, delivery_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one try."""
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(key: bytes, delivery_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Every header of one try."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "rma-server-webhooks/1",
        "webhook-id": delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(key, delivery_id, timestamp, body),
    }
