"""Session summary: the figures of DESIGN.md contract 3, from a list of landings.

Conventions:

* ``cadence_spm`` is steps per minute with both feet counted. Per foot it is twice that foot's
  stride rate (120 / median stride time), as running watches report it; for the session it is
  the mean of the instrumented feet's figures, so it is right with one foot instrumented too and
  a missed landing on one foot cannot halve it.
* ``flight_ms`` of a landing is the aerial time before it: from the other foot's last toe-off to
  this initial contact (0 when the other foot was still on the ground, as in walking). With one
  foot instrumented it is half the stride less the previous contact time. Where most steps
  have none (walking), ``flight_ms_median`` is None: not applicable, rather than 0 ms.
* A key whose value cannot be computed is None (null in JSON). ``feet`` always holds both feet;
  a foot without sensors has 0 landings and null figures.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from typing import Any, Iterable, Mapping

import numpy as np

from .measures import MEASURES, Block, _get
from .strike import STRIKES

MAX_STRIDE_S = 3.0   # a longer gap between two landings of one foot is a pause, not a stride


def _spans_break(t0, t1, breaks) -> np.ndarray:
    """Whether each interval (t0, t1] holds one of ``breaks`` (times frames resumed after a gap)."""
    b = np.asarray(list(breaks), dtype=float)
    if not b.size:
        return np.zeros(np.shape(t0), dtype=bool)
    return ((b[None, :] > np.asarray(t0)[:, None]) & (b[None, :] <= np.asarray(t1)[:, None])).any(axis=1)


def stride_keep(t_on: np.ndarray, breaks=()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sorted initial contacts t, stride times d = diff(t), which strides count): pauses and
    strides across a gap in the frames (``breaks``: the times frames resumed) do not."""
    t = np.sort(np.asarray(t_on, dtype=float))
    d = np.diff(t)
    keep = (d > 0) & (d < MAX_STRIDE_S) & ~_spans_break(t[:-1], t[1:], breaks)
    return t, d, keep


def stride_times(t_on: np.ndarray, breaks=()) -> np.ndarray:
    """Stride times (s) of one foot from its initial contacts (see :func:`stride_keep`)."""
    _, d, keep = stride_keep(t_on, breaks)
    return d[keep]


def cadence_of_foot(t_on, breaks=()) -> float | None:
    s = stride_times(t_on, breaks)
    return round(120.0 / float(np.median(s)), 1) if s.size else None


def flight_ms_before(landing, prev_other, prev_same) -> float | None:
    """Flight time (ms) before ``landing`` (see the module docstring).

    ``prev_other``: the other foot's last landing that began before this one (None with one foot
    instrumented, or none yet); ``prev_same``: this foot's previous landing, used with one foot
    instrumented. None where it cannot be known (the first landings, or after a pause).
    """
    t_on = _get(landing, "t_on_s")
    if prev_other is not None:
        if t_on - _get(prev_other, "t_on_s") > MAX_STRIDE_S / 2:
            return None
        return max(0.0, (t_on - _get(prev_other, "t_off_s")) * 1000.0)
    if prev_same is not None:
        stride = t_on - _get(prev_same, "t_on_s")
        if 0 < stride < MAX_STRIDE_S:
            return max(0.0, stride / 2.0 * 1000.0 - _get(prev_same, "contact_ms"))
    return None


