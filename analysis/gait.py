"""The gait core: stored values → newtons → contacts → landings with their features.

Two drivers of one computation:

* :class:`StreamingGait` — used live: frames arrive in blocks of any size (one frame included),
  memory is constant, and each landing gives an early :class:`Verdict` (within ~40 ms of
  contact, for same-step feedback) and then a full :class:`Landing` after toe-off.
* :func:`analyse` — used offline: the whole recording at once.

Both find contacts with the same state machine (:mod:`analysis.contacts`, which steps it frame by
frame live and jumps from crossing to crossing offline), measure each landing with the one
:func:`analysis.features.landing_features` (handed the contacts a block completed, live; all of
a foot's, offline), and time flights with the one :class:`analysis.summary.FlightTimer`. They
agree landing for landing (tested in ``tests/test_gait_agreement.py``). The first verdicts of a
session wait for the one-second warm-up that measures the sensors' zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .calibration import Calibrator
from .contacts import Contact, ContactTracker
from .features import G, GaitParams, Landing, landing_features, strike_at_contact  # noqa: F401
from .layout import Layout
from .summary import FlightTimer

@dataclass(frozen=True)
class Verdict:
    """The strike class of a landing, known within the first ~40 ms of contact."""

    foot: str
    t_on_s: float
    strike: str
    strike_index: float
    first_region: str | None


GAP_PERIODS = 3.0    # a step in time this many frame periods long is a gap (frames were lost)…
GAP_MIN_S = 0.05     # …and at least this long: a few frames missing do not break a contact or a step


@dataclass(frozen=True)
class Gap:
    """Frames were lost before ``t_on_s`` (s): nothing is measured across it (no contact, step or
    flight time spans it)."""

    t_on_s: float
    foot: str | None = None


def gap_s(rate_hz: float) -> float:
    """The shortest step in time (s) that is a gap: ``GAP_PERIODS`` periods and ``GAP_MIN_S``."""
    return max(GAP_PERIODS / rate_hz, GAP_MIN_S)


def gap_starts(t_s: np.ndarray, rate_hz: float) -> np.ndarray:
    """Indices i where frame i follows a gap: ``t_s[i] - t_s[i-1]`` of :func:`gap_s` or more."""
    return np.flatnonzero(np.diff(t_s) >= gap_s(rate_hz)) + 1


def is_landing(c: Contact, params: GaitParams) -> bool:
    return not c.partial and c.contact_ms >= params.contact.min_contact_ms


class _Foot:
    def __init__(self, foot, idx, layout, rate_hz, params, block=0):
        self.foot, self.idx = foot, idx
        self.x, self.y = layout.x[idx], layout.y[idx]
        self.tracker = ContactTracker(len(idx), rate_hz, params.contact, block)
        self.verdict_for: int | None = None   # start frame of the contact already given a verdict
        self.verdict_strike = None            # its strike figures (StrikeAtContact)
        self.unsampled = False                # in frames where this foot's sensors were not sampled
        self.hole_from = 0.0                  # s: its last frame sampled before them
        self.hole_gapped = False              # the hole has lasted a gap's length


class StreamingGait:
    """Live gait analysis of a whole layout (all feet), frame blocks in, events out.

    ``push(t_s, values)`` takes ``(n,)`` times in s and ``(n, n_sensors)`` stored values in the
    layout's column order and returns the :class:`Verdict`, :class:`Landing` and :class:`Gap`
    events that the block completed, in order; each landing has its flight time.
    """

    def __init__(self, layout: Layout, rate_hz: float, body_mass_kg: float | None = None,
                 params: GaitParams = GaitParams(), block: int = 0, verdicts: bool = True):
        self.layout, self.rate_hz, self.body_mass_kg, self.params = layout, rate_hz, body_mass_kg, params
        self.calibrate = Calibrator([s.calibration for s in layout])
        self.feet = [_Foot(f, layout.index[f], layout, rate_hz, params, block) for f in layout.feet]
        self.verdicts = verdicts         # give early verdicts (offline, only the landings are wanted)
        self._decide_after_s = max(params.contact.min_contact_ms, params.strike.flat_window_ms) / 1000.0
        self._last_t: float | None = None
        self._flights = FlightTimer(layout.feet)

    def push(self, t_s: np.ndarray, values: np.ndarray) -> list:
        """Frames in (stored values; NaN where a sensor was not sampled), events out."""
        t_s = np.asarray(t_s, dtype=float)
        if len(t_s) == 0:
            return []
        values = np.asarray(values).reshape(len(t_s), -1)
        # NaN: a sensor not sampled in that frame (its chip did not answer); its foot has a gap
        missing = ~np.isfinite(values) if values.dtype.kind == "f" else None
        if missing is not None and not missing.any():
            missing = None
        return self._timed(self._push_frames(t_s, self.calibrate(values), missing))

    def push_forces(self, t_s: np.ndarray, forces: np.ndarray, missing: np.ndarray | None = None) -> list:
        """:meth:`push` of forces already in newtons, with the cells not sampled given as
        ``missing`` ((n, n_sensors) bool, or None)."""
        t_s = np.asarray(t_s, dtype=float)
        return self._timed(self._push_frames(t_s, forces, missing)) if len(t_s) else []

    def resume(self, t_s: float) -> list:
        """Frames resume at ``t_s`` after some that could not be read (skipped lines): a gap for
        every foot, however short. Returns the events it completes."""
        return self._timed(self._gap(float(t_s)))

    def _timed(self, events: list) -> list:
        """``events`` with each landing's flight time set (and each gap noted for the next)."""
        for ev in events:
            if isinstance(ev, Gap):
                self._flights.gap(ev.t_on_s)
            elif isinstance(ev, Landing):
                ev.flight_ms = self._flights(ev)
        return events

    def _push_frames(self, t_s: np.ndarray, forces: np.ndarray, missing: np.ndarray | None) -> list:
        events: list = []
        cuts = self._gap_cuts(t_s)
        self._last_t = float(t_s[-1])
        # a contact's frames are read from the trackers' rings when it completes, so a block
        # must not be longer than the rings keep
        step = self.feet[0].tracker.step if self.feet else len(t_s)
        cuts = cuts.tolist()
        bounds = [0, *(c for c in cuts if c > 0), len(t_s)]     # a gap before frame 0: one part, gapped
        for a0, a1 in zip(bounds[:-1], bounds[1:]):
            if a0 in cuts:
                events.extend(self._gap(float(t_s[a0])))
            for a in range(a0, a1, step):
                b = min(a + step, a1)
                events.extend(self._push(t_s[a:b], forces[a:b], None if missing is None else missing[a:b]))
        return events

    def _gap_cuts(self, t_s: np.ndarray) -> np.ndarray:
        """Indices of the block's frames that follow a gap (:func:`gap_starts`, the previous
        block's last frame included); a live block of a few frames is checked in Python, where
        numpy's calls cost more than the check."""
        if len(t_s) <= 16:
            ts = t_s.tolist()
            prev = [self._last_t] if self._last_t is not None else []
            both = prev + ts
            g = gap_s(self.rate_hz)
            return np.array([i + 1 - len(prev) for i in range(len(both) - 1) if both[i + 1] - both[i] >= g],
                            dtype=np.intp)
        prev = np.array([self._last_t]) if self._last_t is not None else t_s[:0]
        return gap_starts(np.concatenate([prev, t_s]), self.rate_hz) - len(prev)

    def _gap(self, t_resume_s: float) -> list:
        events: list = []
        for ft in self.feet:
            events.extend(self._finished(ft, ft.tracker.gap()))
        return events + [Gap(t_resume_s)]

    def _push(self, t_s: np.ndarray, forces: np.ndarray, missing: np.ndarray | None = None) -> list:
        events: list = []
        for ft in self.feet:
            if missing is None and not ft.unsampled:
                events.extend(self._finished(ft, ft.tracker.push(t_s, forces[:, ft.idx])))
            else:
                events.extend(self._push_with_holes(ft, t_s, forces[:, ft.idx],
                                                    np.zeros(len(t_s), bool) if missing is None
                                                    else missing[:, ft.idx].any(axis=1)))
            c = ft.tracker.open_contact
            # only while the foot is still down: a knock that has already ended gets no verdict
            if (self.verdicts and c is not None and not c.partial and ft.verdict_for != c.start
                    and ft.tracker.state == ft.tracker.ON):
                tr = ft.tracker
                if tr.n > c.detect and tr.last_t_s >= c.t_on_s + self._decide_after_s:
                    events.append(self._verdict(ft, c, tr.n))
        events.sort(key=lambda e: e.t_on_s)
        return events

    def _push_with_holes(self, ft: _Foot, t_s: np.ndarray, f: np.ndarray, miss: np.ndarray) -> list:
        """One foot's frames, some not sampled (``miss``): they are left out of its tracker, as
        frames lost are. A hole as long as a gap in the frames (:func:`gap_starts`) is one for
        this foot: its open contact ends unmeasured, and a :class:`Gap` of this foot comes as
        soon as the hole is that long (so no flight of the other foot is timed against this
        foot's toe-offs from before it) and again when its frames resume; a shorter hole (a
        reading or two) breaks nothing. The other feet go on."""
        events: list = []
        gap = gap_s(self.rate_hz)
        edges = np.flatnonzero(np.diff(np.concatenate([[ft.unsampled], miss]).astype(np.int8)))
        bounds = [0, *edges.tolist(), len(t_s)]
        for a, b in zip(bounds[:-1], bounds[1:]):
            if a == b:
                continue
            if miss[a]:
                if not ft.unsampled:
                    ft.unsampled, ft.hole_gapped = True, False
                    ft.hole_from = ft.tracker.last_t_s if ft.tracker.n else float(t_s[a])
                if not ft.hole_gapped and float(t_s[b - 1]) - ft.hole_from >= gap:
                    events.extend(self._hole(ft))
                continue
            if ft.unsampled:
                ft.unsampled = False
                if not ft.hole_gapped and float(t_s[a]) - ft.hole_from >= gap:
                    events.extend(self._hole(ft))
                if ft.hole_gapped:
                    events.append(Gap(float(t_s[a]), ft.foot))
            events.extend(self._finished(ft, ft.tracker.push(t_s[a:b], f[a:b])))
        return events

    def _hole(self, ft: _Foot) -> list:
        """A foot's hole has become a gap: its contact under way ends, unmeasured."""
        events = self._finished(ft, ft.tracker.gap())
        ft.hole_gapped = True
        return events + [Gap(ft.hole_from, ft.foot)]

    def open_path(self, foot: str, t_on_s: float) -> np.ndarray | None:
        """(k, 2) x, y: the COP path so far of ``foot``'s contact still under way that began at
        ``t_on_s`` (the live display draws the landing whose verdict it shows), or None when
        that contact is not under way."""
        for ft in self.feet:
            if ft.foot != foot:
                continue
            tr, c = ft.tracker, ft.tracker.open_contact
            if c is None or c.partial or abs(c.t_on_s - t_on_s) > 1e-9:
                return None
            start = max(c.start, tr.n - tr._cap + 1)        # the frames the ring still holds
            f = np.maximum(tr.forces(start, tr.n) - c.baseline_n, 0.0)
            total = f.sum(axis=1)
            loaded = total > max(c.off_n, 0.0)
            if not loaded.any():
                return np.zeros((0, 2))
            return np.column_stack([f[loaded] @ ft.x, f[loaded] @ ft.y]) / total[loaded, None]
        return None

    def finish(self) -> list:
        """End of the stream: complete what can be completed."""
        events: list = []
        for ft in self.feet:
            events.extend(self._finished(ft, ft.tracker.finish()))
        return self._timed(events)

    def _verdict(self, ft: _Foot, c: Contact, upto: int) -> Verdict:
        tr = ft.tracker
        s = strike_at_contact(tr.times(c.start, upto), tr.forces(c.start, upto), c, upto, ft.x, ft.y,
                              self.params, first=c.start)
        ft.verdict_for, ft.verdict_strike = c.start, s
        return Verdict(ft.foot, c.t_on_s, s.strike, s.strike_index, s.first_region)

    def _finished(self, ft: _Foot, contacts: list[Contact]) -> list:
        """The events of contacts just completed: each landing's verdict (if not given early:
        the same figures) and the landing, measured together from the frames the ring holds."""
        cs = [c for c in contacts if is_landing(c, self.params)]
        if not cs:
            return []
        tr = ft.tracker
        g0, g1 = min(c.start for c in cs), max(c.end for c in cs)
        # the usual live case, one landing whose verdict came early: its strike figures are known
        known = [ft.verdict_strike] if len(cs) == 1 and ft.verdict_for == cs[0].start else None
        out = []
        for c, l in zip(cs, landing_features(tr.times(g0, g1), tr.forces(g0, g1), cs, ft.x, ft.y, ft.foot,
                                             self.body_mass_kg, self.params, first=g0, strikes=known)):
            if ft.verdict_for != c.start and self.verdicts:
                out.append(Verdict(ft.foot, l.t_on_s, l.strike, l.strike_index, l.first_region))
                ft.verdict_for = c.start
            out.append(l)
        return out


