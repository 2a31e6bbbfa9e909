"""Units of imported forces, pressures and times, and their factors to newtons and seconds.

Forces convert directly. Pressures (an insole cell reports the mean pressure over its area)
become forces only with each sensor's area: force [N] = pressure × area, so a pressure unit
carries its factor to newtons per cm² of sensor area.

Factors: the kilogram-force is g_n × 1 kg with the standard gravity g_n = 9.80665 m/s² (CGPM
1901, exact); the pound-force is g_n × 0.45359237 kg = 4.4482216152605 N (exact by the
international pound of 1959); 1 psi = 1 lbf/in² = 6894.757293 Pa; 1 kPa over 1 cm² is
1000 N/m² × 1e-4 m² = 0.1 N.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError
from ..features import G

G_N = G                               # m/s², standard gravity (analysis.features)
LBF_N = 0.45359237 * G_N              # N per pound-force


@dataclass(frozen=True)
class Unit:
    """``to_n``: newtons per unit of force, or for a pressure newtons per (unit × cm²)."""

    name: str
    to_n: float
    pressure: bool = False


_UNITS = {
    "N": Unit("N", 1.0),
    "kN": Unit("kN", 1000.0),
    "kgf": Unit("kgf", G_N),
    "lbf": Unit("lbf", LBF_N),
    "N/cm2": Unit("N/cm2", 1.0, pressure=True),
    "kPa": Unit("kPa", 0.1, pressure=True),
    "MPa": Unit("MPa", 100.0, pressure=True),
    "psi": Unit("psi", LBF_N / 2.54 ** 2, pressure=True),
}
# How people write them (compared case-insensitively). "kg" and "lb" on a force column are the
# scale readings of kgf and lbf, which is what a force exported "in kg" means.
_ALIASES = {
    "n": "N", "newton": "N", "newtons": "N", "kn": "kN",
    "kgf": "kgf", "kg": "kgf", "kp": "kgf", "kilogram-force": "kgf",
    "lbf": "lbf", "lb": "lbf", "lbs": "lbf", "pound-force": "lbf",
    "n/cm2": "N/cm2", "n/cm²": "N/cm2", "n/cm^2": "N/cm2", "kpa": "kPa", "mpa": "MPa", "psi": "psi",
}
TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6}


def force_unit(text: str) -> Unit:
    """The unit named by ``text``; an unknown name is a :class:`UsageError` listing the known ones."""
    key = _ALIASES.get(str(text).strip().casefold())
    if key is None:
        raise UsageError(f"unknown unit {text!r}; known: {', '.join(_UNITS)} (and kg, lb for kgf, lbf)")
    return _UNITS[key]


def time_factor(text: str) -> float:
    """Seconds per unit of the time column (``s``, ``ms``, ``us``)."""
    try:
        return TIME_UNITS[str(text).strip().lower()]
    except KeyError:
        raise UsageError(f"unknown time unit {text!r}; known: {', '.join(TIME_UNITS)}") from None
