"""Station settings: what is in force, and where each value came from.

A clerk's daily start is just ``rma station``: the station id, server,
printer and camera live in a TOML file in the user's config folder
(``$XDG_CONFIG_HOME/rma-station/station.toml``), whose path can be moved with
``--config`` or ``RMA_STATION_CONFIG``.  Flags given on the command line win
over the file; the file wins over the defaults.
"""

from __future__ import annotations

import os
import socket
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

APP_NAME = "rma-station"
CONFIG_ENV = "RMA_STATION_CONFIG"
KEYS = (
    "station",
    "db",
    "server_url",
    "server_token",
    "printer",
    "camera",
    "language",
    "supervisor_required",
    "undo_grace_minutes",
)
# What a supervisor's badge must approve (a site setting): a disposition override, an undo of another
# operator's receipt, an undo of a receipt older than undo_grace_minutes.
APPROVALS = ("override", "undo_other", "undo_old")

# labels: a CJK TrueType font the ZPL printer holds itself (e.g. "E:SIMSUN.TTF"); Chinese text is then sent
# as text in it instead of as graphics (labels/zpl.py)
KEYS = (*KEYS, "zpl_cjk_font")
# put-away: bins this station adds to the routing rules' bins, ``[bins]`` NAME = ["channel", ...]
# (qc_checklists/bins.py says which bin takes which channel)
KEYS = (*KEYS, "bins")


class ConfigError(Exception):
    """The config file cannot be used; the message names the file and the reason."""


_TOML_TYPES = {str: "text", int: "a number", float: "a number", bool: "true/false", list: "a list", dict: "a table"}


def _check_type(path: Path, key: str, value: object) -> None:
    """Refuse a value that is not text (the camera may also be a device number, ``camera = 0``).

    The approval settings are not text; :func:`_approval_setting` checks them.
    """
    if isinstance(value, str) or (key == "camera" and type(value) is int):
        return
    wanted = (
        "text in quotes or a device number (e.g. camera = 0)"
        if key == "camera"
        else f'text in quotes (e.g. {key} = "...")'
    )
    got = _TOML_TYPES.get(type(value), type(value).__name__)
    raise ConfigError(f"{path}: {key} must be {wanted}, not {got}")


def default_config_path() -> Path:
    """Where the station's config file lives unless told otherwise."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "station.toml"


def default_db_path() -> Path:
    """Where the station's database lives unless told otherwise."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / "station.db"


@dataclass
class Settings:
    """The station's settings and, per key, where its value came from."""

    station: str = ""
    db: str = ""
    server_url: str = ""
    server_token: str = ""
    printer: str = ""
    zpl_cjk_font: str = ""
    camera: str = ""
    language: str = ""  # "en" or "zh-CN"; empty: $RMA_LANGUAGE, then the system's (terminal.i18n.choose)
    supervisor_required: tuple[str, ...] = APPROVALS
    undo_grace_minutes: float = 5.0
    bins: dict[str, tuple[str, ...]] = field(default_factory=dict)  # bins the station adds: name -> channels
    config_path: Path | None = None
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def db_path(self) -> Path:
        """The database file as a path."""
        return Path(self.db).expanduser()

    @property
    def db_is_default(self) -> bool:
        """True when nobody chose the database location (so its folder may be created)."""
        return self.sources.get("db") == "default"


APPROVAL_KEYS = ("supervisor_required", "undo_grace_minutes")


def _approval_setting(path: Path, key: str, value: object) -> tuple[str, ...] | float:
    """``supervisor_required`` (a list of APPROVALS) or ``undo_grace_minutes`` (minutes ≥ 0), checked."""
    if key == "supervisor_required":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{path}: supervisor_required must be a list, e.g. {list(APPROVALS)}")
        unknown = [v for v in value if v not in APPROVALS]
        if unknown:
            raise ConfigError(
                f"{path}: supervisor_required: unknown action {unknown[0]!r}; known: {', '.join(APPROVALS)}"
            )
        return tuple(dict.fromkeys(value))
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"{path}: undo_grace_minutes must be a number of minutes ≥ 0, not {value!r}")
    return float(value)


def _bins_setting(path: Path, value: object) -> dict[str, tuple[str, ...]]:
    """``[bins]``: a table of bin name = list of channels (the channels are checked against the routing's)."""
    example = 'e.g. [bins] then B-GRADE-2 = ["b_stock"]'
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: bins must be a table, {example}")
    bins = {}
    for name, channels in value.items():
        if not isinstance(channels, list) or not channels or not all(isinstance(c, str) for c in channels):
            raise ConfigError(f"{path}: bins: {name} must be a list of channels, {example}")
        bins[str(name)] = tuple(channels)
    return bins


def load(config: str | os.PathLike | None = None, **flags: str | None) -> Settings:
    """Settings from defaults, then the config file, then the flags given (None = not given)."""
    explicit = config or os.environ.get(CONFIG_ENV)
    path = Path(explicit).expanduser() if explicit else default_config_path()
    from_file: dict = {}
    settings_bins: dict[str, tuple[str, ...]] = {}
    if path.exists():
        try:
            from_file = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
        unknown = sorted(set(from_file) - set(KEYS))
        if unknown:
            raise ConfigError(f"{path}: unknown setting {unknown[0]!r}; known: {', '.join(KEYS)}")
        for key, value in from_file.items():
            if key == "bins":
                settings_bins = _bins_setting(path, value)
            elif key not in APPROVAL_KEYS:  # those are a list and a number, checked by _approval_setting
                _check_type(path, key, value)
    elif explicit:
        raise ConfigError(f"config file {path} does not exist")

    settings = Settings(config_path=path if path.exists() else None)
    if "bins" in from_file:
        settings.bins = settings_bins
    defaults = {"station": socket.gethostname() or "station", "db": str(default_db_path())}
    origin = "env " + CONFIG_ENV if (not config and os.environ.get(CONFIG_ENV)) else "file"
    for key in KEYS:
        if key == "bins":
            settings.sources[key] = f"{origin} {path}" if key in from_file else "default"
            continue
        if key in APPROVAL_KEYS:
            if key in from_file:
                setattr(settings, key, _approval_setting(path, key, from_file[key]))
            settings.sources[key] = f"{origin} {path}" if key in from_file else "default"
            continue
        value, source = defaults.get(key, ""), "default"
        if key in from_file:
            value, source = str(from_file[key]), f"{origin} {path}"
        if flags.get(key) is not None:
            value, source = str(flags[key]), "flag"
        setattr(settings, key, value)
        settings.sources[key] = source
    if settings.zpl_cjk_font:
        from labels import LabelError
        from labels.zpl import check_printer_font  # here: the labels' imports (Pillow, reportlab) only when needed

        try:
            check_printer_font(settings.zpl_cjk_font)
        except LabelError as exc:
            raise ConfigError(f"{path}: zpl_cjk_font: {exc}") from None
    return settings