#: frames pushed at a time offline: the landings a block completes are measured together
OFFLINE_BLOCK = 1 << 15


@dataclass
class Analysed:
    """What :func:`analyse_forces` found: every landing in time order, and ``breaks_s`` the
    times (s) at which either foot's frames stopped before a gap or resumed after one (a step
    in time, skipped lines, frames not sampled): no stride or flight is timed across one."""

    landings: list[Landing]
    breaks_s: np.ndarray


def analyse(t_s: np.ndarray, values: np.ndarray, layout: Layout, rate_hz: float | None = None,
            body_mass_kg: float | None = None, params: GaitParams = GaitParams()) -> list[Landing]:
    """Batch analysis of a whole recording: every landing of every foot, in time order.

    ``t_s`` (n,) s; ``values`` (n, n_sensors) stored values in the layout's column order;
    ``rate_hz`` defaults to the median frame rate of ``t_s``.
    """
    values = np.asarray(values, dtype=float)
    forces = Calibrator([s.calibration for s in layout])(values)
    return analyse_forces(t_s, forces, layout, rate_hz, body_mass_kg, params, not_sampled(values)).landings


def not_sampled(values: np.ndarray) -> np.ndarray | None:
    """(n, n_sensors) bool: the cells not sampled (NaN: its chip did not answer), which give
    their foot a gap; None when there are none. A sensor with no data at all is left out: it
    reads no load (and the reader notes it), or its foot would have no frame at all."""
    missing = ~np.isfinite(values)
    missing[:, missing.all(axis=0)] = False
    return missing if missing.any() else None


