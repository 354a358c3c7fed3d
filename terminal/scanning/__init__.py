"""Where scans come from and what they are: keyboard wedge, (later) serial and camera."""

from terminal.scanning.scan import COMMANDS, Kind, Scan, read_scan

__all__ = ["COMMANDS", "Kind", "Scan", "read_scan"]
