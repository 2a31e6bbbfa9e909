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
from .contacts import Contact, ContactTracker, detect_contacts
from .features import G, GaitParams, Landing, landing_features, strike_at_contact  # noqa: F401
from .layout import Layout
from .summary import FlightTimer, flights_before

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


def gap_starts(t_s: np.ndarray, rate_hz: float) -> np.ndarray:
    """Indices i where frame i follows a gap: ``t_s[i] - t_s[i-1]`` of ``GAP_PERIODS`` periods
    and ``GAP_MIN_S`` or more."""
    return np.flatnonzero(np.diff(t_s) >= max(GAP_PERIODS / rate_hz, GAP_MIN_S)) + 1


def is_landing(c: Contact, params: GaitParams) -> bool:
    return not c.partial and c.contact_ms >= params.contact.min_contact_ms


class _Foot:
    def __init__(self, foot, idx, layout, rate_hz, params):
        self.foot, self.idx = foot, idx
        self.x, self.y = layout.x[idx], layout.y[idx]
        self.tracker = ContactTracker(len(idx), rate_hz, params.contact)
        self.verdict_for: int | None = None   # start frame of the contact already given a verdict
        self.unsampled = False                # in frames where this foot's sensors were not sampled
        self.hole_from = 0.0                  # s: its last frame sampled before them
        self.hole_gapped = False              # the hole has lasted a gap's length


class StreamingGait:
    """Live gait analysis of a whole layout (all feet), frame blocks in, events out.

    ``push(t_s, values)`` takes ``(n,)`` times in s and ``(n, n_sensors)`` stored values in the
    layout's column order and returns the :class:`Verdict` and :class:`Landing` events that the
    block completed, in order.
    """

    def __init__(self, layout: Layout, rate_hz: float, body_mass_kg: float | None = None,
                 params: GaitParams = GaitParams()):
        self.layout, self.rate_hz, self.body_mass_kg, self.params = layout, rate_hz, body_mass_kg, params
        self.calibrate = Calibrator([s.calibration for s in layout])
        self.feet = [_Foot(f, layout.index[f], layout, rate_hz, params) for f in layout.feet]
        self._decide_after_s = max(params.contact.min_contact_ms, params.strike.flat_window_ms) / 1000.0
        self._last_t: float | None = None
        self._flights = FlightTimer(layout.feet)

    def push(self, t_s: np.ndarray, values: np.ndarray) -> list:
        return self._timed(self._push_all(t_s, values))

    def _timed(self, events: list) -> list:
        """``events`` with each landing's flight time set (and each gap noted for the next)."""
        for ev in events:
            if isinstance(ev, Gap):
                self._flights.gap(ev.t_on_s)
            elif isinstance(ev, Landing):
                ev.flight_ms = self._flights(ev)
        return events

    def _push_all(self, t_s: np.ndarray, values: np.ndarray) -> list:
        t_s = np.asarray(t_s, dtype=float)
        if len(t_s) == 0:
            return []
        values = np.asarray(values).reshape(len(t_s), -1)
        # NaN: a sensor not sampled in that frame (its chip did not answer); its foot has a gap
        missing = ~np.isfinite(values) if values.dtype.kind == "f" else None
        if missing is not None and not missing.any():
            missing = None
        forces = self.calibrate(values)
        events: list = []
        prev = np.array([self._last_t]) if self._last_t is not None else t_s[:0]
        cuts = gap_starts(np.concatenate([prev, t_s]), self.rate_hz) - len(prev)
        self._last_t = float(t_s[-1])
        # a contact's frames are read from the trackers' rings when it completes, so a block
        # must not be longer than the rings keep
        step = self.feet[0].tracker.fr.horizon if self.feet else len(t_s)
        bounds = [0, *cuts.tolist(), len(t_s)]
        for a0, a1 in zip(bounds[:-1], bounds[1:]):
            if a0 in cuts:
                events.extend(self._gap(float(t_s[a0])))
            for a in range(a0, a1, step):
                b = min(a + step, a1)
                events.extend(self._push(t_s[a:b], forces[a:b], None if missing is None else missing[a:b]))
        return events

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
            if c is not None and not c.partial and ft.verdict_for != c.start and ft.tracker.state == ft.tracker.ON:
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
        gap_s = max(GAP_PERIODS / self.rate_hz, GAP_MIN_S)
        edges = np.flatnonzero(np.diff(np.concatenate([[ft.unsampled], miss]).astype(np.int8)))
        bounds = [0, *edges.tolist(), len(t_s)]
        for a, b in zip(bounds[:-1], bounds[1:]):
            if a == b:
                continue
            if miss[a]:
                if not ft.unsampled:
                    ft.unsampled, ft.hole_gapped = True, False
                    ft.hole_from = ft.tracker.last_t_s if ft.tracker.n else float(t_s[a])
                if not ft.hole_gapped and float(t_s[b - 1]) - ft.hole_from >= gap_s:
                    events.extend(self._hole(ft))
                continue
            if ft.unsampled:
                ft.unsampled = False
                if not ft.hole_gapped and float(t_s[a]) - ft.hole_from >= gap_s:
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
        ft.verdict_for = c.start
        return Verdict(ft.foot, c.t_on_s, s.strike, s.strike_index, s.first_region)

    def _finished(self, ft: _Foot, contacts: list[Contact]) -> list:
        """The events of contacts just completed: each landing's verdict (if not given early:
        the same figures) and the landing, measured together from the frames the ring holds."""
        cs = [c for c in contacts if is_landing(c, self.params)]
        if not cs:
            return []
        tr = ft.tracker
        g0, g1 = min(c.start for c in cs), max(c.end for c in cs)
        out = []
        for c, l in zip(cs, landing_features(tr.times(g0, g1), tr.forces(g0, g1), cs, ft.x, ft.y, ft.foot,
                                             self.body_mass_kg, self.params, first=g0)):
            if ft.verdict_for != c.start:
                out.append(Verdict(ft.foot, l.t_on_s, l.strike, l.strike_index, l.first_region))
                ft.verdict_for = c.start
            out.append(l)
        return out


