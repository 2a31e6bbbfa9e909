"""An independent generator of insole session folders, written from DESIGN.md contract 2 only.

It exists to test the analysis against data that did *not* come from the project's own
simulator: other sensor layouts, other calibrations, other signal shapes, another way of
spreading the load onto the sensors.  Nothing here imports or copies ``pi/`` or ``analysis/``.

The physical model, per landing (one foot, one contact):

* **Vertical force** ``F(t)`` (the ground reaction force a force plate would see) is an
  *active* bump, a beta-type polynomial ``(u/m)^a ((1-u)/(1-m))^b`` of the stance fraction
  ``u`` with peak 2.0–2.8 body weights, plus an *impact transient*, a gamma pulse
  ``(τ/τp)^k exp(k(1-τ/τp))`` peaking 12–30 ms after contact (large for heel strikes,
  small for forefoot landings; Lieberman 2010).  ``F`` leaves zero exactly at ``t_on`` and
  returns to zero exactly at ``t_off`` (``a, b ≥ 1`` so it rises and ends at a finite slope).
* **Where the load is**: the force is shared among *contact patches* (points of the foot
  frame): the initial-contact patch, the heel pad, the lateral midfoot, the lateral and
  medial metatarsal heads, the hallux and the lesser toes.  Each patch has a weight that
  changes through stance (smooth ramps); the true COP is the weighted mean of the patch
  positions.  The initial-contact composition sets the true strike index:

  - rearfoot: a heel patch alone at ``y0`` 0.08–0.28; the lateral midfoot joins after
    20–40 ms, the metatarsal heads after 30–60 ms (the heel-to-MT onset lag of Cheung 2017),
    the toes at push-off;
  - forefoot: a metatarsal patch alone at ``y0`` 0.71–0.88 (lateral side); the other heads
    load from 15 ms; the heel lowers after 40–90 ms (or never, for one landing in four), so
    the COP moves back, then forward to the toes at push-off;
  - midfoot: heel pad, lateral midfoot and metatarsal heads touch together in proportions
    that put the COP at ``y0`` 0.38–0.62 (a flat landing);
  - backward running: the toes/ball land first (``y0`` 0.74–0.92) and the COP moves toward
    the heel through stance; backward midfoot is a flat landing whose COP then moves back.
    (A heel-first landing while running backward is not physical and is not generated.)

* **Sensors**: each patch's load is spread over the sensors of its foot with a locality
  kernel (Gaussian in millimetres) that is exponentially tilted along ``y`` so that the
  sensors' centre of pressure equals the patch's ``y`` whenever the patch lies within the
  sensors' span (otherwise it goes to the nearest sensors).  A patch far from every sensor is
  only partly sensed (efficiency falls off beyond 25 mm): sensors under no load read zero.
  Each FSR has a soft turn-on (≈2 N), a load-proportional error, an in-shoe preload (0–4 N),
  a slow offset drift (sine + trend, a few N), white noise (1–3 N); the result is turned
  into the stored value through the sensor's linear calibration ``N = scale·v + offset``
  (integer counts, or newtons to 0.01 N).

Truth (``truth.csv``): ``t_on_s``/``t_off_s`` are where the true vertical force leaves and
returns to zero, ``strike_index`` = 100 × true COP ``y`` at initial contact, ``strike`` by
thirds; true strike indices are kept ≥ 4 points from 33.3 and 66.7.

Usage::

    from independent_sessions import write_session, LAYOUTS
    info = write_session("/tmp/s1", pattern="mixed", direction="forward", duration_s=60,
                         rate_hz=500, layout_name="pairs6", seed=3)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

FOOT_LENGTH_MM = 265.0   # a foot-fraction of y is this many millimetres …
FOOT_WIDTH_MM = 100.0    # … and of x this many (used for distances only)
G = 9.81

PATTERNS = ("forefoot", "midfoot", "rearfoot", "mixed", "walk")
DIRECTIONS = ("forward", "backward")


# --------------------------------------------------------------------------------------------
# Layouts
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SensorSpec:
    """One sensor: name, foot, position (foot fractions), linear calibration (N = scale·v + offset)."""

    name: str
    foot: str
    x: float
    y: float
    scale: float
    offset: float
    counts: bool   # stored value is integer ADC counts (else newtons with 2 decimals)


def _foot(prefix: str, foot: str, spots, scale, offset, counts) -> list[SensorSpec]:
    out = []
    for i, (name, x, y) in enumerate(spots):
        s = scale[i] if isinstance(scale, (list, tuple)) else scale
        o = offset[i] if isinstance(offset, (list, tuple)) else offset
        out.append(SensorSpec(f"{prefix}{name}", foot, x, y, s, o, counts))
    return out


def _quad4() -> list[SensorSpec]:
    """4 per foot (heel 0.15, lateral arch 0.50, central forefoot 0.75, hallux 0.92); counts at
    0.5 N/count with a −12 N offset (zero load ≈ 24 counts)."""
    spots = [("heel", 0.50, 0.15), ("arch", 0.70, 0.50), ("fore", 0.50, 0.75), ("hallux", 0.25, 0.92)]
    return (_foot("l_", "left", spots, 0.5, -12.0, True) + _foot("r_", "right", spots, 0.5, -12.0, True))


def _pairs6() -> list[SensorSpec]:
    """6 per foot as medial/lateral pairs at heel, midfoot and forefoot; values in newtons
    (identity calibration), as an imported recording would be."""
    spots = [("heel_med", 0.30, 0.13), ("heel_lat", 0.70, 0.13), ("mid_med", 0.25, 0.47),
             ("mid_lat", 0.78, 0.43), ("fore_med", 0.25, 0.76), ("fore_lat", 0.78, 0.69)]
    return _foot("Left", "left", spots, 1.0, 0.0, False) + _foot("Right", "right", spots, 1.0, 0.0, False)


def _grid8() -> list[SensorSpec]:
    """8 per foot like the PhysioNet gaitpdb insole (a heel sensor, three medial/lateral pairs,
    a toe sensor); counts at 0.8 N/count with a −30 N offset."""
    spots = [("1", 0.50, 0.07), ("2", 0.30, 0.27), ("3", 0.72, 0.27), ("4", 0.30, 0.50),
             ("5", 0.72, 0.50), ("6", 0.30, 0.73), ("7", 0.72, 0.73), ("8", 0.45, 0.91)]
    return _foot("VGRF_L", "left", spots, 0.8, -30.0, True) + _foot("VGRF_R", "right", spots, 0.8, -30.0, True)


def _asym() -> list[SensorSpec]:
    """Asymmetric: right foot first in the file with 4 sensors, left foot 5 sensors, every
    sensor with its own calibration (counts)."""
    right = [("R.heel", 0.45, 0.19), ("R.latmid", 0.80, 0.36), ("R.mt2", 0.42, 0.77), ("R.toe", 0.35, 0.95)]
    left = [("L.heel", 0.62, 0.16), ("L.latmid", 0.85, 0.36), ("L.mt5", 0.86, 0.60),
            ("L.mt1", 0.18, 0.76), ("L.hallux", 0.20, 0.90)]
    return (_foot("", "right", right, [0.42, 0.55, 0.47, 0.6], [-8.0, -20.5, -4.0, -15.0], True)
            + _foot("", "left", left, [0.5, 0.44, 0.61, 0.39, 0.52], [-25.0, -6.0, -11.0, -17.5, -9.0], True))


LAYOUTS = {"quad4": _quad4, "pairs6": _pairs6, "grid8": _grid8, "asym": _asym}


def layout(name: str) -> list[SensorSpec]:
    """The sensors of layout ``name`` (one of :data:`LAYOUTS`), in file column order."""
    try:
        return LAYOUTS[name]()
    except KeyError:
        raise ValueError(f"unknown layout {name!r}; known: {', '.join(LAYOUTS)}") from None


# --------------------------------------------------------------------------------------------
# Signal shapes
# --------------------------------------------------------------------------------------------

def smooth_ramp(v: np.ndarray, start: float, width: float) -> np.ndarray:
    """0 before ``start``, 1 after ``start + width``, a C1 cubic (3s²−2s³) in between."""
    s = np.clip((np.asarray(v, dtype=float) - start) / width, 0.0, 1.0)
    return s * s * (3.0 - 2.0 * s)


def active_bump(u: np.ndarray, a: float, b: float) -> np.ndarray:
    """Beta-type polynomial bump on 0 ≤ u ≤ 1, peak 1 at u = a/(a+b), zero outside (0, 1)."""
    m = a / (a + b)
    uu = np.clip(u, 0.0, 1.0)
    return np.where((u > 0) & (u < 1), (uu / m) ** a * ((1.0 - uu) / (1.0 - m)) ** b, 0.0)


def gamma_pulse(tau_ms: np.ndarray, peak_ms: float, k: float) -> np.ndarray:
    """Impact transient: (τ/τp)^k · exp(k(1 − τ/τp)), peak 1 at τp, zero for τ ≤ 0."""
    r = np.clip(np.asarray(tau_ms, dtype=float) / peak_ms, 0.0, None)
    return np.where(r > 0, r ** k * np.exp(k * (1.0 - r)), 0.0)


def gauss(u: np.ndarray, mu: float, sd: float) -> np.ndarray:
    return np.exp(-0.5 * ((u - mu) / sd) ** 2)


# Anatomical patches, foot frame (x = 0 medial, y = 0 heel back).
PATCH_XY = {
    "heel": (0.50, 0.12),
    "latmid": (0.80, 0.42),
    "mt_lat": (0.82, 0.66),
    "mt_med": (0.30, 0.72),
    "hallux": (0.22, 0.92),
    "toes": (0.62, 0.87),
}


@dataclass
class Step:
    """One true landing and the parameters of its shapes."""

    foot: str
    t_on: float
    contact_s: float
    strike: str
    si: float                 # true strike index (100 × COP y at initial contact)
    ic_patches: dict          # patch name or "ic" → (x, y, initial weight)
    params: dict


def strike_of(si: float) -> str:
    """The class of a strike index by thirds (DESIGN.md "Coordinates")."""
    return "rearfoot" if si < 100.0 / 3.0 else ("midfoot" if si < 200.0 / 3.0 else "forefoot")


def _midfoot_mix(rng, y0: float) -> dict:
    """Initial weights of heel, lateral midfoot and MT heads whose COP is at ``y0``."""
    yh, yl, ym = PATCH_XY["heel"][1], PATCH_XY["latmid"][1], 0.69
    for _ in range(1000):
        wl = rng.uniform(0.15, 0.5)
        wm = (y0 - yl * wl - yh * (1 - wl)) / (ym - yh)
        wh = 1.0 - wl - wm
        if wm >= 0.05 and wh >= 0.05:
            return {"heel": (*PATCH_XY["heel"], wh), "latmid": (*PATCH_XY["latmid"], wl),
                    "mt_mix": (0.55, ym, wm)}
    raise RuntimeError("no midfoot mix for y0=%r" % y0)


def patch_weights(step: Step, tau_ms: np.ndarray, direction: str) -> dict[str, tuple[float, float, np.ndarray]]:
    """Every patch's (x, y, weight(τ)) for one step; the weights are relative (not normalised)."""
    u = tau_ms / (step.contact_s * 1000.0)
    p = step.params
    out: dict[str, tuple[float, float, np.ndarray]] = {}

    def add(name, x, y, w):
        if name in out:
            out[name] = (x, y, out[name][2] + w)
        else:
            out[name] = (x, y, w)

    ic = step.ic_patches
    if direction == "forward" and step.strike == "rearfoot":
        x0, y0, _ = ic["ic"]
        add("ic", x0, y0, 1.0 - smooth_ramp(u, 0.15, 0.5))
        add("latmid", *PATCH_XY["latmid"], 0.5 * smooth_ramp(tau_ms, p["lag_l"], 40) * (1 - smooth_ramp(u, 0.5, 0.3)))
        mt = 1.5 * smooth_ramp(tau_ms, p["lag_mt"], 60)
        add("mt_lat", *PATCH_XY["mt_lat"], 0.5 * mt)
        add("mt_med", *PATCH_XY["mt_med"], 0.5 * mt)
        toes = smooth_ramp(u, 0.55, 0.3)
        add("hallux", *PATCH_XY["hallux"], 0.6 * toes)
        add("toes", *PATCH_XY["toes"], 0.4 * toes)
    elif direction == "forward" and step.strike == "forefoot":
        x0, y0, _ = ic["ic"]
        add("ic", x0, y0, 1.0 - 0.7 * smooth_ramp(u, 0.6, 0.3))
        mt = 0.8 * smooth_ramp(tau_ms, 15, 40) * (1 - 0.5 * smooth_ramp(u, 0.7, 0.25))
        add("mt_lat", *PATCH_XY["mt_lat"], 0.4 * mt)
        add("mt_med", *PATCH_XY["mt_med"], 0.6 * mt)
        heel = p["heel_max"] * smooth_ramp(tau_ms, p["lag_h"], 50) * (1 - smooth_ramp(u, 0.45, 0.25))
        add("heel", *PATCH_XY["heel"], heel)
        add("latmid", *PATCH_XY["latmid"], 0.4 * heel)
        toes = smooth_ramp(u, 0.5, 0.35)
        add("hallux", *PATCH_XY["hallux"], 0.6 * toes)
        add("toes", *PATCH_XY["toes"], 0.4 * toes)
    elif direction == "forward" and step.strike == "midfoot":
        for name, (x, y, w0) in ic.items():
            fade = {"heel": smooth_ramp(u, 0.3, 0.3), "latmid": smooth_ramp(u, 0.4, 0.3)}.get(name, 0.0)
            add(name, x, y, w0 * (1 - fade))
        mt = 1.0 * smooth_ramp(tau_ms, p["lag_mt"], 60)
        add("mt_lat", *PATCH_XY["mt_lat"], 0.5 * mt)
        add("mt_med", *PATCH_XY["mt_med"], 0.5 * mt)
        toes = smooth_ramp(u, 0.55, 0.3)
        add("hallux", *PATCH_XY["hallux"], 0.6 * toes)
        add("toes", *PATCH_XY["toes"], 0.4 * toes)
    elif direction == "backward" and step.strike == "forefoot":
        x0, y0, _ = ic["ic"]
        add("ic", x0, y0, 1.0 - smooth_ramp(u, 0.3, 0.4))
        mt = 0.6 * smooth_ramp(tau_ms, 15, 40) * (1 - smooth_ramp(u, 0.5, 0.3))
        add("mt_lat", *PATCH_XY["mt_lat"], 0.5 * mt)
        add("mt_med", *PATCH_XY["mt_med"], 0.5 * mt)
        add("latmid", *PATCH_XY["latmid"], 0.6 * smooth_ramp(tau_ms, p["lag_l"], 60))
        add("heel", *PATCH_XY["heel"], 1.2 * smooth_ramp(tau_ms, p["lag_h"], 60))
    elif direction == "backward" and step.strike == "midfoot":
        for name, (x, y, w0) in ic.items():
            fade = smooth_ramp(u, 0.35, 0.35) if name == "mt_mix" else 0.0
            add(name, x, y, w0 * (1 - fade))
        add("heel", *PATCH_XY["heel"], 1.0 * smooth_ramp(tau_ms, p["lag_h"], 60))
    elif step.strike == "rearfoot" and direction == "walk":
        x0, y0, _ = ic["ic"]
        add("ic", x0, y0, 1.0 - smooth_ramp(u, 0.2, 0.35))
        add("latmid", *PATCH_XY["latmid"], 0.6 * smooth_ramp(tau_ms, p["lag_l"], 60) * (1 - smooth_ramp(u, 0.6, 0.2)))
        mt = 1.5 * smooth_ramp(tau_ms, p["lag_mt"], 80)
        add("mt_lat", *PATCH_XY["mt_lat"], 0.5 * mt)
        add("mt_med", *PATCH_XY["mt_med"], 0.5 * mt)
        toes = smooth_ramp(u, 0.6, 0.25)
        add("hallux", *PATCH_XY["hallux"], 0.7 * toes)
        add("toes", *PATCH_XY["toes"], 0.5 * toes)
    else:
        raise ValueError(f"no {step.strike} landing when running {direction}")
    return out


