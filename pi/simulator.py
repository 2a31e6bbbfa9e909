"""A simulated runner: each sensor's stored value (ADC counts), frame by frame.

The model, and why (numbers from shared/notes/gait.md unless said otherwise):

* **Timing.** The feet alternate left, right, left… one step interval (60 / cadence s) apart,
  so each foot's stride is two intervals. Contact time is ``duty_factor`` × stride (running:
  duty factor < 0.5; 0.35 at 170 steps/min gives ~250 ms of contact and ~100 ms of flight, the
  worked check in gait.md). Interval, contact time and peak force vary a few % step to step.
  Backward running keeps the cadence given (the caller chooses it) but shortens contact by 10 %:
  it has a longer aerial phase than forward running (Cavagna 2012).
* **Vertical force** (newtons): an active hump peaking at ~45 % of stance at ~2.5 body weights
  (range 2.3–2.8 BW). Rearfoot landings add an impact transient peaking ~20–30 ms after contact
  at ~1.7 BW (shod rearfoot: 1.74 BW, ~70 BW/s, Lieberman 2010); midfoot landings a small one;
  forefoot landings none, and the gentlest rise (Lieberman: forefoot impact ~0.6 BW).
* **Centre of pressure** (fractions of the foot, DESIGN.md "Coordinates"): a keyframed path per
  pattern. Rearfoot: heel (y 0.08–0.20) held for the first ~20 % of stance, then rolls to the
  toes. Forefoot: lateral forefoot (y 0.72–0.80), back toward y 0.5 as the heel lowers (it may
  barely touch), then forward to push-off. Midfoot: flat (y 0.42–0.58), then forward. x goes
  from lateral at landing to medial (big toe) at push-off. The truth strike index is 100 × the
  y at contact, and the start ranges keep it several points from the 33.3/66.7 borders.
  Backward running is treated as forward running reversed in time along the foot: the landing
  point is set by the pattern (so the strike class is where the COP starts, as forward), and the
  COP then travels toward the heel, which leaves the ground last. A forefoot (toe) landing is the
  normal backward drill; a backward "rearfoot" landing lands on the heel, the forefoot slaps
  down (COP forward to ~0.35) and the foot leaves from the heel again: unusual, but simulated.
* **Footprint.** The pressure around the COP is an anisotropic Gaussian (wider along y); its
  width is part of the keyframes: narrow when only the heel or the ball touches, wide when the
  foot is flat so heel, lateral midfoot and ball load together. Each sensor takes the total
  force × its kernel weight / max(sum of weights, ``_COVERAGE``): when the COP sits among the
  sensors they report the whole force (as a calibrated insole should); when it sits where no
  sensor is (the toes) part of the load goes unseen, as it does on a real insole.
* **Sensor and ADC.** Per-sensor gain ±``gain_spread`` (FSR part to part ±6 %,
  shared/notes/hardware.md); force → counts through ``analysis.calibration.fsr_divider_counts``
  (the divider's nonlinearity); then a baseline in counts (a preload offset, a warm-up creep and
  a slow mean-reverting wander: FSR drift and heat creep), Gaussian noise, rounding and clipping
  to the signed ADC range (saturation, never wrap-around). Linear calibrations are inverted
  instead, and noise and drift are then in the stored value's units.

Everything random comes from ``seed`` through separate streams (steps, sensor parts, baseline,
noise), each drawn in fixed-size pieces, so the output does not depend on how ``read`` is chunked.
"""

from __future__ import annotations

import numbers
from bisect import bisect_left, bisect_right
from collections import deque
from dataclasses import dataclass

import numpy as np

from analysis.calibration import fsr_divider_counts, validate
from analysis.errors import ConfigError
from analysis.features import G
from analysis.layout import Layout, region_of
from analysis.strike import DIRECTIONS, STRIKES

