"""The station clock, in the one form every timestamp the station writes takes."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> str:
    """The station clock as an ISO-8601 UTC timestamp with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")
