"""Strike classification: forefoot, midfoot or rearfoot, from the first milliseconds of contact.

The rule, and why (evidence in shared/notes/gait.md):

1. **Strike index (SI) at initial contact** (Cavanagh & Lafortune 1980): the COP along the foot,
   as % of foot length from the heel, over the first frames of contact (from the first frame
   above the contact level up to the frame the contact was detected, forces summed so one noisy
   sensor cannot swing it). SI < 33.3 → **rearfoot**; SI ≥ 66.7 → **forefoot**. From insoles,
   rearfoot vs non-rearfoot is the reliable split, so the SI decides it on its own.
2. **The snapping band.** With discrete sensors the COP at contact snaps to the first loaded
   sensor. The 5th metatarsal head sits at ~65-68 % of foot length, just below the 66.7 line, and
   forefoot runners often land on the lateral forefoot first: such a landing gives an SI in the
   midfoot band although the foot landed on its forefoot. So when the SI falls in the band just
   below the line (``snap_band_from`` ≤ SI < 66.7), the **onset lag of the rearfoot** decides
   instead: if the rearfoot sensors take load only ``flat_window_ms`` or more after initial
   contact (or not at all in that window), the foot landed on its forefoot and rolled back:
   **forefoot**. If the heel loads within that window, the foot landed flat: **midfoot**. The
   heel-vs-forefoot onset lag explained 80-84 % of SI variance in 25,655 footfalls (Cheung et al.
   2017), and Giandolini et al. (2014) put the midfoot window at −5.5…15.2 ms (heel-first
   positive); ``flat_window_ms`` defaults to the top of that window.
3. Everything else in the band (33.3 ≤ SI < ``snap_band_from``) is **midfoot**: the COP landed
   clearly in the middle third, whatever the heel does next.

The classification uses only the first ``max(detection, flat_window_ms)`` of the contact, so the
live loop can give its verdict well within the ~50 ms that same-step feedback needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .layout import FOREFOOT_FROM, REARFOOT_BELOW, REARFOOT_Y, region_of


@dataclass(frozen=True)
class StrikeParams:
    """Parameters of the strike rule (see the module docstring)."""

    flat_window_ms: float = 15.2
    snap_band_from: float = 56.7
    #: the rearfoot "takes load" when its summed force reaches this share of the detection
    #: level (a quarter: in a flat landing the heel carries only part of a still small total)
    rear_level_frac: float = 0.25


def crossing_time(t: np.ndarray, v: np.ndarray, level: float, at_first: float | None = None) -> float | None:
    """First time ``v`` reaches ``level`` (linear interpolation between frames), or None.

    ``t`` in seconds; if the first sample already reaches the level, ``at_first`` is returned
    (its own time when None): the crossing was at or before it.
    """
    idx = np.flatnonzero(v >= level)
    if idx.size == 0:
        return None
    i = int(idx[0])
    if i == 0:
        return float(t[0]) if at_first is None else at_first
    v0, v1 = float(v[i - 1]), float(v[i])
    frac = (level - v0) / (v1 - v0) if v1 != v0 else 1.0
    return float(t[i - 1] + frac * (t[i] - t[i - 1]))


def classify_si(si: float) -> str:
    """The strike class of a strike index by the thirds alone."""
    if si < REARFOOT_BELOW:
        return "rearfoot"
    if si < FOREFOOT_FROM:
        return "midfoot"
    return "forefoot"


def classify(strike_index: float, rear_lag_ms: float | None, params: StrikeParams = StrikeParams()) -> str:
    """Strike class from the SI at contact and the rearfoot onset lag (ms after contact; None =
    the rearfoot took no load within the window, or the layout has no rearfoot sensor)."""
    base = classify_si(strike_index)
    if base != "midfoot" or strike_index < params.snap_band_from:
        return base
    if rear_lag_ms is None or rear_lag_ms >= params.flat_window_ms:
        return "forefoot"
    return "midfoot"


def initial_contact(t_s: np.ndarray, force_n: np.ndarray, x: np.ndarray, y: np.ndarray,
                    t_on_s: float, detect_index: int, on_n: float,
                    params: StrikeParams = StrikeParams()) -> dict:
    """Features of initial contact from the first frames of one contact of one foot.

    Parameters
    ----------
    t_s : (n,) frame times, s; frame 0 is the first frame at or above the contact level.
    force_n : (n, k) baseline-corrected forces of the foot's sensors, N.
    x, y : (k,) sensor positions, fractions of the foot.
    t_on_s : interpolated time of initial contact, s.
    detect_index : the frame (from frame 0) where the contact was detected (the on-level
        reached); the SI window runs from frame 0 to it, inclusive.
    on_n : the detection level, N; the rearfoot "takes load" when its summed force reaches
        ``params.rear_level_frac`` of it.

    Returns a dict with ``strike_index`` (%), ``cop_x_ic``, ``strike``, ``first_region``,
    ``rear_lag_ms`` (None when the rearfoot took no load in the window).
    """
    f = np.maximum(force_n, 0.0)
    window = f[: detect_index + 1].sum(axis=0)
    w_total = window.sum()
    if w_total > 0:
        si = 100.0 * float(window @ y / w_total)
        cx = float(window @ x / w_total)
    else:
        si, cx = float("nan"), float("nan")
    rear = y < REARFOOT_Y
    rear_lag_ms = None
    if rear.any():
        t_window_end = t_on_s + params.flat_window_ms / 1000.0
        in_window = t_s <= t_window_end + 1e-9
        # the rearfoot already at its level in the first frame took load at or before contact
        # (lag 0), not one frame after it: the interpolated contact time lies before that frame
        t_rear = crossing_time(t_s[in_window], f[in_window][:, rear].sum(axis=1),
                               on_n * params.rear_level_frac, at_first=-np.inf)
        if t_rear is not None:
            rear_lag_ms = max(0.0, (t_rear - t_on_s) * 1000.0)
    first_region = region_of(float(y[int(np.argmax(f[0]))])) if f.shape[0] else None
    return {
        "strike_index": si,
        "cop_x_ic": cx,
        "strike": classify(si, rear_lag_ms, params) if np.isfinite(si) else "midfoot",
        "first_region": first_region,
        "rear_lag_ms": rear_lag_ms,
    }