def analyse_forces(t_s: np.ndarray, forces: np.ndarray, layout: Layout, rate_hz: float | None = None,
                   body_mass_kg: float | None = None, params: GaitParams = GaitParams(),
                   missing: np.ndarray | None = None, breaks=()) -> Analysed:
    """:func:`analyse` on forces already in newtons (``(n, n_sensors)``, the layout's order), by
    the live core (:class:`StreamingGait`) in blocks of :data:`OFFLINE_BLOCK` frames.

    ``missing`` ((n, n_sensors) bool, or None): sensors not sampled in a frame (an empty cell of
    samples.csv); that foot has a gap there and the other foot is whole. ``breaks``: indices of
    frames that follow skipped lines (a gap for both feet, however short)."""
    t_s = np.asarray(t_s, dtype=float)
    n = len(t_s)
    if rate_hz is None:
        rate_hz = 1.0 / float(np.median(np.diff(t_s))) if n > 1 else 100.0
    g = StreamingGait(layout, rate_hz, body_mass_kg, params, block=OFFLINE_BLOCK, verdicts=False)
    events: list = []
    cuts = sorted({int(b) for b in np.asarray(breaks, dtype=np.intp).tolist() if 0 < b < n})
    for a0, a1 in zip([0, *cuts], [*cuts, n]):
        if a0:
            events.extend(g.resume(float(t_s[a0])))
        for a in range(a0, a1, OFFLINE_BLOCK):
            b = min(a + OFFLINE_BLOCK, a1)
            events.extend(g.push_forces(t_s[a:b], forces[a:b], None if missing is None else missing[a:b]))
    events.extend(g.finish())
    landings = sorted((e for e in events if isinstance(e, Landing)), key=lambda l: l.t_on_s)
    return Analysed(landings, np.unique(np.array([e.t_on_s for e in events if isinstance(e, Gap)], dtype=float)))