def vertical_force(step: Step, tau_ms: np.ndarray, weight_n: float) -> np.ndarray:
    """True vertical force (N) at stance times ``tau_ms`` (0 at contact); zero outside stance."""
    p = step.params
    u = tau_ms / (step.contact_s * 1000.0)
    inside = (u > 0) & (u < 1)
    if p.get("walk"):
        # Walking: two humps (loading response, push-off) as Gaussians on a window that is
        # zero at both ends, plus a small heel transient.
        win = np.clip(u, 0, 1) ** 0.9 * np.clip(1 - u, 0, 1) ** 0.9 / 0.5 ** 1.8
        f = win * (p["hump1"] * gauss(u, 0.24, 0.12) + p["hump2"] * gauss(u, 0.76, 0.12) + 0.55)
        f = f + p["impact"] * gamma_pulse(tau_ms, p["impact_ms"], p["impact_k"]) * (1 - u)
    else:
        f = p["peak"] * active_bump(u, p["a"], p["b"])
        f = f + p["impact"] * gamma_pulse(tau_ms, p["impact_ms"], p["impact_k"]) * np.clip(1 - u, 0, 1)
    return np.where(inside, f * weight_n, 0.0)


# --------------------------------------------------------------------------------------------
# Spreading load onto sensors
# --------------------------------------------------------------------------------------------

