"""Landing features: what is measured of each landing, in two forms.

:func:`landing_features` takes one contact (the live loop, one landing at a time);
:func:`landing_features_batch` takes all the landings of one foot at once, padded into arrays
and reduced together (the offline report, where thousands of small numpy calls per session would
dominate). They compute the same quantities by the same definitions and are tested to agree:

* strike index, strike class, first region and rearfoot lag: :mod:`analysis.strike`;
* ``peak_force_n``: the largest summed force of the contact, N;
* ``loading_rate_bw_s``: from 200 N to 90 % of the first peak (the impact peak of a heel landing,
  else the single peak), BW/s (Lieberman et al. 2010);
* ``cop_path``: the COP of every frame above the off-level, fractions of the foot.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from .contacts import Contact, ContactParams
from .cop import cop
from .layout import REARFOOT_Y, region_of
from .strike import StrikeParams, classify, crossing_time, initial_contact

G = 9.80665   # m/s², standard gravity: body weight (BW) = mass × G


@dataclass(frozen=True)
class GaitParams:
    contact: ContactParams = ContactParams()
    strike: StrikeParams = StrikeParams()
    loading_from_n: float = 200.0     # loading rate from this force… (Lieberman et al. 2010)
    loading_to_frac: float = 0.9      # …to this share of the first (impact) peak


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
    flight_ms: float | None = None   # aerial time before this landing (analysis.summary)
    cop_path: np.ndarray = field(default_factory=lambda: np.empty((0, 2)), repr=False)  # (m, 2) x, y

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



_GROUP = 256        # landings padded together; grouped by length so one long contact stays cheap


def _first_true(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: index of the first True, and whether there is one."""
    return mask.argmax(axis=1), mask.any(axis=1)


def _crossing_times(t: np.ndarray, v: np.ndarray, level: np.ndarray, usable: np.ndarray, at_first=None):
    """Vectorised :func:`analysis.strike.crossing_time`: per row, the first time ``v`` reaches
    ``level`` among the ``usable`` frames (a prefix of each row), interpolated; NaN if never;
    ``at_first`` (if not None) where the first frame already reaches it."""
    rows = np.arange(len(v))
    i, hit = _first_true((v >= level[:, None]) & usable)
    ip = np.maximum(i - 1, 0)
    v0, v1 = v[rows, ip], v[rows, i]
    t0, t1 = t[rows, ip], t[rows, i]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(v1 != v0, (level - v0) / (v1 - v0), 1.0)
    out = np.where(i == 0, t1 if at_first is None else at_first, t0 + frac * (t1 - t0))
    return np.where(hit, out, np.nan)


def landing_features_batch(t_s: np.ndarray, force_n: np.ndarray, contacts: list[Contact],
                           x: np.ndarray, y: np.ndarray, foot: str, body_mass_kg: float | None,
                           params: GaitParams = GaitParams()) -> list[Landing]:
    """:func:`landing_features` of many contacts of one foot at once.

    ``t_s`` (n,) s and ``force_n`` (n, k) N: the whole recording of this foot (raw calibrated
    forces); ``contacts``: the landings, as found by :func:`analysis.contacts.detect_contacts`.
    """
    order = sorted(range(len(contacts)), key=lambda i: contacts[i].end - contacts[i].start)
    out: list[Landing | None] = [None] * len(contacts)
    for g in range(0, len(order), _GROUP):
        idx = order[g:g + _GROUP]
        for i, landing in zip(idx, _batch_group(t_s, force_n, [contacts[i] for i in idx], x, y, foot,
                                                 body_mass_kg, params)):
            out[i] = landing
    return out


def _batch_group(t_s, force_n, cs, x, y, foot, body_mass_kg, params):
    sp: StrikeParams = params.strike
    m = len(cs)
    start = np.array([c.start for c in cs])
    length = np.array([c.end - c.start for c in cs])
    L = int(length.max())
    col = np.arange(L)
    inside = col[None, :] < length[:, None]                          # (m, L)
    frame = np.minimum(start[:, None] + col[None, :], len(t_s) - 1)
    t = t_s[frame]
    base = np.array([c.baseline_n for c in cs])                      # (m, k)
    f = force_n[frame] - base[:, None, :]                            # (m, L, k)
    f[~inside] = 0.0
    fp = np.maximum(f, 0.0)
    rows = np.arange(m)
    t_on = np.array([c.t_on_s for c in cs])
    on = np.array([c.on_n for c in cs])
    off = np.array([c.off_n for c in cs])
    det = np.array([c.detect - c.start for c in cs])

    # initial contact (analysis.strike.initial_contact)
    window = (fp * (col[None, :] <= det[:, None])[:, :, None]).sum(axis=1)     # (m, k)
    w_total = window.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        si = np.where(w_total > 0, 100.0 * (window @ y) / w_total, np.nan)
    first_y = y[fp[:, 0, :].argmax(axis=1)]
    rear = y < REARFOOT_Y
    lag = np.full(m, np.nan)
    if rear.any():
        in_window = inside & (t <= (t_on + sp.flat_window_ms / 1000.0 + 1e-9)[:, None])
        t_rear = _crossing_times(t, fp[:, :, rear].sum(axis=2), on * sp.rear_level_frac, in_window, -np.inf)
        lag = np.maximum(0.0, (t_rear - t_on) * 1000.0)

    # force: peak and loading rate
    total = np.where(inside, f.sum(axis=2), -np.inf)
    peak = total.max(axis=1)
    bw = body_mass_kg * G if body_mass_kg else None
    lr = np.full(m, np.nan)
    if bw:
        fall = total < np.maximum.accumulate(total, axis=1) - 0.05 * peak[:, None]
        i_fall, any_fall = _first_true(fall)
        stop = np.where(any_fall, np.maximum(1, i_fall), length)
        i_pk = np.where(col[None, :] < stop[:, None], total, -np.inf).argmax(axis=1)
        top = params.loading_to_frac * total[rows, i_pk]
        upto = col[None, :] <= i_pk[:, None]
        t_a = _crossing_times(t, total, np.full(m, params.loading_from_n), upto)
        t_b = _crossing_times(t, total, top, upto)
        with np.errstate(invalid="ignore", divide="ignore"):
            ok = (top > params.loading_from_n) & (t_b > t_a)
            lr = np.where(ok, (top - params.loading_from_n) / (t_b - t_a) / bw, np.nan)

    # COP path of every frame above the off-level
    ftot = fp.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = (fp @ x) / ftot
        cy = (fp @ y) / ftot
    loaded = inside & (ftot > np.maximum(off, 0.0)[:, None])

    out = []
    for i, c in enumerate(cs):
        s_i = float(si[i])
        lag_i = None if np.isnan(lag[i]) else float(lag[i])
        ok_i = loaded[i]
        out.append(Landing(
            foot=foot, t_on_s=c.t_on_s, t_off_s=c.t_off_s, contact_ms=c.contact_ms,
            strike=classify(s_i, lag_i, sp) if np.isfinite(s_i) else "midfoot",
            strike_index=s_i, first_region=region_of(float(first_y[i])), rear_lag_ms=lag_i,
            peak_force_n=float(peak[i]), peak_force_bw=float(peak[i]) / bw if bw else None,
            loading_rate_bw_s=None if np.isnan(lr[i]) else float(lr[i]),
            cop_path=np.column_stack([cx[i][ok_i], cy[i][ok_i]])))
    return out
