"""Checking human-edited TOML files (the kit configuration, an import layout) key by key.

Every mistake raises :class:`~analysis.errors.ConfigError` with one line naming the file, the
key at fault and what was expected, e.g. ``kit.toml: sensor[3] ("L_mt1").input: expected 0-3,
got 7``. Array entries are counted from 0, in file order.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from pathlib import Path
from typing import Any, Mapping

from .errors import ConfigError
from .layout import FEET

# Sensor names become samples.csv column headers and live-display labels: no commas, quotes or
# spaces, and not the time column's name.
NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")


def load_toml(path: str | Path, what: str) -> dict:
    """Parse a TOML file; ``what`` names it in messages ("the kit file", "the layout file")."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise ConfigError(f"{path}: cannot read {what}: {e.strerror or e}") from e
    except tomllib.TOMLDecodeError as e:          # its message carries the line and column
        raise ConfigError(f"{path}: not valid TOML: {e}") from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: the file is not UTF-8 text ({e.reason})") from e


def show(v: Any) -> str:
    """A value as the user wrote it in TOML, for 'got …' in messages."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, Mapping):
        return "a table"
    if isinstance(v, list):
        return "an array"
    return "nothing" if v is None else repr(v)


class Checker:
    """Small helpers that raise ConfigError prefixed with the file name.

    ``keys`` maps a table kind to the keys allowed in it (``""``: the top level).
    """

    def __init__(self, file: str, keys: Mapping[str, tuple[str, ...]]):
        self.file = file
        self.keys = keys

    def fail(self, where: str, msg: str):
        raise ConfigError(f"{self.file}: {where}: {msg}")

    def expect(self, where: str, expected: str, got: Any):
        self.fail(where, f"expected {expected}, got {show(got)}")

    def table(self, v: Any, where: str, kind: str) -> Mapping:
        """A table whose keys are all known; ``kind`` picks the allowed keys."""
        if not isinstance(v, Mapping):
            self.expect(where or "top level", "a table", v)
        for k in v:
            if k not in self.keys[kind]:          # most often a typo: list what would be accepted
                if where:
                    self.fail(f"{where}.{k}", f"unknown key; allowed keys here: {', '.join(self.keys[kind])}")
                self.fail(k, f"unknown top-level key; allowed: {', '.join(self.keys[kind])}")
        return v

    def array(self, data: Mapping, key: str) -> list:
        """A required, non-empty ``[[key]]`` array of tables."""
        v = data.get(key)
        if v is None:
            self.fail(key, f"missing; expected at least one [[{key}]] table")
        if not isinstance(v, list) or not v:
            self.expect(key, f"one or more [[{key}]] tables", v)
        return v

    def need(self, tbl: Mapping, key: str, where: str, expected: str) -> Any:
        if key not in tbl:
            self.fail(f"{where}.{key}", f"missing; expected {expected}")
        return tbl[key]

    def number(self, v: Any, where: str, expected: str, ok=lambda v: True, integer: bool = False):
        """A finite number (an integer if asked) passing ``ok``; bool is not a number."""
        kinds = int if integer else (int, float)
        if isinstance(v, bool) or not isinstance(v, kinds) or not math.isfinite(v) or not ok(v):
            self.expect(where, expected, v)
        return v

    def name(self, v: Any, where: str) -> str:
        if not isinstance(v, str) or not NAME_RE.fullmatch(v) or v == "t_s":
            self.expect(where, 'a name of letters, digits, "_", "." or "-" (not "t_s")', v)
        return v

    def sensor(self, i: int, raw: Any, names: dict[str, str]) -> tuple[Mapping, str, str, str, float, float]:
        """The keys every sensor table has (kit or import layout): ``[[sensor]]`` number ``i``
        checked for its allowed keys, a unique ``name`` (recorded in ``names``), ``foot``, ``x``
        and ``y``. Returns (table, where, name, foot, x, y); ``where`` names it for messages."""
        where = f"sensor[{i}]"
        t = self.table(raw, where, "sensor")
        name = self.name(self.need(t, "name", where, "a sensor name"), f"{where}.name")
        where = f"{where} ({json.dumps(name)})"
        if name in names:
            self.fail(f"{where}.name", f"{json.dumps(name)} is already the name of {names[name]}")
        names[name] = where
        foot = self.need(t, "foot", where, "left or right")
        if foot not in FEET:
            self.expect(f"{where}.foot", "left or right", foot)
        xy = {}
        for axis in ("x", "y"):         # x: 0 medial edge → 1 lateral; y: 0 back of the heel → 1 toe tip
            what = "a fraction of the foot in [0, 1]"
            xy[axis] = float(self.number(self.need(t, axis, where, what), f"{where}.{axis}", what,
                                         lambda v: 0.0 <= v <= 1.0))
        return t, where, name, foot, xy["x"], xy["y"]