PATTERNS = (*STRIKES, "mixed")
#: the simulated runner's options on the command line (``--pattern`` …) and their defaults
SIM_DEFAULTS = {"pattern": "mixed", "direction": "forward", "cadence": 170.0, "feet": "both", "seed": 0}
FEET_CHOICES = ("left", "right", "both")
_COVERAGE = 0.5          # kernel sum below which part of the load falls outside the sensors
_NOISE_BLOCK = 4096      # frames of noise drawn at a time (fixed: chunk-size independence)
_KNOT_S = 1.0            # baseline wander knots every second, interpolated between
_KNOT_BLOCK = 64         # knots drawn at a time
_WANDER_TAU_S = 120.0    # the wander relaxes over minutes (slow FSR drift)
_WARMUP_TAU_S = 300.0    # shoe warm-up: heat creep settles over ~5 min

# COP keyframes: rows (s = fraction of stance, y, x, sigma_y, sigma_x), fractions of the foot.
# A row whose x is None is relative to the landing point: y is an offset from it, x is its x.
# "BACK"/"HEEL" are drawn per step (see _keyframes). Rearfoot holds the heel to s 0.22 (≥ 44 ms
# at 200 ms contact) so the ball sensors stay unloaded for the first ~50 ms; forefoot holds the
# ball to s 0.15 (≥ 30 ms) so the heel stays quiet; midfoot starts wide (sigma_y 0.24) so heel,
# lateral midfoot and ball load together.
_PUSH = [(0.72, 0.72, 0.45, 0.12, 0.30), (1.0, 0.84, 0.30, 0.08, 0.25)]
_FORWARD = {
    "rearfoot": [(0.0, 0.0, None, 0.09, 0.25), (0.22, 0.05, None, 0.10, 0.25),
                 (0.45, 0.55, 0.60, 0.18, 0.30)] + _PUSH,
    "forefoot": [(0.0, 0.0, None, 0.07, 0.20), (0.15, -0.02, None, 0.09, 0.25),
                 (0.42, "BACK", 0.65, "HEEL", 0.30)] + _PUSH,
    "midfoot": [(0.0, 0.0, None, 0.24, 0.30), (0.30, 0.03, None, 0.22, 0.30),
                (0.60, 0.68, 0.50, 0.15, 0.30)] + _PUSH[1:],
}
_BACKWARD = {
    "forefoot": [(0.0, 0.0, None, 0.07, 0.20), (0.15, -0.02, None, 0.09, 0.25), (0.50, 0.45, 0.55, 0.20, 0.30),
                 (0.80, 0.28, 0.50, 0.12, 0.30), (1.0, 0.18, 0.50, 0.08, 0.25)],
    "midfoot": [(0.0, 0.0, None, 0.24, 0.30), (0.30, -0.03, None, 0.22, 0.30), (0.70, 0.30, 0.50, 0.12, 0.30),
                (1.0, 0.17, 0.50, 0.08, 0.25)],
    "rearfoot": [(0.0, 0.0, None, 0.09, 0.25), (0.22, 0.04, None, 0.10, 0.25), (0.50, 0.35, 0.55, 0.20, 0.30),
                 (1.0, 0.15, 0.50, 0.08, 0.25)],
}
# where each pattern lands: y range (strike index kept off the 33.3/66.7 borders) and x range
_START = {"rearfoot": ((0.08, 0.20), (0.50, 0.62)),
          "midfoot": ((0.42, 0.58), (0.65, 0.80)),
          "forefoot": ((0.72, 0.80), (0.70, 0.85))}


