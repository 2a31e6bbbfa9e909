"""Contact detection for one foot: when the foot is on the ground.

The detector works on the foot's summed sensor force (shared/notes/gait.md; Blades et al. 2023
found summed in-shoe force with two thresholds within ~1 ms of a force treadmill at contact):

* **Two thresholds.** A contact starts when the summed force, less the baseline, reaches ``on``;
  it ends at the first frame below ``off`` (``off`` < ``on``), so noise around one level
  cannot chatter. The onset is found by walking back from the ``on`` crossing to the last frame
  below ``off``, and on to a lower *edge* level if it is close; toe-off likewise forward from
  the ``off`` crossing. Each edge is timed where the chord across the edge-level crossing
  reaches zero (sub-frame timing, without the bias of timing at a level).
* **Lock-out by merging.** An end followed by a new ``on`` crossing within ``merge_ms`` is the
  same contact (a bouncy landing or toe-off); contacts shorter than ``min_contact_ms`` are not
  landings.
* **Adaptive levels.** ``on``/``off`` follow the median peak of the last few contacts and the
  noise of the last flights, with floors, so they suit a light walker and a heavy runner alike.
* **Baseline tracked in the air.** The first zero comes from the first second of data (an insole
  in a shoe reads a preload). At each onset, each sensor's zero is re-estimated as its mean
  over the quiet frames of the flight just before (FSR drift and heat creep move it); the new
  zero applies from that contact on. A contact that lasts ``max_contact_s`` is ended and the
  zero re-estimated, so a sudden jump of the zero cannot hold the detector in one contact.

One :class:`ContactTracker` runs this state machine on frames in blocks of any size, down to one
(live) or a whole recording (:func:`detect_contacts`), jumping from one threshold crossing to the
next with vectorised searches; its memory is a ring of the recent frames.

A contact that was already under way at the first frame, or is still open at the last, has no
observed initial contact or toe-off: it is reported with ``partial=True`` and is not a landing.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class ContactParams:
    """Detection parameters. Forces in newtons (summed over the foot), times in ms."""

    on_floor_n: float = 20.0          # lowest on-level
    off_floor_n: float = 8.0          # lowest off-level (above the ~3 N steps of coarse insoles)
    edge_floor_n: float = 8.0         # lowest edge level (see edge_frac)
    on_frac: float = 0.06             # on-level as a share of the recent peak force
    off_frac: float = 0.025           # off-level as a share of the recent peak force
    edge_frac: float = 0.005          # the edges (contact and toe-off) are timed at this lower
                                      # level, searched just outside the on/off crossings: a smooth
                                      # toe-off tail would otherwise end every contact early
    edge_search_ms: float = 40.0      # how far beyond the off crossings the edge level is sought
    noise_k: float = 5.0              # off-level at least this many noise SDs
    edge_noise_k: float = 3.0         # edge level at least this many noise SDs (it is only
                                      # sought right beside a contact already found)
    merge_ms: float = 40.0            # an end and a new start closer than this are one contact
    min_contact_ms: float = 40.0      # shorter contacts are not landings
    max_contact_s: float = 4.0        # longer ones (standing) are not landings; a contact that
                                      # lasts this long is ended and the zero re-estimated, so a
                                      # jump in the sensors' zero cannot hold a contact open
    warmup_s: float = 1.0             # the first zero and noise come from this much data
    backtrack_ms: float = 250.0       # how far back the onset search may go
    baseline_window_ms: float = 200.0 # flight frames used for the zero, before the onset
    baseline_guard_ms: float = 15.0   # frames this close to a contact are not used for the zero
    baseline_min_frames: int = 4      # fewer quiet frames: keep the old zero
    remember: int = 8                 # contacts (peaks, noise) the levels follow


@dataclass
class Contact:
    """One contact of one foot. Frame indices are global (from the first frame of the stream)."""

    start: int            # first frame of the contact (at or above the edge level)
    detect: int           # frame where the on-level was reached
    end: int              # first frame below the off-level after the contact (exclusive end)
    t_on_s: float
    t_off_s: float
    on_n: float
    off_n: float
    baseline_n: np.ndarray = field(repr=False)   # per-sensor zero used for this contact, N
    partial: bool = False
    peak_n: float = float("nan")

    @property
    def contact_ms(self) -> float:
        return (self.t_off_s - self.t_on_s) * 1000.0


def _median(values) -> float:
    """Median of a few floats (0 when empty); plain Python, as numpy's costs ~10 us on 8 values."""
    v = sorted(values)
    n = len(v)
    if not n:
        return 0.0
    return float(v[n // 2]) if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2.0


class _Levels:
    """The adaptive on/off levels, as the contacts of a stream change them."""

    def __init__(self, p: ContactParams):
        self.p = p
        self.peaks: deque[float] = deque(maxlen=p.remember)
        self.noise: deque[float] = deque(maxlen=p.remember)
        self.on = self.off = self.edge = 0.0
        self.update()

    def update(self) -> None:
        p = self.p
        ref = _median(self.peaks)
        sd = _median(self.noise)
        self.off = max(p.off_floor_n, p.off_frac * ref, p.noise_k * sd)
        self.on = max(p.on_floor_n, p.on_frac * ref, 2.0 * self.off)
        self.edge = min(self.off, max(p.edge_floor_n, p.edge_frac * ref, p.edge_noise_k * sd))


def _edge_time(t0, t1, v0, v1) -> float:
    """Time the force left (or reached) zero, from the frame pair that crossed the edge level:
    the chord through the two frames, extended to zero, at most one frame beyond the pair (the
    force may already have been above zero, though below the level, in the outer frame). Timing
    at zero rather than at a level removes the level's bias: a smooth toe-off tail would
    otherwise end every contact early."""
    if v1 == v0:
        return float(t1)
    frac = min(2.0, max(-1.0, -v0 / (v1 - v0)))
    return float(t0 + frac * (t1 - t0))


def _zero_from_low_frames(rows: np.ndarray, totals: np.ndarray) -> tuple[np.ndarray, float]:
    """A per-sensor zero from the frames whose summed force is in its lowest tenth (the foot in
    the air, for a runner): their mean, so each sensor's noise averages out."""
    low = totals <= np.quantile(totals, 0.1)
    b = rows[low].sum(axis=0) / int(np.count_nonzero(low))
    return b, float(b.sum())


def _warm_start(rows: np.ndarray, totals: np.ndarray, levels: _Levels) -> tuple[np.ndarray, float]:
    """The first zero and noise level, from the first ``warmup_s`` of data, before detection
    starts: an insole strapped in a shoe reads a preload, and an unmeasured noise would cross
    the first, untuned levels. Noise: the robust SD of frame-to-frame changes (flight frames,
    where the force is steady, are most of a runner's foot's time)."""
    b, B = _zero_from_low_frames(rows, totals)
    if len(totals) >= 3:
        levels.noise.append(1.4826 * float(np.median(np.abs(np.diff(totals)))) / math.sqrt(2.0))
        levels.update()
    return b, B


class _Frames:
    """Conversion of the parameters from ms to frames at a given rate."""

    def __init__(self, p: ContactParams, rate_hz: float):
        fr = lambda ms: max(1, int(round(ms * rate_hz / 1000.0)))
        self.merge = fr(p.merge_ms)
        self.edge = fr(p.edge_search_ms)
        self.backtrack = fr(p.backtrack_ms)
        self.window = fr(p.baseline_window_ms)
        self.guard = fr(p.baseline_guard_ms)
        self.max_contact = fr(p.max_contact_s * 1000.0)
        self.warm = fr(p.warmup_s * 1000.0)
        self.horizon = self.max_contact + self.backtrack + self.window + self.merge + 8


def _last_below(v: np.ndarray, level: float) -> int | None:
    """Index of the last element of ``v`` below ``level``, or None."""
    below = (v < level).nonzero()[0]       # the method: numpy's function wrappers cost more here
    return int(below[-1]) if below.size else None


def _locate_onset(k: int, lo_limit: int, last_end: int, get, levels: _Levels, p: ContactParams,
                  fr: _Frames, baseline: np.ndarray, B: float):
    """Everything done when a contact is detected at frame ``k``.

    1. Find the rise: walk back from ``k`` to the last frame less than ``off`` above the lowest
       flight frame before it (the lowest, not the old zero, so that a zero that has drifted
       above ``off`` cannot hide the flight).
    2. New zero: each sensor's mean over the quiet flight frames before the rise.
    3. The start of the contact: walk back again against the new zero, then on to the edge
       level if it is close; time the edge.

    ``get(g0, g1)`` returns ``(t, rows, totals)`` of global frames [g0, g1); it is called once.
    Returns ``(start, partial, t_on_s, baseline, B)``.
    """
    lo = max(0, k - fr.backtrack, last_end + 1, lo_limit)
    w0 = max(0, last_end + 1, k - fr.backtrack - fr.window, lo_limit)
    t, rows, r_all = get(w0, k + 1)
    r = r_all[:-1]                            # the frames before k
    if r.size:
        floor = B + float((r - B).min())      # the flight's level, whatever the old zero says
        i = _last_below(r - floor, levels.off)
        if i is not None:
            rise = w0 + i + 1
            g0 = max(last_end + fr.guard, rise - fr.window, w0)
            g1 = rise - fr.guard
            if g1 - g0 >= p.baseline_min_frames:
                seg = slice(g0 - w0, g1 - w0)
                quiet = (r[seg] - floor) < levels.off
                nq = int(np.count_nonzero(quiet))
                if nq >= p.baseline_min_frames:
                    baseline = rows[seg][quiet].sum(axis=0) / nq
                    B = float(baseline.sum())
                    d = r[seg][quiet]
                    d = d - d.sum() / nq
                    levels.noise.append(math.sqrt(float(d @ d) / nq))
                    levels.update()
    v = r_all - B                             # frames w0…k against the new zero
    i = _last_below(v[lo - w0:k - w0], levels.off)
    if i is None or lo + i + 1 == 0:
        start = lo if i is None else 0
        return start, True, float(t[start - w0]), baseline, B
    start = lo + i + 1
    # the edge: further back, to the last frame below the edge level, if it is close
    e0 = max(lo, start - fr.edge)
    j = _last_below(v[e0 - w0:start - w0], levels.edge)
    if j is not None and e0 + j + 1 > 0:
        start = e0 + j + 1
    a = start - w0
    return start, False, _edge_time(t[a - 1], t[a], v[a - 1], v[a]), baseline, B


def _toe_off(e: int, n_available: int, get, levels: _Levels, fr: _Frames, B: float) -> float:
    """Toe-off time of a contact whose force fell below ``off`` at frame ``e``: timed where it
    falls below the edge level, if that happens within ``edge_search_ms``."""
    e1 = min(n_available, e + fr.edge, e + fr.merge)
    _, _, r = get(e, e1)
    below = ((r - B) < levels.edge).nonzero()[0]
    last = e + int(below[0]) if below.size else e
    t, _, rr = get(last - 1, last + 1)
    return _edge_time(t[0], t[1], rr[0] - B, rr[1] - B)


class ContactTracker:
    """Streaming contact detection for one foot.

    ``push(t_s, force_n)`` takes a block of frames (``(n,)`` times in s and ``(n, k)`` raw
    calibrated forces in N of this foot's sensors) and returns the contacts *finalised* in it
    (those whose end and merge window have passed). Memory is a fixed ring of recent frames.
    ``open_contact`` is the contact under way (or None), for early verdicts.
    """

    OFF, ON, ENDING = 0, 1, 2

    def __init__(self, n_sensors: int, rate_hz: float, params: ContactParams = ContactParams(),
                 block: int = 0):
        self.p = params
        self.fr = _Frames(params, rate_hz)
        self.levels = _Levels(params)
        #: frames taken at a time (``block``, at least the horizon): the frames of every contact
        #: a push completes are still in the ring when it returns (``times``, ``forces``)
        self.step = max(self.fr.horizon, int(block))
        self._cap = cap = self.step + self.fr.horizon
        self._t = np.zeros(cap)
        self._f = np.zeros((cap, n_sensors))
        self._r = np.zeros(cap)
        self.n = 0                       # frames seen so far = global index of the next frame
        self.baseline = np.zeros(n_sensors)
        self.total_baseline = 0.0
        self.state = self.OFF
        self.last_end = -10**9
        self.open_contact: Contact | None = None
        self.last_t_s = float('nan')     # time of the newest frame
        self.warm = False                # zero and noise estimated from the first frames
        self.done = 0                    # frames the state machine has processed
        self.floor = 0                   # first frame after the last gap: onsets are not sought before it

    # ring access by global frame index -------------------------------------------------------
    def _at(self, g0: int, g1: int):
        """Ring positions of global frames [g0, g1): a slice where they do not wrap (the usual
        case, and a view, cheaper than an index array)."""
        a = g0 % self._cap
        if a + (g1 - g0) <= self._cap:
            return slice(a, a + g1 - g0)
        return np.arange(g0, g1) % self._cap

    def _get(self, g0: int, g1: int):
        at = self._at(g0, g1)
        return self._t[at], self._f[at], self._r[at]

    def times(self, g0: int, g1: int) -> np.ndarray:
        return self._t[self._at(g0, g1)].copy()

    def forces(self, g0: int, g1: int) -> np.ndarray:
        """Raw forces (N) of global frames [g0, g1); they must still be in the ring."""
        return self._f[self._at(g0, g1)].copy()

    def push(self, t_s: np.ndarray, force_n: np.ndarray) -> list[Contact]:
        t_s = np.asarray(t_s, dtype=float)
        force_n = np.asarray(force_n, dtype=float)
        step = self.step              # never overwrite frames the state machine may still need
        if len(t_s) <= step:
            return self._push(t_s, force_n)
        out: list[Contact] = []
        for a in range(0, len(t_s), step):
            out.extend(self._push(t_s[a:a + step], force_n[a:a + step]))
        return out

    def _push(self, t_s, force_n) -> list[Contact]:
        n0, m = self.n, len(t_s)
        totals = force_n.sum(axis=1)
        i0 = n0 % self._cap
        if i0 + m <= self._cap:       # the usual case: a slice, cheaper than fancy indexing
            self._t[i0:i0 + m] = t_s
            self._f[i0:i0 + m] = force_n
            self._r[i0:i0 + m] = totals
        else:
            idx = np.arange(n0, n0 + m) % self._cap
            self._t[idx] = t_s
            self._f[idx] = force_n
            self._r[idx] = totals
        self.n = n0 + m
        self.last_t_s = float(t_s[-1]) if m else self.last_t_s
        if not self.warm:
            if self.n < self.fr.warm:
                return []
            self._warm_up()
        return self._run()

    def _warm_up(self) -> None:
        _, rows, r = self._get(0, min(self.n, self.fr.warm))
        self.baseline, self.total_baseline = _warm_start(rows, r, self.levels)
        self.warm = True

    def _run(self) -> list[Contact]:
        """Step the state machine over the frames not yet processed, jumping from one crossing
        to the next (as :func:`detect_contacts` does): a block of a whole recording costs a few
        vectorised searches per contact, a block of a few frames a few Python comparisons."""
        out = []
        lv, fr = self.levels, self.fr
        g0, n = self.done, self.n
        self.done = n
        tot = self._r[self._at(g0, n)]
        first = _first if n - g0 > _FEW else _first_few
        if first is _first_few:
            tot = tot.tolist()
        k = g0
        while k < n:
            if self.state == self.OFF:
                j = first(tot, self.total_baseline, lv.on, k - g0, n - g0, True)
                if j < 0:
                    break
                k = g0 + j
                self._onset(k)
                k += 1
            elif self.state == self.ON:
                c = self.open_contact
                stuck = max(k, c.start + fr.max_contact)     # the frame it has lasted too long at
                j = first(tot, self.total_baseline, c.off_n, k - g0, min(n, stuck + 1) - g0, False)
                if j >= 0:
                    self.state = self.ENDING
                    c.end = k = g0 + j
                    k += 1
                elif stuck < n:
                    out.append(self._stuck(stuck))
                    k = stuck + 1
                else:
                    break
            else:                                            # ENDING: a new on-crossing in the merge window?
                c = self.open_contact
                m = c.end + fr.merge
                j = first(tot, self.total_baseline, lv.on, k - g0, min(n, m) - g0, True)
                if j >= 0:
                    self.state = self.ON
                    k = g0 + j + 1
                elif m < n:
                    out.append(self._finalise())
                    k = m                                    # an onset may come at frame m itself
                else:
                    break
        return out

    def _stuck(self, k: int) -> Contact:
        c = self.open_contact
        _, rows, r = self._get(k - self.fr.max_contact, k)
        self.baseline, self.total_baseline = _end_stuck(c, k, float(self.times(k, k + 1)[0]), rows, r)
        self.last_end = k
        self.open_contact = None
        self.state = self.OFF
        return c

    def _onset(self, k: int) -> None:
        lv = self.levels
        start, partial, t_on, self.baseline, self.total_baseline = _locate_onset(
            k, max(self.n - self._cap + 1, self.floor), self.last_end, self._get, lv, self.p, self.fr,
            self.baseline, self.total_baseline)
        self.open_contact = Contact(start=start, detect=k, end=-1, t_on_s=t_on, t_off_s=float("nan"),
                                    on_n=lv.on, off_n=lv.off, baseline_n=self.baseline.copy(),
                                    partial=partial)
        self.state = self.ON

    def _finalise(self) -> Contact:
        c = self.open_contact
        e = c.end
        c.t_off_s = _toe_off(e, self.n, self._get, self.levels, self.fr, self.total_baseline)
        _finish(c, self._r[self._at(c.start, e)] if e - c.start <= self.fr.max_contact else None,
                self.levels, self.p, self.total_baseline)
        self.last_end = e
        self.open_contact = None
        self.state = self.OFF
        return c

    def gap(self) -> list[Contact]:
        """Frames were lost here (the next ones come after a gap): a contact that has ended is
        finalised, one still on the ground ends partial, and a contact after the gap is never
        timed from frames before it (if the foot is already down, it is partial)."""
        out = self.finish()
        self.floor = self.n
        return out

    def finish(self) -> list[Contact]:
        """End of the stream: a contact that has ended (merge window cut short) is finalised;
        one still on the ground is returned as partial (toe-off not observed)."""
        out = []
        if self.n and not self.warm:
            self._warm_up()
            out = self._run()
        if self.open_contact is None:
            return out
        if self.state == self.ENDING:
            return out + [self._finalise()]
        c = self.open_contact
        c.partial = True
        c.end = self.n
        c.t_off_s = float(self.times(self.n - 1, self.n)[0])
        self.open_contact = None
        self.state = self.OFF
        return out + [c]


def _end_stuck(c: Contact, k: int, t_k: float, rows: np.ndarray, totals: np.ndarray):
    """End a contact that has lasted ``max_contact_s`` at frame ``k`` (standing, or a zero that
    jumped): not a landing; the new zero comes from the lowest frames of that time."""
    c.partial, c.end, c.t_off_s = True, k, t_k
    return _zero_from_low_frames(rows, totals)


def _finish(c: Contact, raw_totals: np.ndarray | None, levels: _Levels, p: ContactParams,
            total_baseline: float) -> None:
    """Peak force, and the levels' update from a finished contact."""
    if raw_totals is None:                   # longer than max_contact_s: standing, not a landing
        c.partial = True
        return
    c.peak_n = float(raw_totals.max() - total_baseline)
    if not c.partial and c.contact_ms >= p.min_contact_ms:
        levels.peaks.append(c.peak_n)
        levels.update()


def _first(x: np.ndarray, zero: float, level: float, start: int, stop: int, above: bool) -> int:
    """First index i in [start, stop) with ``x[i] - zero >= level`` (``above``) or ``< level``,
    or -1. Searches in growing chunks, since the next crossing is usually within a stride.
    ``x - zero`` is computed exactly as the streaming form computes it, so both agree to the bit.
    """
    chunk = 256
    i = start
    while i < stop:
        j = min(stop, i + chunk)
        v = x[i:j] - zero
        hit = (v >= level if above else v < level).nonzero()[0]
        if hit.size:
            return i + int(hit[0])
        i = j
        chunk *= 4
    return -1


_FEW = 32     # frames: fewer to search are compared in Python, where numpy's call costs more


def _first_few(x: list, zero: float, level: float, start: int, stop: int, above: bool) -> int:
    """:func:`_first` over a short list of floats (the same IEEE arithmetic, so the same answer)."""
    for i in range(start, stop):
        v = x[i] - zero
        if (v >= level) if above else (v < level):
            return i
    return -1


def detect_contacts(t_s: np.ndarray, force_n: np.ndarray, rate_hz: float,
                    params: ContactParams = ContactParams()) -> list[Contact]:
    """Every contact of one foot in a whole recording (partial ones included, flagged): a
    :class:`ContactTracker` given it in one block.

    ``t_s`` (n,) s; ``force_n`` (n, k) raw calibrated forces of the foot's sensors, N.
    """
    f = np.asarray(force_n, dtype=float)
    tracker = ContactTracker(f.shape[1], rate_hz, params, block=len(f))
    return tracker.push(t_s, f) + tracker.finish()
