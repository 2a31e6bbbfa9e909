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
live loop can give its verdict well within the ~50 ms that same-step feedback needs. The strike
index and the rearfoot lag are measured in :mod:`analysis.features` (one implementation, live
and offline); this module holds the rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from .layout import FOREFOOT_FROM, REARFOOT_BELOW


#: the strike classes, the contract's values (DESIGN.md contract 2), in foot order toe to heel
STRIKES = ("forefoot", "midfoot", "rearfoot")
#: the running directions: forward, or backward (the drill that forces a forefoot landing)
DIRECTIONS = ("forward", "backward")


@dataclass(frozen=True)
class StrikeParams:
    """Parameters of the strike rule (see the module docstring)."""

    flat_window_ms: float = 15.2
    snap_band_from: float = 56.7
    #: the rearfoot "takes load" when its summed force reaches this share of the detection
    #: level (a quarter: in a flat landing the heel carries only part of a still small total)
    rear_level_frac: float = 0.25


def rule_text(params: StrikeParams = StrikeParams()) -> str:
    """The rule in words, with the figures it was run with (shown under a report's figures)."""
    return (f"A landing's class comes from its strike index (the centre of pressure at initial contact, "
            f"% of foot length from the heel; Cavanagh & Lafortune 1980): heel below {REARFOOT_BELOW:.1f}, "
            f"forefoot from {FOREFOOT_FROM:.1f}. With a few discrete sensors the index snaps to the first sensor "
            f"loaded, and the 5th metatarsal head sits just below {FOREFOOT_FROM:.1f}, so between "
            f"{params.snap_band_from:g} and {FOREFOOT_FROM:.1f} (hatched) the heel decides: a heel loaded "
            f"{params.flat_window_ms:g} ms or more after contact, or not at all, makes the landing forefoot, "
            "otherwise midfoot.")


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
