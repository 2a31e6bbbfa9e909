"""Landing features: what is measured of each landing, by one implementation.

:func:`landing_features` takes any number of contacts of one foot (one, as the live loop
completes it; all of a recording's, offline) and reduces them together: each contact's frames
are padded into arrays, so a session's thousands of landings cost a few numpy calls per group
rather than a few per landing. :func:`strike_at_contact` is its first part alone, for the early
verdict the live loop gives before toe-off. The definitions:

* strike index, first region and rearfoot lag at initial contact; the class from them by the
  rule of :mod:`analysis.strike`;
* ``peak_force_n``: the largest summed force of the contact, N;
* ``loading_rate_bw_s``: from 200 N to 90 % of the first peak (the impact peak of a heel landing,
  else the single peak), BW/s (Lieberman et al. 2010);
* ``cop_path``: the COP of every frame above the off-level, fractions of the foot.

Frames are given as ``t_s`` (n,) s and ``force_n`` (n, k) N, the foot's raw calibrated forces
(before each contact's baseline is taken off), with ``first`` the global index of their frame 0:
a contact's frames ``[c.start, c.end)`` are ``t_s[c.start - first:c.end - first]``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from .contacts import Contact, ContactParams
from .layout import REARFOOT_Y, region_of
from .strike import StrikeParams, classify

G = 9.80665   # m/s², standard gravity: body weight (BW) = mass × G


@dataclass(frozen=True)
class GaitParams:
    contact: ContactParams = ContactParams()
    strike: StrikeParams = StrikeParams()
    loading_from_n: float = 200.0     # loading rate from this force… (Lieberman et al. 2010)
    loading_to_frac: float = 0.9      # …to this share of the first (impact) peak
    #: the first peak ends where the force has fallen this share of the contact's peak below its
    #: running maximum (the dip after a heel landing's impact transient)
    peak_drop_frac: float = 0.05


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
    flight_ms: float | None = None   # aerial time before this landing (analysis.summary.FlightTimer)
    cop_path: np.ndarray = field(default_factory=lambda: np.empty((0, 2)), repr=False)  # (m, 2) x, y

    def csv_row(self) -> dict:
        d = asdict(self)
        d.pop("cop_path")
        return d


@dataclass(frozen=True)
class StrikeAtContact:
    """The strike class of a contact and what decided it (see :mod:`analysis.strike`)."""

    strike: str
    strike_index: float          # %, NaN when no force was seen in the window
    first_region: str | None
    rear_lag_ms: float | None    # None: the rearfoot took no load in the window (or has no sensor)


_GROUP = 256        # landings padded together; grouped by length so one long contact stays cheap


def _first_true(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: index of the first True, and whether there is one."""
    return mask.argmax(axis=1), mask.any(axis=1)


def _crossing_times(t: np.ndarray, v: np.ndarray, level: np.ndarray, usable: np.ndarray, at_first=None):
    """Per row, the first time ``v`` reaches ``level`` among the ``usable`` frames (a prefix of
    each row), interpolated linearly between frames; NaN if never; ``at_first`` (if not None)
    where the first frame already reaches it (the crossing was at or before it), else its time."""
    rows = np.arange(len(v))
    i, hit = _first_true((v >= level[:, None]) & usable)
    ip = np.maximum(i - 1, 0)
    v0, v1 = v[rows, ip], v[rows, i]
    t0, t1 = t[rows, ip], t[rows, i]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(v1 != v0, (level - v0) / (v1 - v0), 1.0)
    out = np.where(i == 0, t1 if at_first is None else at_first, t0 + frac * (t1 - t0))
    return np.where(hit, out, np.nan)


class _Padded:
    """Contacts of one foot padded into (m, L) arrays: ``t`` s, ``f`` baseline-corrected forces
    (m, L, k) N (0 outside a contact), ``inside`` which cells are the contact's frames."""

    def __init__(self, t_s, force_n, cs: list[Contact], first: int, ends: list[int] | None = None):
        self.cs = cs
        self.start = np.array([c.start for c in cs]) - first
        self.length = np.array(ends if ends is not None else [c.end for c in cs]) - first - self.start
        L = int(self.length.max())
        self.col = np.arange(L)
        self.inside = self.col[None, :] < self.length[:, None]
        frame = np.minimum(self.start[:, None] + self.col[None, :], len(t_s) - 1)
        self.t = t_s[frame]
        base = np.array([c.baseline_n for c in cs])
        f = force_n[frame] - base[:, None, :]
        f[~self.inside] = 0.0
        self.f = f
        self.fp = np.maximum(f, 0.0)
        self.t_on = np.array([c.t_on_s for c in cs])


def _initial_contact(p: _Padded, x, y, sp: StrikeParams):
    """Strike index (%), the y of the first loaded sensor, and the rearfoot lag (ms, NaN: none
    in the window) of each padded contact.

    The SI is the COP along the foot over the frames from the contact's first (at or above the
    edge level) to the one it was detected in, forces summed (Cavanagh & Lafortune 1980); the
    rearfoot "takes load" when its summed force reaches ``rear_level_frac`` of the detection
    level within ``flat_window_ms`` of contact; already there in the first frame is a lag of 0
    (the interpolated contact time lies before that frame), not one frame."""
    cs = p.cs
    det = np.array([c.detect - c.start for c in cs])
    window = (p.fp * (p.col[None, :] <= det[:, None])[:, :, None]).sum(axis=1)     # (m, k)
    w_total = window.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        si = np.where(w_total > 0, 100.0 * (window @ y) / w_total, np.nan)
    first_y = y[p.fp[:, 0, :].argmax(axis=1)]
    rear = y < REARFOOT_Y
    lag = np.full(len(cs), np.nan)
    if rear.any():
        on = np.array([c.on_n for c in cs])
        in_window = p.inside & (p.t <= (p.t_on + sp.flat_window_ms / 1000.0 + 1e-9)[:, None])
        t_rear = _crossing_times(p.t, p.fp[:, :, rear].sum(axis=2), on * sp.rear_level_frac, in_window, -np.inf)
        lag = np.maximum(0.0, (t_rear - p.t_on) * 1000.0)
    return si, first_y, lag


