"""Sensor layout: where each sensor sits under its foot.

Coordinates (DESIGN.md): each sensor has a position in its own foot's frame as a fraction of
that foot. ``y`` = 0 at the back of the heel, 1 at the tip of the longest toe; ``x`` = 0 at the
medial edge, 1 at the lateral edge. Left and right use the same convention (no mirroring).

Regions follow the strike-index thirds of Cavanagh & Lafortune (1980): rearfoot ``y < 1/3``,
midfoot ``1/3 <= y < 2/3``, forefoot ``y >= 2/3``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np

from .errors import ConfigError

FEET = ("left", "right")
REGIONS = ("rearfoot", "midfoot", "forefoot")
#: strike-index cut points, % of foot length from the heel
REARFOOT_BELOW = 100.0 / 3.0
FOREFOOT_FROM = 200.0 / 3.0
#: the same cut points as fractions of the foot (compared as fractions: 100 × (1/3) rounds
#: below 100/3)
REARFOOT_Y = 1.0 / 3.0
FOREFOOT_Y = 2.0 / 3.0


def region_of(y: float) -> str:
    """The region (``rearfoot``/``midfoot``/``forefoot``) of a position ``y`` (fraction of foot)."""
    if y < REARFOOT_Y:
        return "rearfoot"
    if y < FOREFOOT_Y:
        return "midfoot"
    return "forefoot"


@dataclass(frozen=True)
class Sensor:
    """One sensor of the insole.

    ``calibration`` is a calibration model dict (see :mod:`analysis.calibration`) that turns this
    sensor's stored value into newtons. ``chip``/``input`` name the ADC chip and its input for a
    kit; they are ``None`` for imported data.
    """

    name: str
    foot: str
    x: float
    y: float
    calibration: Mapping[str, Any] = field(default_factory=lambda: {"model": "linear", "scale": 1.0, "offset": 0.0})
    chip: str | None = None
    input: int | None = None

    @property
    def region(self) -> str:
        return region_of(self.y)

    def to_json(self) -> dict:
        d = {"name": self.name, "foot": self.foot, "x": self.x, "y": self.y,
             "calibration": dict(self.calibration)}
        if self.chip is not None:
            d["chip"] = self.chip
            d["input"] = self.input
        return d


class Layout:
    """An ordered list of sensors (the column order of ``samples.csv``) with per-foot views."""

    def __init__(self, sensors: Iterable[Sensor]):
        self.sensors: tuple[Sensor, ...] = tuple(sensors)
        if not self.sensors:
            raise ConfigError("the layout has no sensors")
        names = [s.name for s in self.sensors]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ConfigError(f"sensor names must be unique; repeated: {', '.join(dupes)}")
        for s in self.sensors:
            if s.foot not in FEET:
                raise ConfigError(f"sensor {s.name!r}: foot must be one of {', '.join(FEET)}, got {s.foot!r}")
            for axis in ("x", "y"):
                v = getattr(s, axis)
                if not isinstance(v, (int, float)) or not 0.0 <= float(v) <= 1.0:
                    raise ConfigError(f"sensor {s.name!r}: {axis} must be a fraction of the foot in [0, 1], got {v!r}")
        self.names: tuple[str, ...] = tuple(names)
        self.feet: tuple[str, ...] = tuple(f for f in FEET if any(s.foot == f for s in self.sensors))
        self.x = np.array([s.x for s in self.sensors], dtype=float)
        self.y = np.array([s.y for s in self.sensors], dtype=float)
        #: column indices of each foot's sensors, in layout order
        self.index: dict[str, np.ndarray] = {
            f: np.array([i for i, s in enumerate(self.sensors) if s.foot == f], dtype=int) for f in self.feet}

    def __len__(self) -> int:
        return len(self.sensors)

    def __iter__(self):
        return iter(self.sensors)

    def foot_sensors(self, foot: str) -> list[Sensor]:
        return [self.sensors[i] for i in self.index.get(foot, [])]

    def to_json(self) -> list[dict]:
        return [s.to_json() for s in self.sensors]

    @classmethod
    def from_json(cls, items: list[Mapping[str, Any]], where: str = "sensors") -> "Layout":
        """Build from the ``sensors`` list of ``session.json``; errors name the entry at fault."""
        if not isinstance(items, list) or not items:
            raise ConfigError(f"{where}: expected a non-empty list of sensors")
        out = []
        for i, d in enumerate(items):
            if not isinstance(d, Mapping):
                raise ConfigError(f"{where}[{i}]: expected an object, got {type(d).__name__}")
            missing = [k for k in ("name", "foot", "x", "y") if k not in d]
            if missing:
                raise ConfigError(f"{where}[{i}]: missing {', '.join(missing)}")
            out.append(Sensor(name=str(d["name"]), foot=d["foot"], x=d["x"], y=d["y"],
                              calibration=d.get("calibration") or {"model": "linear", "scale": 1.0, "offset": 0.0},
                              chip=d.get("chip"), input=d.get("input")))
        return cls(out)
