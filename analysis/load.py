"""``analysis.load_session``: a session folder as numpy arrays, re-analysed, for notebooks.

::

    from analysis import load_session
    s = load_session("sessions/2026-11-24_19-35-50")
    s.t_s                  # (n,) s since the session start (monotonic clock)
    s.forces_n             # (n, n_sensors) N, columns in s.names order
    s.foot_force("left")   # (n,) N, the left foot's sensors summed
    s.landings             # [Landing] re-analysed from the samples (analysis.features.Landing)
    s.table()              # the landings as columns: {"t_on_s": array, "strike": array, …}
    s.summary              # DESIGN.md contract 3 (what `insole report --json` prints)
    s.segments()           # the parts between markers, each a LoadedSession of its own

Detection parameters can be overridden by name (any field of ``ContactParams``,
``StrikeParams`` or ``GaitParams``): ``load_session(path, on_floor_n=30, min_contact_ms=60)``.
"""

from __future__ import annotations

import dataclasses
import numbers
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .calibration import Calibrator
from .errors import SessionError, UsageError
from .features import GaitParams, Landing
from .gait import analyse_forces, not_sampled
from .layout import Layout
from .session import Session, markers_of, read_rows, read_session
from .measures import no_flight
from .summary import flights_before, stride_keep, summarise


def gait_params(base: GaitParams | None = None, **overrides: Any) -> GaitParams:
    """``base`` (default parameters if None) with fields replaced by name, wherever they live
    (``on_floor_n`` is in ``ContactParams``, ``snap_band_from`` in ``StrikeParams`` …). Values
    are numbers of 0 or more; counts (``remember``, ``baseline_min_frames``) whole numbers."""
    if base is not None and not isinstance(base, GaitParams):
        raise UsageError(f"params: expected an analysis.features.GaitParams, got {type(base).__name__} "
                         f"(give single parameters by name instead, e.g. on_floor_n=30)")
    p = base or GaitParams()
    parts = {"contact": p.contact, "strike": p.strike, "top": p}
    where = {f.name: owner for owner, obj in parts.items() for f in dataclasses.fields(obj)
             if f.name not in ("contact", "strike")}
    changes: dict[str, dict] = {owner: {} for owner in parts}
    for k, v in overrides.items():
        if k not in where:
            raise UsageError(f"unknown detection parameter {k!r}; known: {', '.join(sorted(where))}")
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(v) or v < 0:
            raise UsageError(f"detection parameter {k}: expected a number (0 or more), got {v!r}")
        default = getattr(parts[where[k]], k)
        hi = _upper_bound(k, default)
        if v > hi:
            raise UsageError(f"detection parameter {k}: expected at most {hi:g}, got {v!r}")
        if isinstance(default, int):
            if v != int(v):               # a count (frames, contacts): whole numbers only
                raise UsageError(f"detection parameter {k}: expected a whole number, got {v!r}")
            v = int(v)
        else:
            v = float(v)
        changes[where[k]][k] = v
    return dataclasses.replace(p, contact=dataclasses.replace(p.contact, **changes["contact"]),
                               strike=dataclasses.replace(p.strike, **changes["strike"]), **changes["top"])


def _upper_bound(name: str, default) -> float:
    """The largest sensible value of a detection parameter: shares (``…_frac``) 1, strike-index
    points 100, counts 1000, anything else a thousand times its default."""
    if name.endswith("_frac"):
        return 1.0
    if name == "snap_band_from":
        return 100.0
    if isinstance(default, int):
        return 1000
    return 1000.0 * max(float(default), 1.0)


@dataclass
class Segment:
    """A part of a session: from ``t0_s`` (inclusive) to ``t1_s`` (exclusive), s since start."""

    label: str
    t0_s: float
    t1_s: float


