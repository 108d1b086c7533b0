"""The plausible range of each uncertainty, read from the one file that holds them (``conf/ranges.yaml``).

Sweeps, sensitivity analysis, calibration and the explorer's sliders all read their ranges here. Each entry is
``key: {low, high, reason}`` for a numeric model key (``stress_high``, optional, lets the explorer's slider go
beyond the plausible range for stress tests; sweeps and calibration never do); the file is checked when read:
every key exists, every range lies inside what the model admits, and the default value lies inside its range.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

from sim.params import Params

from .config import CONF_DIR, ConfigError

RANGES_FILE = CONF_DIR / "ranges.yaml"


@dataclass(frozen=True)
class Range:
    key: str
    low: float
    high: float
    reason: str
    integer: bool = False
    stress_high: float | None = None  # how far the explorer's slider goes beyond the range, for stress tests


def field_of(key: str) -> tuple[dataclasses.Field, Any]:
    """The dataclass field of a dotted model key and its default value; raise KeyError if there is none."""
    node: Any = Params()
    *path, leaf = key.split(".")
    for part in path:
        node = getattr(node, part)
        if not dataclasses.is_dataclass(node):
            raise KeyError(key)
    fields = {f.name: f for f in dataclasses.fields(node)}
    if leaf not in fields:
        raise KeyError(key)
    return fields[leaf], getattr(node, leaf)


@functools.cache
def ranges() -> dict[str, Range]:
    """Every range in ``conf/ranges.yaml``, checked; raise :class:`ConfigError` naming a bad entry."""
    import yaml

    raw = yaml.safe_load(RANGES_FILE.read_text()) or {}
    out = {}
    for key, entry in raw.items():
        where = f"conf/ranges.yaml: {key}"
        try:
            f, default = field_of(key)
        except (KeyError, AttributeError):
            raise ConfigError(f"{where}: not a model key") from None
        if ("range" not in f.metadata or not isinstance(entry, dict)
                or not {"low", "high", "reason"} <= set(entry) <= {"low", "high", "reason", "stress_high"}):
            raise ConfigError(f"{where}: needs low, high and reason (and optionally stress_high), for a numeric key")
        low, high = float(entry["low"]), float(entry["high"])
        admissible_low, admissible_high, _ = f.metadata["range"]
        if not admissible_low <= low < high <= admissible_high:
            raise ConfigError(f"{where}: [{low:g}, {high:g}] is not inside what the model admits "
                              f"[{admissible_low:g}, {admissible_high:g}]")
        if not low <= default <= high:
            raise ConfigError(f"{where}: the default {default!r} lies outside [{low:g}, {high:g}]")
        stress = entry.get("stress_high")
        if stress is not None and not high < float(stress) <= admissible_high:
            raise ConfigError(f"{where}: stress_high {stress} must lie above high and within what the model admits")
        out[key] = Range(key, low, high, str(entry["reason"]), isinstance(default, int),
                         None if stress is None else float(stress))
    return out


def plausible(key: str) -> Range:
    """The plausible range of ``key``; raise :class:`ConfigError` if the ranges file has none."""
    table = ranges()
    if key not in table:
        raise ConfigError(f"{key}: no plausible range in conf/ranges.yaml (give low and high, or add it there)")
    return table[key]