class FlightTimer:
    """The flight time before each landing, as the landings come: in time order (offline) or in
    the order they complete (live, at toe-off); the one rule both use.

    A landing's flight is timed against the other foot's latest landing that began before it
    (with one foot instrumented, this foot's previous one: :func:`flight_ms_before`), and not at
    all when frames resumed after a gap between the two (``breaks``, :meth:`gap`). Memory is a
    few landings per foot and the breaks since them.
    """

    KEPT = 4                 # landings kept per foot (the latest before a landing is among them)

    def __init__(self, feet: Iterable[str], breaks: Iterable[float] = ()):
        self.feet = list(feet)
        self.recent: dict[str, deque] = {f: deque(maxlen=self.KEPT) for f in self.feet}
        self.breaks = sorted(float(b) for b in breaks)

    def gap(self, t_s: float) -> None:
        """Frames resumed after a gap at ``t_s`` (s): no flight is timed across it."""
        bisect.insort(self.breaks, float(t_s))
        if len(self.breaks) > 64:      # live: forget the breaks older than every landing kept
            kept = [_get(l, "t_on_s") for d in self.recent.values() for l in d]
            oldest = min(kept) if kept else float(t_s)
            self.breaks = self.breaks[bisect.bisect_left(self.breaks, oldest):]

    def _latest_before(self, foot: str | None, t_on: float):
        earlier = [l for l in self.recent.get(foot, ()) if _get(l, "t_on_s") < t_on]
        if not earlier:
            return None
        prev = max(earlier, key=lambda l: _get(l, "t_on_s"))
        i = bisect.bisect_right(self.breaks, _get(prev, "t_on_s"))
        return None if i < len(self.breaks) and self.breaks[i] <= t_on else prev

    def __call__(self, landing) -> float | None:
        """The flight time (ms) before ``landing`` (None where it cannot be known); the landing
        is then kept for the ones after it."""
        foot, t_on = _get(landing, "foot"), _get(landing, "t_on_s")
        if foot not in self.recent:
            return None
        if len(self.feet) == 2:
            other = self.feet[1] if foot == self.feet[0] else self.feet[0]
            flight = flight_ms_before(landing, self._latest_before(other, t_on), None)
        else:
            flight = flight_ms_before(landing, None, self._latest_before(foot, t_on))
        self.recent[foot].append(landing)
        return flight


def flights_before(landings: list, feet: Iterable[str], breaks=()):
    """(landing, flight time before it in ms or None) for each landing of ``feet``, in time
    order, by :class:`FlightTimer`; none is timed across a gap in the frames (``breaks``)."""
    feet = list(feet)
    timer = FlightTimer(feet, breaks)
    for l in sorted(landings, key=lambda l: _get(l, "t_on_s")):
        if _get(l, "foot") in feet:
            yield l, timer(l)


def flight_times_ms(landings: list, feet: Iterable[str], breaks=()) -> dict[str, list[float]]:
    """Flight time before each landing, per foot, in time order (see :func:`flights_before`)."""
    out: dict[str, list[float]] = {f: [] for f in feet}
    for l, fl in flights_before(landings, out, breaks):
        if fl is not None:
            out[_get(l, "foot")].append(fl)
    return out


def _block(landings: list, flights: list[float], cadence: float | None) -> dict[str, Any]:
    """A block's contract-3 figures: its landings, their classes, and each of :data:`MEASURES`."""
    counts = {s: sum(1 for l in landings if _get(l, "strike") == s) for s in STRIKES}
    block = Block(landings, flights, cadence)
    return {"landings": len(landings), "strike_counts": counts, **{m.key: m.of(block) for m in MEASURES}}


def summarise(landings: list, feet: Iterable[str], health: Mapping | None = None,
              breaks: Iterable[float] = ()) -> dict[str, Any]:
    """Contract 3: the session figures, overall and per foot.

    ``landings``: Landing objects or dicts with ``foot``, ``t_on_s``, ``t_off_s``,
    ``contact_ms``, ``strike``, ``strike_index``. ``feet``: the instrumented feet. ``breaks``:
    times (s) at which frames resumed after a gap; no stride or flight is timed across one.
    """
    feet = list(feet)
    breaks = list(breaks)
    flights = flight_times_ms(landings, feet, breaks)
    per_foot = {}
    cadences = []
    for f in feet:
        mine = [l for l in landings if _get(l, "foot") == f]
        cad = cadence_of_foot([_get(l, "t_on_s") for l in mine], breaks)
        if cad is not None:
            cadences.append(cad)
        per_foot[f] = _block(mine, flights[f], cad)
    overall = _block(landings, [x for f in feet for x in flights[f]],
                     round(float(np.mean(cadences)), 1) if cadences else None)
    # contract 3 always has both feet; one without sensors has no landings and null figures
    overall["feet"] = {f: per_foot.get(f) or _block([], [], None) for f in ("left", "right")}
    overall["health"] = dict(health) if health is not None else None
    return overall