def _strikes(si, first_y, lag, sp: StrikeParams) -> list[StrikeAtContact]:
    out = []
    for s_i, y_i, lag_i in zip(si.tolist(), first_y.tolist(), lag.tolist()):
        lag_i = None if np.isnan(lag_i) else lag_i
        # no force in the window (NaN SI): nothing says where the foot landed; midfoot, the
        # class between the two the SI would decide
        strike = classify(s_i, lag_i, sp) if np.isfinite(s_i) else "midfoot"
        out.append(StrikeAtContact(strike, s_i, region_of(y_i), lag_i))
    return out


def strike_at_contact(t_s: np.ndarray, force_n: np.ndarray, c: Contact, upto: int, x: np.ndarray,
                      y: np.ndarray, params: GaitParams = GaitParams(), first: int = 0) -> StrikeAtContact:
    """The strike class of contact ``c`` from its frames up to global frame ``upto`` (exclusive),
    which must reach ``flat_window_ms`` past contact; the same as its landing's, given later."""
    return _strikes(*_initial_contact(_Padded(t_s, force_n, [c], first, [upto]), x, y, params.strike),
                    params.strike)[0]


def landing_features(t_s: np.ndarray, force_n: np.ndarray, contacts: list[Contact],
                     x: np.ndarray, y: np.ndarray, foot: str, body_mass_kg: float | None,
                     params: GaitParams = GaitParams(), first: int = 0,
                     strikes: list[StrikeAtContact] | None = None) -> list[Landing]:
    """The :class:`Landing` of each contact of one foot (complete ones, in the given order).

    ``t_s``, ``force_n``, ``first``: frames holding every contact (module docstring);
    ``x``, ``y`` (k,): the foot's sensor positions, fractions of the foot; ``body_mass_kg``
    (None: unknown) gives the BW figures. ``strikes``: each contact's
    :func:`strike_at_contact`, where the live loop has it already from its early verdict (the
    same frames give the same figures, so they are not measured twice).
    """
    order = sorted(range(len(contacts)), key=lambda i: contacts[i].end - contacts[i].start)
    out: list[Landing | None] = [None] * len(contacts)
    for g in range(0, len(order), _GROUP):
        idx = order[g:g + _GROUP]
        known = None if strikes is None else [strikes[i] for i in idx]
        for i, landing in zip(idx, _group(_Padded(t_s, force_n, [contacts[i] for i in idx], first),
                                          x, y, foot, body_mass_kg, params, known)):
            out[i] = landing
    return out


def _group(p: _Padded, x, y, foot, body_mass_kg, params: GaitParams, strikes=None) -> list[Landing]:
    m = len(p.cs)
    rows, col = np.arange(m), p.col
    if strikes is None:
        strikes = _strikes(*_initial_contact(p, x, y, params.strike), params.strike)

    # force: peak and loading rate (to the first peak: where the force has first fallen
    # ``peak_drop_frac`` of the peak below its running maximum, the maximum before that)
    total = np.where(p.inside, p.f.sum(axis=2), -np.inf)
    peak = total.max(axis=1)
    bw = body_mass_kg * G if body_mass_kg else None
    lr = np.full(m, np.nan)
    if bw:
        fall = total < np.maximum.accumulate(total, axis=1) - params.peak_drop_frac * peak[:, None]
        i_fall, any_fall = _first_true(fall)
        stop = np.where(any_fall, np.maximum(1, i_fall), p.length)
        i_pk = np.where(col[None, :] < stop[:, None], total, -np.inf).argmax(axis=1)
        top = params.loading_to_frac * total[rows, i_pk]
        upto = col[None, :] <= i_pk[:, None]
        t_a = _crossing_times(p.t, total, np.full(m, params.loading_from_n), upto)
        t_b = _crossing_times(p.t, total, top, upto)
        with np.errstate(invalid="ignore", divide="ignore"):
            ok = (top > params.loading_from_n) & (t_b > t_a)
            lr = np.where(ok, (top - params.loading_from_n) / (t_b - t_a) / bw, np.nan)

    # COP path of every frame above the off-level
    off = np.array([c.off_n for c in p.cs])
    ftot = p.fp.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = (p.fp @ x) / ftot
        cy = (p.fp @ y) / ftot
    loaded = p.inside & (ftot > np.maximum(off, 0.0)[:, None])

    out = []
    for i, (c, s) in enumerate(zip(p.cs, strikes)):
        ok_i = loaded[i]
        out.append(Landing(
            foot=foot, t_on_s=c.t_on_s, t_off_s=c.t_off_s, contact_ms=c.contact_ms,
            strike=s.strike, strike_index=s.strike_index, first_region=s.first_region,
            rear_lag_ms=s.rear_lag_ms,
            peak_force_n=float(peak[i]), peak_force_bw=float(peak[i]) / bw if bw else None,
            loading_rate_bw_s=None if np.isnan(lr[i]) else float(lr[i]),
            cop_path=np.column_stack([cx[i][ok_i], cy[i][ok_i]])))
    return out