@dataclass(frozen=True)
class SimSettings:
    """What the simulated runner does. Times in s, forces in N, counts are ADC counts.

    ``feet`` names the feet produced (truth and load); sensors of a foot not produced read an
    unloaded sensor. ``variation`` scales all step-to-step variation (0 = a metronome).
    ``mixed_proportions`` are the (forefoot, midfoot, rearfoot) shares of a ``mixed`` run.
    ``drift_counts`` is the SD of the slow baseline wander (and the scale of the warm-up creep
    and preload offset); ``noise_counts`` and ``drift_counts`` are in the stored value's units
    for a linear calibration. ``start_s`` is the first landing, so a detector sees the unloaded
    baseline first.
    """

    pattern: str = "mixed"
    direction: str = "forward"
    cadence_spm: float = 170.0
    feet: str = "both"
    seed: int = 0
    body_mass_kg: float = 70.0
    noise_counts: float = 3.0
    duty_factor: float = 0.35
    variation: float = 1.0
    mixed_proportions: tuple[float, float, float] = (0.4, 0.2, 0.4)
    drift_counts: float = 10.0
    gain_spread: float = 0.06
    start_s: float = 0.5

    def __post_init__(self):
        for name, allowed in (("pattern", PATTERNS), ("direction", DIRECTIONS), ("feet", FEET_CHOICES)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name}: expected one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        for name, lo, hi in (("cadence_spm", 60.0, 300.0), ("body_mass_kg", 10.0, 300.0),
                             ("noise_counts", 0.0, 1e4), ("duty_factor", 0.1, 0.5), ("variation", 0.0, 5.0),
                             ("drift_counts", 0.0, 1e4), ("gain_spread", 0.0, 0.5), ("start_s", 0.0, 60.0)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not lo <= v <= hi:
                raise ConfigError(f"{name}: expected a number from {lo:g} to {hi:g}, got {v!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral) or self.seed < 0:
            raise ConfigError(f"seed: expected a non-negative integer, got {self.seed!r}")
        try:
            p = np.asarray(self.mixed_proportions, dtype=float)
        except (TypeError, ValueError):
            p = np.full(1, np.nan)
        if p.shape != (3,) or not np.all(np.isfinite(p)) or np.any(p < 0) or p.sum() <= 0:
            raise ConfigError(f"mixed_proportions: expected three non-negative shares (forefoot, midfoot, "
                              f"rearfoot), got {self.mixed_proportions!r}")


_ACTIVE_EXP = np.log(0.5) / np.log(0.45)     # s**a = 0.5 at s = 0.45: active peak at 45 % of stance


def settings_from(values, body_mass_kg: float | None) -> SimSettings:
    """The runner from a mapping of the command line's names (``pattern``, ``direction``,
    ``cadence``, ``feet``, ``seed``; a missing or None one takes :data:`SIM_DEFAULTS`), with the
    kit's body mass (70 kg when unknown)."""
    v = {k: SIM_DEFAULTS[k] if values.get(k) is None else values[k] for k in SIM_DEFAULTS}
    return SimSettings(pattern=v["pattern"], direction=v["direction"], cadence_spm=v["cadence"],
                       feet=v["feet"], seed=v["seed"], body_mass_kg=body_mass_kg or 70.0)


def _grf_bw(tau_s: np.ndarray, contact_s: float, peak_bw: float, q: float, t_imp_s: float,
            amp_bw: float) -> np.ndarray:
    """Vertical force (body weights) ``tau_s`` s after contact; 0 outside [0, contact_s).

    An active hump ``peak_bw`` × sin(π s^a)^q (s = fraction of stance; peak at 45 %; a larger
    ``q`` loads the body's hump later, leaving the first tens of ms to the impact) plus an impact
    bump of height ``amp_bw``: a quarter-sine rise to ``t_imp_s`` (near-linear loading, as
    measured from 200 N to 90 % of the peak) and a fast Gaussian fall (SD 0.5 × t_imp),
    so a dip follows it, as in a heel-strike force curve.
    """
    s = np.clip(tau_s / contact_s, 0.0, 1.0)
    f = peak_bw * np.sin(np.pi * s ** _ACTIVE_EXP) ** q
    if amp_bw > 0:
        r = np.maximum(tau_s, 0.0) / t_imp_s
        f = f + amp_bw * np.where(r <= 1.0, np.sin(0.5 * np.pi * np.minimum(r, 1.0)),
                                  np.exp(-0.5 * ((r - 1.0) / 0.5) ** 2))
    return np.where((tau_s >= 0) & (tau_s < contact_s), f, 0.0)


def _ease(s: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Keyframe rows (s, v1, v2, …) → values at ``s``, cosine-eased between keyframes."""
    ks = knots[:, 0]
    j = np.clip(np.searchsorted(ks, s, side="right") - 1, 0, len(ks) - 2)
    u = np.clip((s - ks[j]) / (ks[j + 1] - ks[j]), 0.0, 1.0)
    e = (0.5 - 0.5 * np.cos(np.pi * u))[:, None]
    return knots[j, 1:] + (knots[j + 1, 1:] - knots[j, 1:]) * e


class _Step:
    __slots__ = ("j0", "j1", "cols", "force")

    def __init__(self, j0, j1, cols, force):
        self.j0, self.j1, self.cols, self.force = j0, j1, cols, force


class SimulatedRunner:
    """Streams frames of a simulated run; keeps the true landings.

    ``layout`` gives the sensors (columns, positions, calibrations); ``rate_hz`` the frame rate.
    ``read(n)`` returns the next ``n`` frames; frame ``k`` is at ``t = k / rate_hz`` s. Steps are
    drawn lazily just ahead of the frames read, each with its sensors' forces precomputed, so
    a chunk is a few slice additions and one vectorised conversion. The truth list grows by one
    small dict per landing (~10,000 an hour); nothing else grows with the run's length.
    """

    #: with ``keep_truth`` False, the true landings are kept only this long after they end (s):
    #: a live run reads none of them, and a list of every landing grew ~15 MB an hour
    TRUTH_KEPT_S = 30.0

    def __init__(self, layout: Layout, rate_hz: float, settings: SimSettings = SimSettings(),
                 keep_truth: bool = True):
        if isinstance(rate_hz, bool) or not isinstance(rate_hz, numbers.Real) or not 1.0 <= rate_hz <= 1e5:
            raise ConfigError(f"rate_hz: expected a number from 1 to 100000, got {rate_hz!r}")
        self.layout, self.rate_hz, self.settings = layout, float(rate_hz), settings
        wanted = ("left", "right") if settings.feet == "both" else (settings.feet,)
        self._feet = tuple(f for f in wanted if f in layout.feet)
        if not self._feet:
            raise ConfigError(f"feet: the layout has no sensor under the {settings.feet} foot "
                              f"(it has {', '.join(layout.feet)})")
        m = len(layout)
        cals = [validate(s.calibration, f"sensors[{i}].calibration") for i, s in enumerate(layout)]
        for i, c in enumerate(cals):
            if c["model"] == "linear" and c["scale"] == 0:
                raise ConfigError(f"sensors[{i}].calibration.scale: a linear scale of 0 cannot be inverted")
        self._linear = np.array([c["model"] == "linear" for c in cals])
        self._lin_scale = np.array([c.get("scale", 1.0) if c["model"] == "linear" else 1.0 for c in cals])
        self._lin_offset = np.array([c.get("offset", 0.0) if c["model"] == "linear" else 0.0 for c in cals])
        # columns sharing one fsr_divider calibration are converted in one call
        groups: dict[str, list[int]] = {}
        for i, c in enumerate(cals):
            if c["model"] == "fsr_divider":
                groups.setdefault(repr(sorted(c.items())), []).append(i)
        self._fsr_groups = [(np.array(ix), cals[ix[0]]) for ix in groups.values()]
        self._vmax = np.array([2.0 ** (c["bits"] - 1) - 1 if c["model"] == "fsr_divider" else 2.0 ** 31 - 1
                               for c in cals])

        ss = np.random.SeedSequence(int(settings.seed))
        step_ss, part_ss, base_ss, noise_ss = ss.spawn(4)
        self._rng_steps = np.random.default_rng(step_ss)
        self._rng_base = np.random.default_rng(base_ss)
        self._rng_noise = np.random.default_rng(noise_ss)
        part = np.random.default_rng(part_ss)
        self._gain = 1.0 + settings.gain_spread * part.uniform(-1.0, 1.0, m)
        self._preload = settings.drift_counts * part.uniform(0.0, 2.0, m)   # shoe/lacing preload
        self._warmup = settings.drift_counts * part.uniform(0.0, 2.0, m)    # heat creep as the shoe warms
        # baseline wander: Ornstein-Uhlenbeck at 1 Hz knots, stationary SD drift_counts
        self._a = np.exp(-_KNOT_S / _WANDER_TAU_S)
        self._knots = np.zeros((1, m))
        self._knot0 = 0                       # knot index of self._knots[0]
        self._noise = np.zeros((0, m))
        self._noise0 = 0                      # frame index of self._noise[0]

        self._bw_n = settings.body_mass_kg * G
        self._interval_s = 60.0 / settings.cadence_spm
        self._next_t_on = float(settings.start_s)
        self._step_no = 0
        self._pending: deque[_Step] = deque()
        self._truth: list[dict] = []
        self._t_on: list[float] = []          # t_on_s of each truth record, for bisecting
        self._keep_truth = keep_truth
        self._longest_s = 0.0                 # longest contact so far: only that far back can one be unfinished
        self._k = 0                           # next frame index
        p = np.asarray(settings.mixed_proportions, dtype=float)
        self._mix_cdf = np.cumsum(p / p.sum())

    # ---- steps ---------------------------------------------------------------------------
    def _new_step(self) -> None:
        """Draw the next landing (alternating feet); for a produced foot, record its truth and
        precompute each of its sensors' force over the frames of its contact."""
        st, v = self.settings, self.settings.variation
        # a fixed number of draws per step, whatever the foot or pattern: the steps of one foot
        # are the same with feet="left" as with "both", and patterns do not shift the timing
        z = self._rng_steps.standard_normal(4)
        u = self._rng_steps.random(8)              # u[6], u[7] spare: room to grow without reshuffling seeds
        foot = ("left", "right")[self._step_no % 2]
        self._step_no += 1
        t_on = self._next_t_on
        interval = self._interval_s * max(1.0 + 0.02 * v * z[0], 0.8)       # ~2 % step-time SD
        self._next_t_on = t_on + interval
        if foot not in self._feet:
            return
        if st.pattern == "mixed":
            i = int(np.searchsorted(self._mix_cdf, u[0], side="right"))
            pattern = STRIKES[min(i, 2)]
        else:
            pattern = st.pattern
        backward = st.direction == "backward"
        contact_s = st.duty_factor * 2 * interval * max(1.0 + 0.03 * v * z[1], 0.8)
        if backward:
            contact_s *= 0.9          # longer aerial phase backward (Cavagna 2012)
        peak_bw = float(np.clip(2.5 * (1.0 + 0.04 * v * z[2]), 2.2, 2.9))   # 2.3–2.8 BW
        (ylo, yhi), (xlo, xhi) = _START[pattern]
        y0, x0 = ylo + (yhi - ylo) * u[1], xlo + (xhi - xlo) * u[2]
        # impact transient: rearfoot ~1.7 BW peaking at ~20-30 ms (10-30 ms; Lieberman 2010: shod
        # 1.74 BW, ~70 BW/s: this gives ~70-90 BW/s); midfoot a small bump; forefoot none, and the
        # gentlest early rise (Lieberman: forefoot impact ~0.6 BW)
        t_imp_s = 0.020 + 0.006 * u[3]
        q, amp_bw = {"forefoot": (1.3, 0.0), "midfoot": (1.5, 0.3), "rearfoot": (2.0, 0.0)}[pattern]
        fine = np.linspace(0.0, contact_s, 801)
        if pattern == "rearfoot":
            # fit the bump so the force peaks at impact_bw around t_imp (a few fixed-point passes)
            impact_bw = 1.7 * (1.0 + 0.05 * v * z[3])
            early = fine[fine < 1.5 * t_imp_s]
            for _ in range(5):
                amp_bw = max(amp_bw + impact_bw - _grf_bw(early, contact_s, peak_bw, q, t_imp_s, amp_bw).max(), 0.0)

        def force_n(tau_s):
            return self._bw_n * _grf_bw(tau_s, contact_s, peak_bw, q, t_imp_s, amp_bw)

        self._truth.append(self._truth_record(foot, pattern, t_on, contact_s, y0, x0, fine, force_n(fine)))
        self._t_on.append(t_on)
        self._longest_s = max(self._longest_s, contact_s)
        if not self._keep_truth and len(self._t_on) > 256:       # the old ones, in a batch now and then
            cut = bisect_left(self._t_on, t_on - self._longest_s - self.TRUTH_KEPT_S)
            del self._truth[:cut], self._t_on[:cut]
        j0 = int(np.ceil(t_on * self.rate_hz - 1e-9))
        j1 = int(np.ceil((t_on + contact_s) * self.rate_hz - 1e-9))
        tau = np.arange(j0, j1) / self.rate_hz - t_on
        knots = self._keyframes((_BACKWARD if backward else _FORWARD)[pattern], y0, x0, u)
        path = _ease(np.clip(tau / contact_s, 0.0, 1.0), knots)       # (n, 4): y, x, sigma_y, sigma_x
        cols = self.layout.index[foot]
        ys, xs = self.layout.y[cols], self.layout.x[cols]
        k = np.exp(-0.5 * ((ys - path[:, :1]) / path[:, 2:3]) ** 2 - 0.5 * ((xs - path[:, 1:2]) / path[:, 3:4]) ** 2)
        w = k / np.maximum(k.sum(axis=1, keepdims=True), _COVERAGE)
        self._pending.append(_Step(j0, j1, cols, force_n(tau)[:, None] * w * self._gain[cols]))

    def _truth_record(self, foot, pattern, t_on, contact_s, y0, x0, fine_s, fine_n) -> dict:
        """The truth.csv row of one landing; the force curve ``fine_n`` (N) at ``fine_s`` (s
        after contact) gives the peak, and for a landing with an impact transient its impact
        peak and loading rate (Lieberman 2010: 200 N to 90 % of the impact peak, BW/s)."""
        peak = float(fine_n.max())
        t_on, contact_s, y0, x0 = float(t_on), float(contact_s), float(y0), float(x0)   # plain floats for files
        rec = {"foot": foot, "t_on_s": t_on, "t_off_s": t_on + contact_s, "strike": region_of(y0),
               "strike_index": 100.0 * y0, "contact_ms": 1000.0 * contact_s, "pattern": pattern,
               "direction": self.settings.direction, "x_at_contact": x0, "peak_force_n": peak,
               "peak_force_bw": peak / self._bw_n, "impact_force_n": None, "loading_rate_bw_s": None}
        i_pk = int(np.argmax(np.diff(fine_n) < 0))        # first local maximum
        if fine_s[i_pk] < 0.3 * contact_s:
            i0 = int(np.argmax(fine_n >= 200.0))
            i1 = int(np.argmax(fine_n >= 0.9 * fine_n[i_pk]))
            rec["impact_force_n"] = float(fine_n[i_pk])
            if i1 > i0:
                rec["loading_rate_bw_s"] = float((fine_n[i1] - fine_n[i0]) / self._bw_n / (fine_s[i1] - fine_s[i0]))
        return rec

    @staticmethod
    def _keyframes(rows, y0: float, x0: float, u: np.ndarray) -> np.ndarray:
        """A pattern's keyframe rows with this step's numbers in: the landing point (y0, x0),
        "BACK" = how far back a forefoot lander's COP goes as the heel lowers (y 0.48-0.60) and
        "HEEL" = how long the footprint is then (longer = a heavier heel touch)."""
        out = []
        for s, y, x, sy, sx in rows:
            if x is None:
                y, x = y0 + y, x0
            y = 0.48 + 0.12 * u[4] if y == "BACK" else y
            sy = 0.12 + 0.10 * u[5] if sy == "HEEL" else sy
            out.append((s, y, x, sy, sx))
        return np.array(out, dtype=float)

    # ---- baseline and noise --------------------------------------------------------------
    def _baseline(self, t: np.ndarray) -> np.ndarray:
        """Baseline (stored-value units) at times ``t`` (n,): preload + warm-up creep + wander."""
        m = len(self.layout)
        need = int(np.floor(t[-1] / _KNOT_S)) + 2 - self._knot0
        while len(self._knots) < need:
            eps = self._rng_base.standard_normal((_KNOT_BLOCK, m))
            new = np.empty((_KNOT_BLOCK, m))
            last = self._knots[-1]
            for i in range(_KNOT_BLOCK):       # OU recursion: 64 steps of a 1 Hz process
                last = self._a * last + np.sqrt(1 - self._a ** 2) * self.settings.drift_counts * eps[i]
                new[i] = last
            self._knots = np.vstack([self._knots, new])
        drop = int(np.floor(t[0] / _KNOT_S)) - self._knot0 - 1
        if drop > 0:
            self._knots, self._knot0 = self._knots[drop:], self._knot0 + drop
        u = t / _KNOT_S - self._knot0
        i = np.clip(np.floor(u).astype(int), 0, len(self._knots) - 2)
        f = (u - i)[:, None]
        wander = self._knots[i] * (1 - f) + self._knots[i + 1] * f
        creep = self._warmup * (1.0 - np.exp(-t / _WARMUP_TAU_S))[:, None]
        return self._preload + creep + wander

    def _noise_rows(self, k: int, n: int) -> np.ndarray:
        m = len(self.layout)
        while self._noise0 + len(self._noise) < k + n:
            self._noise = np.vstack([self._noise[k - self._noise0:],
                                     self._rng_noise.standard_normal((_NOISE_BLOCK, m))])
            self._noise0 = k
        return self._noise[k - self._noise0:k - self._noise0 + n] * self.settings.noise_counts

    # ---- public --------------------------------------------------------------------------
    def read(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Next ``n`` frames: ``t_s`` (n,) seconds (frame k at k / rate_hz) and the stored
        values (n, len(layout)) int32: ADC counts for fsr_divider sensors, else the linear
        calibration's value units."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n: expected a non-negative integer, got {n!r}")
        k, m = self._k, len(self.layout)
        if n == 0:
            return np.zeros(0), np.zeros((0, m), dtype=np.int32)
        while self._next_t_on * self.rate_hz < k + n:
            self._new_step()
        force = np.zeros((n, m))
        for st in self._pending:
            a, b = max(st.j0, k), min(st.j1, k + n)
            if a < b:
                force[a - k:b - k, st.cols] += st.force[a - st.j0:b - st.j0]
        while self._pending and self._pending[0].j1 <= k + n:
            self._pending.popleft()
        t = np.arange(k, k + n) / self.rate_hz
        value = np.empty((n, m))
        value[:, self._linear] = (force[:, self._linear] - self._lin_offset[self._linear]) / self._lin_scale[self._linear]
        for ix, cal in self._fsr_groups:
            value[:, ix] = fsr_divider_counts(force[:, ix], cal)
        value += self._baseline(t) + self._noise_rows(k, n)
        self._k = k + n
        return t, np.clip(np.rint(value), -self._vmax, self._vmax).astype(np.int32)

    def truth_all(self) -> list[dict]:
        """Every landing generated so far (some not finished, some not yet read), in time order."""
        return list(self._truth)

    def truth_until(self, t_s: float) -> list[dict]:
        """The true landings whose contact ended by ``t_s`` (``t_off_s <= t_s``), in time order.

        Each: foot, t_on_s, t_off_s (s), strike, strike_index (100 × true COP y at contact),
        contact_ms, pattern, direction, x_at_contact, peak_force_n/_bw, impact_force_n and
        loading_rate_bw_s (None without an impact transient)."""
        while self._next_t_on <= t_s:
            self._new_step()
        lo = bisect_left(self._t_on, t_s - self._longest_s)       # all before lo have ended
        hi = bisect_right(self._t_on, t_s)                        # none from hi on has begun
        return self._truth[:lo] + [r for r in self._truth[lo:hi] if r["t_off_s"] <= t_s]