def analyse(t_s: np.ndarray, values: np.ndarray, layout: Layout, rate_hz: float | None = None,
            body_mass_kg: float | None = None, params: GaitParams = GaitParams()) -> list[Landing]:
    """Batch analysis of a whole recording: every landing of every foot, in time order.

    ``t_s`` (n,) s; ``values`` (n, n_sensors) stored values in the layout's column order;
    ``rate_hz`` defaults to the median frame rate of ``t_s``.
    """
    values = np.asarray(values, dtype=float)
    forces = Calibrator([s.calibration for s in layout])(values)
    return analyse_forces(t_s, forces, layout, rate_hz, body_mass_kg, params, not_sampled(values))


def not_sampled(values: np.ndarray) -> np.ndarray | None:
    """(n, n_sensors) bool: the cells not sampled (NaN: its chip did not answer), which give
    their foot a gap; None when there are none. A sensor with no data at all is left out: it
    reads no load (and the reader notes it), or its foot would have no frame at all."""
    missing = ~np.isfinite(values)
    missing[:, missing.all(axis=0)] = False
    return missing if missing.any() else None


def analyse_forces(t_s: np.ndarray, forces: np.ndarray, layout: Layout, rate_hz: float | None = None,
                   body_mass_kg: float | None = None, params: GaitParams = GaitParams(),
                   missing: np.ndarray | None = None, breaks=()) -> list[Landing]:
    """:func:`analyse` on forces already in newtons (``(n, n_sensors)``, the layout's order).

    ``missing`` ((n, n_sensors) bool, or None): sensors not sampled in a frame (an empty cell of
    samples.csv); that foot has a gap there and the other foot is whole. ``breaks``: indices of
    frames that follow skipped lines (a gap for both feet, however short)."""
    t_s = np.asarray(t_s, dtype=float)
    if rate_hz is None:
        rate_hz = 1.0 / float(np.median(np.diff(t_s))) if len(t_s) > 1 else 100.0
    out: list[Landing] = []
    breaks_s = [np.zeros(0)]
    for foot in layout.feet:
        idx = layout.index[foot]
        rows, resume_i = foot_frames(t_s, rate_hz, idx, missing, breaks)
        tf = t_s if rows is None else t_s[rows]
        breaks_s.append(_break_times(tf, resume_i, rows is not None))
        f = np.ascontiguousarray(forces[:, idx] if rows is None else forces[rows][:, idx])
        landings = [c for c in detect_contacts(tf, f, rate_hz, params.contact) if is_landing(c, params)]
        found = landing_features(tf, f, landings, layout.x[idx], layout.y[idx], foot,
                                 body_mass_kg, params) if landings else []
        # frames lost (gaps): no landing is measured across one, nor a flight (as live: StreamingGait)
        resume = tf[resume_i]
        if resume.size:
            # a contact that touches a gap at all is dropped: one that spans it, one found already
            # down when frames resume, and one whose sub-frame onset lands inside the gap (the foot
            # rising on the last frame before it), which is timed across the gap as much as the others
            stop = tf[resume_i - 1]
            found = [l for l in found if not np.any((l.t_on_s <= resume) & (l.t_off_s >= stop))
                     and not np.any(np.isclose(l.t_on_s, resume))]
        out.extend(found)
    out.sort(key=lambda l: l.t_on_s)
    for l, flight in flights_before(out, layout.feet, np.unique(np.concatenate(breaks_s))):
        l.flight_ms = flight
    return out