def spread_matrix(px: float, py: float, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Shares of a point load at (px, py) taken by sensors at (xs, ys) (sum ≤ 1).

    A locality kernel (Gaussian, 35 mm along y and 60 mm across) is tilted by
    ``exp(λ·(y_i − py))`` with λ chosen so that the sensors' COP ``y`` equals ``py`` (when
    ``py`` is within the sensors' span; beyond it the load goes to the outermost sensors).  The
    shares are then scaled by a sensing efficiency that is 1 when a sensor lies within 25 mm of
    the point and falls off as a Gaussian (45 mm) beyond that.
    """
    dy = (ys - py) * FOOT_LENGTH_MM
    dx = (xs - px) * FOOT_WIDTH_MM
    k = np.exp(-0.5 * ((dy / 35.0) ** 2 + (dx / 60.0) ** 2)) + 1e-12
    if py >= ys.max() - 1e-9 or py <= ys.min() + 1e-9:
        edge = ys == (ys.max() if py >= ys.max() - 1e-9 else ys.min())
        w = np.where(edge, k, 0.0)
    else:
        def cop(lam):
            e = k * np.exp(lam * (ys - py) - np.max(lam * (ys - py)))
            return float(np.sum(e * ys) / np.sum(e)), e
        lo, hi = -400.0, 400.0
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            c, _ = cop(mid)
            if c < py:
                lo = mid
            else:
                hi = mid
        _, w = cop(0.5 * (lo + hi))
    w = w / w.sum()
    d = float(np.min(np.hypot(dx, dy)))
    eff = 1.0 if d <= 25.0 else math.exp(-(((d - 25.0) / 45.0) ** 2))
    return w * eff


# --------------------------------------------------------------------------------------------
# Step plan
# --------------------------------------------------------------------------------------------

def _draw_strike(rng, pattern: str, direction: str) -> str:
    if pattern == "walk":
        return "rearfoot"
    if pattern != "mixed":
        return pattern
    if direction == "backward":
        return "forefoot" if rng.random() < 0.7 else "midfoot"
    r = rng.random()
    return "rearfoot" if r < 0.4 else ("midfoot" if r < 0.6 else "forefoot")


def _step_params(rng, strike: str, direction: str, walk: bool) -> tuple[float, dict, dict]:
    """(true SI, initial-contact patches, shape parameters) for one landing."""
    if walk:
        y0 = 0.07 + 0.17 * rng.beta(2, 2)
        ic = {"ic": (rng.uniform(0.5, 0.75), y0, 1.0)}
        params = {"walk": True, "hump1": rng.uniform(0.5, 0.65), "hump2": rng.uniform(0.5, 0.65),
                  "impact": rng.uniform(0.2, 0.5), "impact_ms": rng.uniform(20, 35), "impact_k": 3.0,
                  "lag_l": rng.uniform(30, 60), "lag_mt": rng.uniform(50, 110)}
        return 100 * y0, ic, params
    params = {"a": rng.uniform(1.05, 1.5), "b": rng.uniform(1.0, 1.35), "impact_k": rng.uniform(2.5, 3.5)}
    if strike == "rearfoot":
        y0 = 0.08 + 0.20 * rng.beta(2, 2)
        ic = {"ic": (rng.uniform(0.55, 0.8), y0, 1.0)}
        params.update(peak=rng.uniform(2.2, 2.8), impact=rng.uniform(0.9, 1.4), impact_ms=rng.uniform(18, 30),
                      lag_l=rng.uniform(20, 40), lag_mt=rng.uniform(30, 60))
    elif strike == "forefoot":
        y0 = rng.uniform(0.71, 0.88) if direction == "forward" else rng.uniform(0.74, 0.92)
        ic = {"ic": (rng.uniform(0.55, 0.85), y0, 1.0)}
        heel_max = 0.0 if rng.random() < 0.25 else rng.uniform(0.3, 0.9)
        params.update(peak=rng.uniform(2.2, 2.8) if direction == "forward" else rng.uniform(1.9, 2.4),
                      impact=rng.uniform(0.1, 0.4), impact_ms=rng.uniform(12, 22),
                      lag_h=rng.uniform(40, 90) if direction == "forward" else rng.uniform(50, 110),
                      heel_max=heel_max, lag_l=rng.uniform(40, 80))
    else:  # midfoot
        y0 = rng.uniform(0.38, 0.62)
        ic = _midfoot_mix(rng, y0)
        params.update(peak=rng.uniform(2.2, 2.7) if direction == "forward" else rng.uniform(1.9, 2.4),
                      impact=rng.uniform(0.4, 0.8), impact_ms=rng.uniform(15, 25),
                      lag_mt=rng.uniform(25, 45), lag_h=rng.uniform(40, 80))
    return 100 * y0, ic, params


def plan_steps(rng, pattern: str, direction: str, duration_s: float) -> tuple[list[Step], float]:
    """The true landings of both feet (alternating), and the session's base cadence (spm)."""
    walk = pattern == "walk"
    if walk:
        cadence = rng.uniform(100, 120)
    elif direction == "backward":
        cadence = rng.uniform(168, 185)
    else:
        cadence = rng.uniform(160, 182)
    base_contact = {"rearfoot": (0.245, 0.29), "midfoot": (0.225, 0.27), "forefoot": (0.20, 0.25)}
    steps: list[Step] = []
    t = 0.4 + rng.uniform(0.0, 0.15)
    foot = "left" if rng.random() < 0.5 else "right"
    drift_period = rng.uniform(40, 90)
    drift_phase = rng.uniform(0, 2 * math.pi)
    contact_base = {k: rng.uniform(*v) for k, v in base_contact.items()}
    while True:
        strike = _draw_strike(rng, pattern, direction)
        cad = cadence * (1 + 0.02 * math.sin(2 * math.pi * t / drift_period + drift_phase))
        interval = 60.0 / cad * (1 + rng.normal(0, 0.015))
        if walk:
            contact = 0.62 * 2 * interval * (1 + rng.normal(0, 0.03))
        else:
            contact = contact_base[strike] * (1 + rng.normal(0, 0.04)) * (0.96 if direction == "backward" else 1.0)
            contact = min(contact, interval - 0.045)   # running: a flight phase of at least 45 ms
        if t + contact > duration_s - 0.3:
            break
        si, ic, params = _step_params(rng, strike, direction, walk)
        steps.append(Step(foot, t, contact, strike_of(si), si, ic, params))
        t += interval
        foot = "right" if foot == "left" else "left"
    return steps, cadence


# --------------------------------------------------------------------------------------------
# Writing a session folder
# --------------------------------------------------------------------------------------------

def write_session(folder, *, pattern: str = "mixed", direction: str = "forward", duration_s: float = 60.0,
                  rate_hz: float = 500.0, layout_name: str = "quad4", seed: int = 0,
                  body_mass_kg: float | None = None, noise_n: tuple[float, float] = (1.0, 3.0),
                  drift_n: float = 4.0, preload_n: float = 4.0, zero_error_n: float = 0.0,
                  timing_jitter_s: float = 20e-6) -> dict:
    """Write ``session.json``, ``samples.csv`` and ``truth.csv`` of one synthetic session.

    ``pattern`` forefoot|midfoot|rearfoot|mixed|walk (walk: heel-strike walking, any rate);
    ``direction`` forward|backward (backward: no rearfoot; mixed = forefoot/midfoot).
    ``noise_n`` range of each sensor's white noise σ (N); ``drift_n`` offset drift amplitude
    (N); ``preload_n`` maximum in-shoe preload per sensor (N); ``zero_error_n`` a constant
    added to every sensor's reading (a calibration zero that is off by that many newtons).
    Returns a dict with the
    folder, the true landings, the cadence and the layout's sensors.
    """
    if pattern not in PATTERNS:
        raise ValueError(f"unknown pattern {pattern!r}")
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}")
    if direction == "backward" and pattern in ("rearfoot", "walk"):
        raise ValueError(f"{pattern} is not generated for backward running")
    rng = np.random.default_rng(seed)
    sensors = layout(layout_name)
    mass = float(body_mass_kg) if body_mass_kg else float(rng.uniform(55, 85))
    weight_n = mass * G

    n = int(round(duration_s * rate_hz))
    t = np.arange(n) / rate_hz
    if timing_jitter_s:
        t = t + np.clip(rng.normal(0, timing_jitter_s, n), -0.3 / rate_hz, 0.3 / rate_hz)
        t[0] = 0.0
    steps, cadence = plan_steps(rng, pattern, direction, duration_s)

    xs = np.array([s.x for s in sensors])
    ys = np.array([s.y for s in sensors])
    feet = {f: np.array([i for i, s in enumerate(sensors) if s.foot == f]) for f in ("left", "right")}
    load = np.zeros((n, len(sensors)))          # true load on each sensor, N
    mode = "walk" if pattern == "walk" else direction
    truth = []
    for st in steps:
        idx = feet[st.foot]
        if idx.size == 0:
            continue
        i0 = int(np.searchsorted(t, st.t_on, side="right"))
        i1 = int(np.searchsorted(t, st.t_on + st.contact_s, side="left"))
        if i1 <= i0:
            continue
        tau = (t[i0:i1] - st.t_on) * 1000.0
        f = vertical_force(st, tau, weight_n)
        patches = patch_weights(st, tau, mode)
        wsum = sum(w for _, _, w in patches.values())
        wsum = np.where(wsum > 0, wsum, 1.0)
        for px, py, w in patches.values():
            share = spread_matrix(px, py, xs[idx], ys[idx])
            load[i0:i1, idx] += np.outer(f * w / wsum, share)
        truth.append({"foot": st.foot, "t_on_s": st.t_on, "t_off_s": st.t_on + st.contact_s,
                      "strike": st.strike, "strike_index": st.si, "contact_ms": st.contact_s * 1000.0})

    # FSR behaviour and electronics.
    dz = 2.0                                                        # soft turn-on, N
    sensed = np.where(load < dz, load ** 2 / (2 * dz), load - dz / 2)
    sensed *= 1.0 + 0.015 * rng.standard_normal(sensed.shape)       # load-proportional error
    m = len(sensors)
    preload = rng.uniform(0, preload_n, m)
    amp = rng.uniform(0.25, 1.0, m) * drift_n
    period = rng.uniform(30, 120, m)
    phase = rng.uniform(0, 2 * np.pi, m)
    trend = rng.uniform(-2.0, 2.0, m) / 60.0                          # N/s
    drift = amp * np.sin(2 * np.pi * t[:, None] / period + phase) + trend * t[:, None]
    sigma = rng.uniform(*noise_n, m)
    newtons = sensed + preload + zero_error_n + drift + sigma * rng.standard_normal((n, m))

    scale = np.array([s.scale for s in sensors])
    offset = np.array([s.offset for s in sensors])
    stored = (newtons - offset) / scale

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cols = [np.char.mod("%.6f", t)]
    for j, s in enumerate(sensors):
        if s.counts:
            cols.append(np.char.mod("%d", np.clip(np.rint(stored[:, j]), 0, 32767).astype(np.int64)))
        else:
            cols.append(np.char.mod("%.2f", stored[:, j]))
    lines = [",".join(["t_s"] + [s.name for s in sensors])]
    body = cols[0]
    for c in cols[1:]:
        body = np.char.add(np.char.add(body, ","), c)
    lines.extend(body.tolist())
    (folder / "samples.csv").write_text("\n".join(lines) + "\n")

    with open(folder / "truth.csv", "w") as fh:
        fh.write("foot,t_on_s,t_off_s,strike,strike_index,contact_ms\n")
        for r in truth:
            fh.write(f"{r['foot']},{r['t_on_s']:.6f},{r['t_off_s']:.6f},{r['strike']},"
                     f"{r['strike_index']:.2f},{r['contact_ms']:.3f}\n")

    started = datetime(2024, 5, 1, 7, 0, 0, tzinfo=timezone.utc) + timedelta(seconds=int(seed) % 86400)
    meta = {
        "format": "insole-session/1",
        "started_at": started.isoformat().replace("+00:00", "Z"),
        "software": {"name": "independent_sessions", "version": "1.0"},
        "source": {"kind": "independent", "pattern": pattern, "direction": direction,
                   "layout": layout_name, "seed": int(seed), "cadence_spm": round(cadence, 2),
                   "duration_s": duration_s},
        "rate_hz": rate_hz,
        "subject": {"body_mass_kg": round(mass, 1)},
        "sensors": [{"name": s.name, "foot": s.foot, "x": s.x, "y": s.y,
                     "calibration": {"model": "linear", "scale": s.scale, "offset": s.offset}}
                    for s in sensors],
        "markers": [],
        "health": {"frames": n, "late_frames": 0, "skipped_frames": 0, "bus_errors": 0},
    }
    (folder / "session.json").write_text(json.dumps(meta, indent=2) + "\n")
    return {"folder": folder, "truth": truth, "cadence_spm": cadence, "sensors": sensors,
            "body_mass_kg": mass, "steps": steps}


def true_cop_y(step: Step, tau_ms: np.ndarray, mode: str) -> np.ndarray:
    """The true COP ``y`` of ``step`` at stance times ``tau_ms`` (for plots and checks)."""
    patches = patch_weights(step, tau_ms, mode)
    wsum = sum(w for _, _, w in patches.values())
    return sum(py * w for _, py, w in patches.values()) / wsum


if __name__ == "__main__":   # a quick look: python tests/independent_sessions.py OUT [layout pattern direction rate]
    import sys
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/independent_session"
    lay, pat, dirn, rate = (sys.argv[2:6] + ["quad4", "mixed", "forward", "500"][len(sys.argv[2:6]):])
    info = write_session(out, pattern=pat, direction=dirn, duration_s=30, rate_hz=float(rate), layout_name=lay, seed=1)
    print(f"{out}: {len(info['truth'])} landings, cadence {info['cadence_spm']:.1f} spm")
