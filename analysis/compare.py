"""Two sessions (or two parts of one) side by side: each measure, the difference B − A and its
95 % bootstrap confidence interval.

The measures are per landing (per stride for cadence): forefoot % (the share of forefoot
landings); the means of strike index, loading rate and COP travel (how far the centre of
pressure moves along the foot during contact: positive heel → toe, as in forward running;
negative toe → heel, as backward running makes it); the medians of contact time and flight
time; and cadence as the report works it out (each foot's 120 / median stride time, averaged
over the feet; each foot's strides resampled on their own). Means where a run mixes strike patterns: those measures then have one cluster per
pattern, and a median jumps between the clusters (a mixed run's median loading rate can be a
forefoot landing's, hiding its heel strikes), while the mean moves with the mix.

Uncertainty: landings in a run are not independent (a runner drifts, tires, changes pace), so
resampling single landings would make the intervals too narrow. The bootstrap resamples
*blocks* of consecutive landings (a moving-block bootstrap, Künsch 1989; block length ~ n^(1/3),
at least 5), each session on its own, and takes the 2.5th and 97.5th percentiles of the
difference over ``resamples`` draws (percentile interval; Efron & Tibshirani 1993). Seeded, so a
report is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .load import LoadedSession
from .measures import no_flight
from .summary import stride_times

RESAMPLES = 2000
CI_LEVEL = 0.95


@dataclass(frozen=True)
class Measure:
    """One measure: ``values`` per landing (or stride), in time order, in one group or in one
    group per foot (a list); ``stat`` of a group along the last axis; with several groups the
    measure is the mean of the groups' (cadence: the mean of the feet's, as in the summary)."""

    key: str
    label: str
    unit: str
    values: Callable[[LoadedSession], np.ndarray | list[np.ndarray]]
    stat: Callable[[np.ndarray], np.ndarray]
    digits: int = 1

    def groups(self, s: LoadedSession) -> list[np.ndarray]:
        v = self.values(s)
        return [g for g in (v if isinstance(v, list) else [v]) if len(g)]


def _per_landing(field: str) -> Callable[[LoadedSession], np.ndarray]:
    def get(s: LoadedSession) -> np.ndarray:
        v = np.array([np.nan if getattr(l, field) is None else getattr(l, field) for l in s.landings], dtype=float)
        return v[np.isfinite(v)]
    return get


def _flights(s: LoadedSession) -> np.ndarray:
    v = _per_landing("flight_ms")(s)
    return v[:0] if no_flight(v) else v      # walking: no flight to compare (not 0 against 0)


def _forefoot(s: LoadedSession) -> np.ndarray:
    return np.array([100.0 if l.strike == "forefoot" else 0.0 for l in s.landings])


def _cop_travel(s: LoadedSession) -> np.ndarray:
    return np.array([100.0 * (l.cop_path[-1, 1] - l.cop_path[0, 1]) for l in s.landings if len(l.cop_path) >= 2])


def strides_per_foot(s: LoadedSession) -> list[np.ndarray]:
    """Each instrumented foot's stride times (s), in time order, strides across a gap or a pause
    left out: cadence is worked out from them as the summary does (analysis.summary)."""
    return [stride_times([l.t_on_s for l in s.landings_of(foot)], s.breaks_s) for foot in s.feet]


def _cadence(strides: np.ndarray) -> np.ndarray:
    return 120.0 / np.median(strides, axis=-1)


def _median(a: np.ndarray) -> np.ndarray:
    return np.median(a, axis=-1)


def _mean(a: np.ndarray) -> np.ndarray:
    return np.mean(a, axis=-1)


MEASURES: tuple[Measure, ...] = (
    Measure("forefoot_pct", "forefoot %", "", _forefoot, _mean),
    Measure("strike_index", "strike index, mean", "", _per_landing("strike_index"), _mean),
    Measure("contact_ms", "contact time, median", "ms", _per_landing("contact_ms"), _median, 0),
    Measure("flight_ms", "flight time, median", "ms", _flights, _median, 0),
    Measure("cadence_spm", "cadence", "steps/min", strides_per_foot, _cadence),
    Measure("loading_rate_bw_s", "loading rate, mean", "BW/s", _per_landing("loading_rate_bw_s"), _mean),
    Measure("cop_travel_pct", "COP travel heel→toe, mean", "% of foot", _cop_travel, _mean),
)


@dataclass
class Row:
    """One measure compared: values of A and B, B − A and its interval (None when a side has
    too few values: fewer than ``MIN_VALUES``)."""

    measure: Measure
    a: float | None
    b: float | None
    n_a: int
    n_b: int
    diff: float | None = None
    lo: float | None = None
    hi: float | None = None

    @property
    def differs(self) -> bool | None:
        """Whether the interval excludes zero (None when there is no interval)."""
        if self.lo is None or self.hi is None:
            return None
        return self.lo > 0 or self.hi < 0


MIN_VALUES = 5


def signed(v: float, digits: int) -> str:
    """``v`` with its sign, never ``-0.0`` (a difference that rounds to nothing has none)."""
    text = f"{v:+.{digits}f}"
    return text.replace("-", "+") if float(text) == 0 else text


def block_length(n: int) -> int:
    return max(5, int(round(n ** (1 / 3)))) if n else 1


def block_resample(values: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(resamples, n) moving-block bootstrap draws of ``values`` (time order kept in blocks)."""
    n = len(values)
    L = min(block_length(n), n)
    k = -(-n // L)                                       # blocks per draw
    starts = rng.integers(0, n - L + 1, size=(resamples, k))
    idx = (starts[:, :, None] + np.arange(L)[None, None, :]).reshape(resamples, k * L)[:, :n]
    return values[idx]


def _boot_stat(values: np.ndarray, stat, resamples: int, rng) -> np.ndarray:
    out = np.empty(resamples)
    chunk = max(1, 4_000_000 // max(len(values), 1))     # bound the memory of one batch of draws
    for a in range(0, resamples, chunk):
        m = min(chunk, resamples - a)
        out[a:a + m] = stat(block_resample(values, m, rng))
    return out


def _point(m: Measure, groups: list[np.ndarray]) -> float | None:
    return float(np.mean([m.stat(g) for g in groups])) if groups else None


def _boot(m: Measure, groups: list[np.ndarray], resamples: int, rng) -> np.ndarray:
    """Bootstrap draws of the measure: each group resampled on its own, then averaged."""
    return np.mean([_boot_stat(g, m.stat, resamples, rng) for g in groups], axis=0)


def _positions(s: LoadedSession) -> list[tuple]:
    return sorted((x.foot, round(x.x, 3), round(x.y, 3)) for x in s.layout)


def warnings(a: LoadedSession, b: LoadedSession) -> list[str]:
    """What makes A and B less comparable than they look: a different sensor layout, frame
    rate or instrumented feet, a measure that applies to one side only, problems in the data."""
    out = []
    if a.feet != b.feet:
        out.append(f"the instrumented feet differ: A has {' and '.join(a.feet)}, B {' and '.join(b.feet)}")
    elif _positions(a) != _positions(b):
        out.append("the sensor layouts differ (where the sensors sit): strike index and COP are measured "
                   "differently on each side")
    if abs(a.rate_hz - b.rate_hz) > 0.02 * max(a.rate_hz, b.rate_hz):
        out.append(f"the frame rates differ: A {a.rate_hz:g}, B {b.rate_hz:g} frames/s, so timings are "
                   "resolved differently")
    for side, s in (("A", a), ("B", b)):         # a walking side's notes say flight time does not apply
        out += [f"{side}: {n}" for n in s.notes]
    return out


def compare(a: LoadedSession, b: LoadedSession, resamples: int = RESAMPLES, seed: int = 0) -> list[Row]:
    """Every measure of :data:`MEASURES` for ``a`` and ``b``, with B − A and its interval."""
    rng = np.random.default_rng(seed)
    rows = []
    tail = (1 - CI_LEVEL) / 2 * 100
    for m in MEASURES:
        ga, gb = m.groups(a), m.groups(b)
        row = Row(m, _point(m, ga), _point(m, gb), sum(map(len, ga)), sum(map(len, gb)))
        if row.a is not None and row.b is not None:
            row.diff = row.b - row.a
            if all(len(g) >= MIN_VALUES for g in ga + gb):
                d = _boot(m, gb, resamples, rng) - _boot(m, ga, resamples, rng)
                row.lo, row.hi = (float(x) for x in np.percentile(d, [tail, 100 - tail]))
        rows.append(row)
    return rows
