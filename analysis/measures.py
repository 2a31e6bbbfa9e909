"""The measures of a session, once: what each is called, its unit, how it is shown and how it
is computed over a block of landings (the session, one foot, one part between markers).

:func:`analysis.summary.summarise` computes contract 3's figures from :data:`MEASURES`; the
console and HTML reports (:func:`analysis.html_report.summary_rows`) and the end-of-run summary
(:func:`pi.display.summary_renderable`) show them from it, so a new measure is one entry here
(and, if it needs one, its computation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np


def _get(l, key):
    # a dict (a CSV row) or a Landing; not isinstance(l, Mapping): that ABC check cost more than
    # the rest of the summary on a long session
    return l[key] if isinstance(l, dict) else getattr(l, key)


def _maybe(l, key):
    return l.get(key) if isinstance(l, dict) else getattr(l, key, None)


def median(values, digits: int = 1) -> float | None:
    """Median of the finite values, rounded to ``digits``; None when there are none."""
    v = [float(x) for x in values if x is not None and math.isfinite(float(x))]
    return round(float(np.median(v)), digits) if v else None


def mean(values, digits: int = 1) -> float | None:
    """Mean of the finite values, rounded to ``digits``; None when there are none."""
    v = [float(x) for x in values if x is not None and math.isfinite(float(x))]
    return round(float(np.mean(v)), digits) if v else None


@dataclass(frozen=True)
class Block:
    """What a measure is computed from: one block's landings (Landing objects or landings.csv
    rows), the flight time (ms) before each of its steps, and its cadence (steps/min, worked out
    from strides by :mod:`analysis.summary`: the session's is the mean of its feet's)."""

    landings: list
    flights: list
    cadence: float | None


@dataclass(frozen=True)
class Measure:
    """One figure of a block of landings.

    ``key``: its contract-3 key (DESIGN.md); ``label`` and ``short`` (the end-of-run summary's
    narrow table): what people read; ``unit``: shown after the value (with its space), and
    ``shown`` the digits shown; ``of``: the value, rounded as contract 3 keeps it (None: not
    known, or not applicable)."""

    key: str
    label: str
    short: str
    unit: str
    shown: int
    of: Callable[[Block], Any]


def _field(name: str, stat=median, digits: int = 1) -> Callable[[Block], Any]:
    return lambda b: stat((_maybe(l, name) for l in b.landings), digits)


def forefoot_pct(strikes) -> float | None:
    """Share of forefoot landings among ``strikes`` (strike classes), % to 0.1; None if none."""
    strikes = list(strikes)
    return round(100.0 * strikes.count("forefoot") / len(strikes), 1) if strikes else None


def _forefoot_pct(b: Block) -> float | None:
    return forefoot_pct(_get(l, "strike") for l in b.landings)


#: flight times of 0 (the other foot still down) in this share of steps or more: the gait has no
#: flight (walking), and a median flight time of 0 ms would say nothing; it is null instead
NO_FLIGHT_SHARE = 0.5


def no_flight(flights) -> bool:
    """Whether flight time does not apply to these steps' flight times (ms): most are 0."""
    f = [x for x in flights if x is not None]
    return bool(f) and sum(1 for x in f if x <= 0.0) >= NO_FLIGHT_SHARE * len(f)


def _flight(b: Block) -> float | None:
    return None if no_flight(b.flights) else median(b.flights)


def _duty_factor(b: Block) -> float | None:
    """The share of a stride the foot is on the ground: median contact time over the stride
    time the block's cadence gives (120 / cadence s: cadence counts both feet's steps)."""
    contact = median(_get(l, "contact_ms") for l in b.landings)
    if contact is None or not b.cadence:
        return None
    return round(contact / 1000.0 * b.cadence / 120.0, 2)


#: the block figures, in the order the reports show them (after the landings and their classes)
MEASURES: tuple[Measure, ...] = (
    Measure("forefoot_pct", "forefoot %", "forefoot %", " %", 1, _forefoot_pct),
    Measure("strike_index_median", "strike index, median", "strike index median", "", 1, _field("strike_index")),
    Measure("cadence_spm", "cadence, steps/min", "cadence spm", "", 1, lambda b: b.cadence),
    Measure("contact_ms_median", "contact time, median", "contact ms (median)", " ms", 0, _field("contact_ms")),
    Measure("flight_ms_median", "flight time, median", "flight ms (median)", " ms", 0, _flight),
    # running ~0.25-0.4, walking over 0.5 (a stance longer than the swing)
    Measure("duty_factor", "duty factor", "duty factor", "", 2, _duty_factor),
    # peak force: shown in body weights where the body mass is known (the next entry), else in N
    Measure("peak_force_n_median", "peak force, median", "peak force N (median)", " N", 0, _field("peak_force_n")),
    Measure("peak_force_bw_median", "peak force, median", "peak force BW (median)", " BW", 2,
            _field("peak_force_bw", digits=2)),
    Measure("loading_rate_bw_s_mean", "loading rate, mean", "loading rate BW/s (mean)", " BW/s", 1,
            _field("loading_rate_bw_s", mean)),
)

def shown(blocks: list[dict]) -> list[Measure]:
    """The measures a table of contract-3 ``blocks`` shows: every one, but one peak force row,
    in body weights where the first block has them, else in newtons."""
    bw = any(b.get("peak_force_bw_median") is not None for b in blocks[:1])
    skip = "peak_force_n_median" if bw else "peak_force_bw_median"
    return [m for m in MEASURES if m.key != skip]


def cell(m: Measure, value, none: str = "–") -> str:
    """``value`` of ``m`` as a table shows it."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return none
    return f"{value:.{m.shown}f}{m.unit}" if isinstance(value, float) else f"{value}{m.unit}"