@dataclass
class LoadedSession:
    """A session in memory, re-analysed. Times in s since the session start, forces in N.

    ``landings`` are found again from the samples with ``params`` (not read from landings.csv,
    which holds what the live display saw: that is ``live_landings``). ``summary`` is the
    contract-3 dict of these landings. A window of a session (:meth:`between`,
    :meth:`segments`) is a LoadedSession of its own with times still from the session start.
    """

    path: Path
    meta: dict
    layout: Layout
    t_s: np.ndarray
    forces_n: np.ndarray
    landings: list[Landing]
    summary: dict
    params: GaitParams
    rate_hz: float                      # nominal frames/s (session.json, else the median step)
    body_mass_kg: float | None          # from session.json's subject, None when unknown
    label: str | None = None            # the segment's label, for a window of a session
    notes: list[str] = field(default_factory=list)   # problems found in the data (contract 3)
    #: (n, n_sensors) bool: sensors not sampled in a frame (an empty cell; their force reads 0
    #: and their foot has a gap there), or None when every frame is whole
    missing: np.ndarray | None = None
    resume_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    _tables: dict = field(default_factory=dict, repr=False)

    # the CSV tables are read when first asked for: a long session's are ~0.4 s of parsing
    @property
    def live_landings(self) -> list[dict] | None:
        """landings.csv: the landings the live display saw (dicts; None for an imported session)."""
        return self._table("landings.csv")

    @property
    def truth(self) -> list[dict] | None:
        """truth.csv: the true landings of a simulated session (dicts), else None."""
        return self._table("truth.csv")

    def _table(self, name: str) -> list[dict] | None:
        if self.label is not None:       # a window: the tables belong to the whole session
            return None
        if name not in self._tables:
            p = self.path / name
            self._tables[name] = read_rows(p) if p.exists() else None
        return self._tables[name]

    # ----------------------------------------------------------------------------- basics ---
    @property
    def names(self) -> list[str]:
        """Sensor names, in the column order of ``forces_n``."""
        return list(self.layout.names)

    @property
    def feet(self) -> list[str]:
        """The instrumented feet (``left``, ``right``), in that order."""
        return list(self.layout.feet)

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1] - self.t_s[0]) if len(self.t_s) > 1 else 0.0

    @property
    def markers(self) -> list[tuple[float, str]]:
        """(t_s, label) of each marker, in time order."""
        return markers_of(self.meta)

    @property
    def breaks_s(self) -> np.ndarray:
        """Times (s) at which frames resumed after a gap, of either foot (a step in time, skipped
        lines, frames not sampled): no stride or flight is timed across one."""
        return self.resume_s

    def foot_force(self, foot: str) -> np.ndarray:
        """(n,) N: the summed force of one foot's sensors."""
        if foot not in self.layout.index:
            raise UsageError(f"no sensors under the {foot} foot in {self.path}")
        return self.forces_n[:, self.layout.index[foot]].sum(axis=1)

    def landings_of(self, foot: str | None = None, strike: str | None = None) -> list[Landing]:
        """The landings of one foot and/or one strike class (None: any), in time order."""
        return [l for l in self.landings if (foot is None or l.foot == foot) and (strike is None or l.strike == strike)]

    def cadence_points(self, foot: str) -> tuple[np.ndarray, np.ndarray]:
        """(t_s, steps/min) of each stride of one foot: 120 / stride time at the stride's end;
        strides across a gap or a pause left out (as in the summary)."""
        on, d, keep = stride_keep([l.t_on_s for l in self.landings_of(foot)], self.breaks_s)
        return on[1:][keep], 120.0 / d[keep]

    def table(self) -> dict[str, np.ndarray]:
        """The landings as columns (``pandas.DataFrame(s.table())`` makes a data frame):
        the fields of :class:`analysis.features.Landing` except the COP path."""
        cols = [f.name for f in dataclasses.fields(Landing) if f.name != "cop_path"]
        out = {}
        for c in cols:
            vals = [getattr(l, c) for l in self.landings]
            if c in ("foot", "strike", "first_region"):
                out[c] = np.array([v if v is not None else "" for v in vals], dtype=object)
            else:
                out[c] = np.array([np.nan if v is None else v for v in vals], dtype=float)
        return out

    # ---------------------------------------------------------------------------- windows ---
    def between(self, t0_s: float, t1_s: float, label: str | None = None) -> "LoadedSession":
        """The part of the session from ``t0_s`` to ``t1_s`` (s since start): its samples, the
        landings that start within it, and their summary (strides and flights only within it)."""
        a, b = np.searchsorted(self.t_s, [t0_s, t1_s], side="left")
        t = self.t_s[a:b]
        breaks = self.breaks_s
        breaks = np.concatenate([[t0_s], breaks[(breaks > t0_s) & (breaks < t1_s)]])
        # copies, with each flight timed within the part (none across its start), as its summary
        landings = [dataclasses.replace(l) for l in self.landings if t0_s <= l.t_on_s < t1_s]
        for l, flight in flights_before(landings, self.feet, breaks):
            l.flight_ms = flight
        summary = contract3(summarise(landings, self.feet, self.meta.get("health"), breaks), b - a, self.notes)
        return dataclasses.replace(self, t_s=t, forces_n=self.forces_n[a:b], landings=landings,
                                   summary=summary, label=label, notes=list(self.notes),
                                   missing=None if self.missing is None else self.missing[a:b], _tables={})

    def segments(self) -> list["LoadedSession"]:
        """The session cut at its markers: the part before the first marker (labelled
        ``start``), then one part per marker, labelled by it, to the next marker or the end.
        With no markers, the whole session (labelled ``all``). Empty parts are left out."""
        return [self.between(s.t0_s, s.t1_s, s.label) for s in self.segment_bounds()]

    def segment_bounds(self) -> list[Segment]:
        end = float(self.t_s[-1]) + 1e-9 if len(self.t_s) else 0.0
        start = float(self.t_s[0]) if len(self.t_s) else 0.0
        if self.label is not None:           # a part is one segment, its own
            return [Segment(self.label, start, end)]
        named = [(lab or f"marker {i + 1}", t) for i, (t, lab) in enumerate(self.markers) if t < end]
        # a marker at (or before) the first frame names the first part instead of "start"
        first = [lab for lab, t in named if t <= start]
        marks = [(lab, t) for lab, t in named if t > start]
        if not marks:
            return [Segment(first[-1] if first else "all", start, end)]
        cuts = [(first[-1] if first else "start", start)] + marks
        out = []
        for (lab, t0), (_, t1) in zip(cuts, cuts[1:] + [("", end)]):
            if t1 > t0 and np.any((self.t_s >= t0) & (self.t_s < t1)):
                out.append(Segment(lab, t0, t1))
        return out

    def segment(self, which: str | int) -> "LoadedSession":
        """One segment by label or by number (0 = the first, before any marker)."""
        bounds = self.segment_bounds()
        labelled = [s for s in bounds if s.label == which]
        if isinstance(which, int) or (not labelled and which.isascii() and which.isdigit()):
            i = int(which)
            if not 0 <= i < len(bounds):
                raise UsageError(f"{self.path}: segment {i} does not exist; it has {len(bounds)} "
                                 f"({', '.join(s.label for s in bounds)})")
            s = bounds[i]
            return self.between(s.t0_s, s.t1_s, s.label)
        found = labelled
        if not found:
            raise UsageError(f"{self.path}: no segment labelled {which!r}; its segments: "
                             f"{', '.join(repr(s.label) for s in bounds)}")
        if len(found) > 1:
            raise UsageError(f"{self.path}: {len(found)} segments are labelled {which!r}; name one by number")
        s = found[0]
        return self.between(s.t0_s, s.t1_s, s.label)