def foot_frames(t_s: np.ndarray, rate_hz: float, idx, missing: np.ndarray | None = None,
                breaks=()) -> tuple[np.ndarray | None, np.ndarray]:
    """(the frames in which every sensor ``idx`` of one foot was sampled, as indices into
    ``t_s``, or None for all of them; the indices, into those frames, of each that follows a gap:
    a step in time (:func:`gap_starts`, which a hole of frames not sampled makes when it is as
    long as a gap), or one of ``breaks``)."""
    rows = None
    if missing is not None:
        miss = missing[:, idx].any(axis=1)
        if miss.any():
            rows = np.flatnonzero(~miss)
    tf = t_s if rows is None else t_s[rows]
    # frames not sampled are left out: a hole as long as a gap shows as a step in time
    parts = [gap_starts(tf, rate_hz)]
    b = np.asarray(breaks, dtype=np.intp)
    if b.size:
        parts.append(b if rows is None else np.searchsorted(rows, b))
    resume = np.unique(np.concatenate(parts)).astype(np.intp)
    return rows, resume[(resume > 0) & (resume < len(tf))]


def resume_times(t_s: np.ndarray, rate_hz: float, layout: Layout, missing: np.ndarray | None = None,
                 breaks=()) -> np.ndarray:
    """Times (s) at which either foot's frames resumed after a gap (see :func:`foot_frames`):
    no stride or flight is timed across one."""
    out = [np.zeros(0)]
    for foot in layout.feet:
        rows, resume = foot_frames(t_s, rate_hz, layout.index[foot], missing, breaks)
        out.append(_break_times(t_s if rows is None else t_s[rows], resume, rows is not None))
    return np.unique(np.concatenate(out))


def _break_times(tf: np.ndarray, resume: np.ndarray, holed: bool) -> np.ndarray:
    """One foot's break times (s): where its frames resume after a gap and, where it has holes
    (frames not sampled), where they stopped too: no flight is timed into a hole."""
    return np.concatenate([tf[resume], tf[resume - 1]]) if holed else tf[resume]
