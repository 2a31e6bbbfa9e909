"""The gait core: stored values → newtons → contacts → landings with their features.

Two forms of one computation:

* :class:`StreamingGait` — used live: frames arrive in blocks of any size (one frame included),
  memory is constant, and each landing gives an early :class:`Verdict` (within ~40 ms of
  contact, for same-step feedback) and then a full :class:`Landing` after toe-off.
* :func:`analyse` — used offline: the whole recording at once, vectorised.

Both find contacts with the same state machine (:mod:`analysis.contacts`) and compute every
feature with the same function (:func:`landing_features`), so they agree landing for landing
(tested in ``tests/test_gait_agreement.py``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from .calibration import Calibrator
from .contacts import Contact, ContactParams, ContactTracker, detect_contacts
from .cop import cop
from .layout import Layout
from .strike import StrikeParams, crossing_time, initial_contact

G = 9.80665   # m/s², standard gravity: body weight (BW) = mass × G


@dataclass(frozen=True)
class GaitParams:
    contact: ContactParams = ContactParams()
    strike: StrikeParams = StrikeParams()
    loading_from_n: float = 200.0     # loading rate from this force… (Lieberman et al. 2010)
    loading_to_frac: float = 0.9      # …to this share of the first (impact) peak


@dataclass(frozen=True)
class Verdict:
    """The strike class of a landing, known within the first ~40 ms of contact."""

    foot: str
    t_on_s: float
    strike: str
    strike_index: float
    first_region: str | None


@dataclass
class Landing:
    """One landing (a complete contact) of one foot. Times in s, forces in N, BW = body weight."""

    foot: str
    t_on_s: float
    t_off_s: float
    contact_ms: float
    strike: str
    strike_index: float
    first_region: str | None
    rear_lag_ms: float | None
    peak_force_n: float
    peak_force_bw: float | None
    loading_rate_bw_s: float | None
    cop_path: np.ndarray = field(default_factory=lambda: np.empty((0, 2)), repr=False)  # (m, 2) x, y

    CSV_COLUMNS = ("foot", "t_on_s", "t_off_s", "contact_ms", "strike", "strike_index",
                   "first_region", "rear_lag_ms", "peak_force_n", "peak_force_bw", "loading_rate_bw_s")

    def csv_row(self) -> dict:
        d = asdict(self)
        d.pop("cop_path")
        return d


def _first_peak_index(total: np.ndarray, drop_frac: float = 0.05) -> int:
    """Index of the first peak of a force curve: the maximum before the force first falls
    ``drop_frac`` of the overall peak below its running maximum (the impact peak of a heel
    landing; the single peak of a landing without an impact transient)."""
    peak = total.max()
    fall = np.flatnonzero(total < np.maximum.accumulate(total) - drop_frac * peak)
    stop = max(1, int(fall[0])) if fall.size else len(total)
    return int(np.argmax(total[:stop]))


def landing_features(t_s: np.ndarray, raw_force_n: np.ndarray, c: Contact, x: np.ndarray,
                     y: np.ndarray, foot: str, body_mass_kg: float | None,
                     params: GaitParams = GaitParams()) -> Landing:
    """Features of one contact from its frames ``[c.start, c.end)``.

    ``t_s`` (n,) s and ``raw_force_n`` (n, k) N: the contact's frames, forces before the
    contact's baseline is taken off.
    """
    f = raw_force_n - c.baseline_n
    ic = initial_contact(t_s, f, x, y, c.t_on_s, c.detect - c.start, c.on_n, params.strike)
    total = f.sum(axis=1)
    peak = float(total.max())
    bw = body_mass_kg * G if body_mass_kg else None
    lr = None
    if bw:
        i_pk = _first_peak_index(total)
        top = params.loading_to_frac * float(total[i_pk])
        if top > params.loading_from_n:
            t_a = crossing_time(t_s[: i_pk + 1], total[: i_pk + 1], params.loading_from_n)
            t_b = crossing_time(t_s[: i_pk + 1], total[: i_pk + 1], top)
            if t_a is not None and t_b is not None and t_b > t_a:
                lr = (top - params.loading_from_n) / (t_b - t_a) / bw
    cx, cy = cop(f, x, y, c.off_n)
    ok = np.isfinite(cy)
    return Landing(foot=foot, t_on_s=c.t_on_s, t_off_s=c.t_off_s, contact_ms=c.contact_ms,
                   strike=ic["strike"], strike_index=ic["strike_index"],
                   first_region=ic["first_region"], rear_lag_ms=ic["rear_lag_ms"],
                   peak_force_n=peak, peak_force_bw=peak / bw if bw else None,
                   loading_rate_bw_s=lr, cop_path=np.column_stack([cx[ok], cy[ok]]))


def is_landing(c: Contact, params: GaitParams) -> bool:
    return not c.partial and c.contact_ms >= params.contact.min_contact_ms


class _Foot:
    def __init__(self, foot, idx, layout, rate_hz, params):
        self.foot, self.idx = foot, idx
        self.x, self.y = layout.x[idx], layout.y[idx]
        self.tracker = ContactTracker(len(idx), rate_hz, params.contact)
        self.verdict_for: int | None = None   # start frame of the contact already given a verdict


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

    def push(self, t_s: np.ndarray, values: np.ndarray) -> list:
        t_s = np.asarray(t_s, dtype=float)
        forces = self.calibrate(np.asarray(values, dtype=float).reshape(len(t_s), -1))
        events: list = []
        # a contact's frames are read from the trackers' rings when it completes, so a block
        # must not be longer than the rings keep
        step = self.feet[0].tracker.fr.horizon if self.feet else len(t_s)
        for a in range(0, len(t_s), step):
            events.extend(self._push(t_s[a:a + step], forces[a:a + step]))
        return events

    def _push(self, t_s: np.ndarray, forces: np.ndarray) -> list:
        events: list = []
        for ft in self.feet:
            for c in ft.tracker.push(t_s, forces[:, ft.idx]):
                events.extend(self._finished(ft, c))
            c = ft.tracker.open_contact
            if c is not None and not c.partial and ft.verdict_for != c.start:
                tr = ft.tracker
                if tr.n > c.detect and float(tr.times(tr.n - 1, tr.n)[0]) >= c.t_on_s + self._decide_after_s:
                    events.append(self._verdict(ft, c, tr.n))
        events.sort(key=lambda e: e.t_on_s)
        return events

    def finish(self) -> list:
        """End of the stream: complete what can be completed."""
        events: list = []
        for ft in self.feet:
            for c in ft.tracker.finish():
                events.extend(self._finished(ft, c))
        return events

    def _verdict(self, ft: _Foot, c: Contact, upto: int) -> Verdict:
        tr = ft.tracker
        ic = initial_contact(tr.times(c.start, upto), tr.forces(c.start, upto) - c.baseline_n,
                             ft.x, ft.y, c.t_on_s, c.detect - c.start, c.on_n, self.params.strike)
        ft.verdict_for = c.start
        return Verdict(ft.foot, c.t_on_s, ic["strike"], ic["strike_index"], ic["first_region"])

    def _finished(self, ft: _Foot, c: Contact) -> list:
        if not is_landing(c, self.params):
            return []
        tr = ft.tracker
        out = []
        if ft.verdict_for != c.start:
            out.append(self._verdict(ft, c, c.end))
        out.append(landing_features(tr.times(c.start, c.end), tr.forces(c.start, c.end), c,
                                    ft.x, ft.y, ft.foot, self.body_mass_kg, self.params))
        return out


def analyse(t_s: np.ndarray, values: np.ndarray, layout: Layout, rate_hz: float | None = None,
            body_mass_kg: float | None = None, params: GaitParams = GaitParams()) -> list[Landing]:
    """Batch analysis of a whole recording: every landing of every foot, in time order.

    ``t_s`` (n,) s; ``values`` (n, n_sensors) stored values in the layout's column order;
    ``rate_hz`` defaults to the median frame rate of ``t_s``.
    """
    t_s = np.asarray(t_s, dtype=float)
    if rate_hz is None:
        rate_hz = 1.0 / float(np.median(np.diff(t_s))) if len(t_s) > 1 else 100.0
    forces = Calibrator([s.calibration for s in layout])(np.asarray(values, dtype=float))
    out: list[Landing] = []
    for foot in layout.feet:
        idx = layout.index[foot]
        f = np.ascontiguousarray(forces[:, idx])
        x, y = layout.x[idx], layout.y[idx]
        for c in detect_contacts(t_s, f, rate_hz, params.contact):
            if is_landing(c, params):
                out.append(landing_features(t_s[c.start:c.end], f[c.start:c.end], c, x, y, foot,
                                            body_mass_kg, params))
    out.sort(key=lambda l: l.t_on_s)
    return out