def load_session(path: str | os.PathLike, params: GaitParams | None = None, **overrides: Any) -> LoadedSession:
    """Read a session folder and re-analyse its landings from the samples.

    ``params`` and ``overrides`` (any detection parameter by name, see :func:`gait_params`)
    change the detection. Raises :class:`analysis.errors.SessionError` with a one-line reason
    when the folder is not a readable session.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise UsageError(f"load_session: expected a session folder's path, got {path!r}")
    return loaded(read_session(path, tables=False), params, **overrides)


def loaded(s: Session, params: GaitParams | None = None, **overrides: Any) -> LoadedSession:
    """A :class:`LoadedSession` of a session already read (see :func:`load_session`)."""
    p = gait_params(params, **overrides)
    if not len(s.t_s):
        raise SessionError(f"{s.path} has no frames to analyse (samples.csv holds only its header)")
    forces = Calibrator([x.calibration for x in s.layout])(s.values)
    missing = not_sampled(s.values)
    found = analyse_forces(s.t_s, forces, s.layout, s.rate_hz, s.body_mass_kg, p, missing, s.breaks)
    landings = found.landings
    notes = list(s.notes) + not_sampled_notes(s.t_s, s.layout, missing)
    if no_flight([l.flight_ms for l in landings]):
        notes.append("flight time: not applicable (in most steps the other foot is still on the ground, "
                     "as in walking)")
    out = LoadedSession(s.path, s.meta, s.layout, s.t_s, forces, landings, {}, p, s.rate_hz, s.body_mass_kg,
                        None, notes, missing, found.breaks_s,
                        {"landings.csv": s.landings, "truth.csv": s.truth} if s.tables_read else {})
    out.summary = contract3(summarise(landings, out.feet, s.meta.get("health"), out.breaks_s), len(s.t_s), notes)
    return out


def contract3(summary: dict, frames_read: int, notes: list[str]) -> dict:
    """``summary`` with what contract 3 adds to it: ``health.frames_read`` (the rows analysed)
    and ``notes`` (each problem found in the data, one line)."""
    summary["health"] = {**(summary.get("health") or {}), "frames_read": int(frames_read)}
    summary["notes"] = list(notes)
    return summary


def not_sampled_notes(t_s: np.ndarray, layout: Layout, missing: np.ndarray | None) -> list[str]:
    """A note per foot with frames in which its sensors were not sampled (empty cells)."""
    if missing is None:
        return []
    out = []
    step = float(np.median(np.diff(t_s))) if len(t_s) > 1 else 0.0
    for foot in layout.feet:
        miss = missing[:, layout.index[foot]].any(axis=1)
        n = int(np.count_nonzero(miss))
        if n:
            first = float(t_s[np.argmax(miss)])
            span = f"{n * step:.1f} s" if n * step >= 1 else f"{n * step * 1000:.0f} ms"
            out.append(f"the {foot} foot was not sampled in {n} frame{'s' if n != 1 else ''} (about {span}, "
                       f"first at {first:.2f} s): left out of its analysis; no landing of it is measured across "
                       "a hole of 50 ms or more")
    return out


def split_spec(spec: str) -> tuple[Path, str | None]:
    """``FOLDER`` or ``FOLDER:SEGMENT`` → (folder, segment or None). A folder whose own name has
    a colon is taken whole when it exists."""
    p = Path(spec)
    if p.exists() or ":" not in spec:
        return p, None
    folder, _, seg = spec.rpartition(":")
    if not seg:
        raise UsageError(f"{spec}: nothing after the ':'; give a segment label or number, or leave the ':' out")
    return Path(folder), seg


def parse_settings(items) -> dict[str, float]:
    """``NAME=VALUE`` strings (the command line's ``--set``) → detection overrides (numbers)."""
    out = {}
    for item in items or ():
        name, eq, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise UsageError(f"--set {item!r}: expected NAME=NUMBER, e.g. on_floor_n=30") from None
        if not eq or not name.strip():
            raise UsageError(f"--set {item!r}: expected NAME=NUMBER, e.g. on_floor_n=30")
    gait_params(**out)                   # unknown names are refused here, before any loading
    return out


def load_part(spec: str, cache: dict | None = None, **overrides: Any) -> tuple[LoadedSession, str]:
    """A session (``FOLDER``) or one part of it between markers (``FOLDER:LABEL`` or
    ``FOLDER:NUMBER``), and its name for display; ``cache`` (folder → LoadedSession) lets two
    parts of one session be loaded once; ``overrides`` as for :func:`load_session`."""
    folder, seg = split_spec(spec)
    cache = {} if cache is None else cache
    key = folder.resolve() if folder.exists() else folder
    if key not in cache:
        cache[key] = load_session(folder, **overrides)
    s = cache[key]
    if seg is None:
        return s, folder.name
    part = s.segment(seg)
    return part, f"{folder.name}:{part.label}"
