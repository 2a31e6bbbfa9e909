"""What every importer returns (:class:`Recording`), the checks of its time column, and the
session folder it becomes (DESIGN.md contract 2, the same as a logged session's).

An imported session stores newtons (to 6 significant digits, as the session writer stores
non-integer values): each sensor's calibration is the identity
``{"model": "linear", "scale": 1, "offset": 0}``. It has no ``landings.csv`` (nothing was
classified live). ``source`` is ``{"kind": "import", "format", "file", "settings",
"imported_at", "started_at_from"}``; ``rate_hz`` is measured from the file's time column;
``health`` counts the frames, the frames missing in gaps as ``skipped_frames``, and null for
what another system's file cannot tell (late frames, bus errors).

Gaps: a time step of ``analysis.gait.GAP_PERIODS`` frame periods and at least
``analysis.gait.GAP_MIN_S`` is a gap, the same rule the analysis uses for frames lost live. A gap
is kept (the analysis measures no contact, stride or flight across it) and listed in
``session.json`` ``gaps`` as the logger lists its own; with ``on_gap="error"`` it is refused.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from .. import __version__
from ..errors import FileFormatError, SessionError, UsageError
from ..gait import gap_starts
from ..layout import Layout
from ..session import SessionWriter

RATE_RANGE_HZ = (1.0, 20000.0)    # outside this the time column is in other units than assumed
ON_GAP = ("flag", "error")
BODY_MASS_KG = (20.0, 250.0)      # as the kit file accepts
WRITE_BLOCK = 50_000              # frames per write: progress granularity


@dataclass
class Recording:
    """Another system's recording in the project's terms.

    ``t_s`` (n,) s since the first frame; ``force_n`` (n, sensors) N in ``layout`` order;
    ``settings`` what the importer assumed or measured (saved in ``source.settings``);
    ``notes`` one-line remarks for the user (dropped rows, gaps, a missing weight).
    """

    file: str
    format: str
    t_s: np.ndarray
    force_n: np.ndarray
    layout: Layout
    rate_hz: float
    settings: dict = field(default_factory=dict)
    gaps: list[dict] = field(default_factory=list)
    markers: list[dict] = field(default_factory=list)
    body_mass_kg: float | None = None
    started_at: str | None = None       # UTC ISO 8601 when the file says when it began
    notes: list[str] = field(default_factory=list)


def check_mass(mass_kg: float | None, where: str) -> float | None:
    if mass_kg is None:
        return None
    lo, hi = BODY_MASS_KG
    if not lo <= mass_kg <= hi:
        raise UsageError(f"{where}: body mass must be {lo:g}-{hi:g} kg, got {mass_kg:g}")
    return float(mass_kg)


def check_time(t: np.ndarray, line_no: np.ndarray, file: str, on_gap: str = "flag",
               column: str = "time", advice: str | None = None, repeat_hint: str = ""
               ) -> tuple[np.ndarray, float, list[dict]]:
    """Check a time column (s) and make it the session clock.

    Returns ``(t_s, rate_hz, gaps)``: time from 0 at the first row; the frame rate from the
    median step; gaps as ``session.json`` lists them. Raises :class:`FileFormatError` naming the
    line where time repeats or goes back, and on a gap when ``on_gap == "error"``; ``advice``
    ends the message about a rate no insole has (default: check --time-units), ``repeat_hint``
    the one about a repeated time.
    """
    if on_gap not in ON_GAP:
        raise UsageError(f"on_gap must be one of {', '.join(ON_GAP)}, got {on_gap!r}")
    if len(t) < 2:
        raise FileFormatError(f"{file}: only {len(t)} data line; a recording needs at least two")
    step = np.diff(t)
    back = np.flatnonzero(step <= 0)
    if back.size:
        i = int(back[0])
        more = f" ({back.size} places in all)" if back.size > 1 else ""
        if step[i] == 0:
            raise FileFormatError(f"{file}: line {line_no[i + 1]}: {column} {t[i + 1]:g} s repeats line "
                                  f"{line_no[i]}; every frame needs its own time{more}{repeat_hint}")
        raise FileFormatError(f"{file}: line {line_no[i + 1]}: {column} goes back from {t[i]:g} s (line {line_no[i]}) "
                              f"to {t[i + 1]:g} s; the rows must be in time order{more}")
    median = float(np.median(step))
    rate = float(f"{1.0 / median:.6g}")
    lo, hi = RATE_RANGE_HZ
    if not lo <= rate <= hi:
        guess = "ms (or finer)" if rate < lo else "seconds"
        advice = advice or f"is the time in {guess}? say so with --time-units"
        raise FileFormatError(f"{file}: {column} steps by {median:g} s (median), {rate:g} frames/s: not an insole's "
                              f"rate; {advice}")
    t_s = t - t[0]
    gaps = []
    for i in gap_starts(t_s, rate):
        i = int(i)
        missing = t_s[i] - t_s[i - 1] - 1.0 / rate
        gap = {"t_s": round(float(t_s[i - 1]) + 1.0 / rate, 6), "duration_s": round(float(missing), 6),
               "frames": int(round(missing * rate)),
               "reason": f"no complete frame in the file between lines {line_no[i - 1]} and {line_no[i]}"}
        if on_gap == "error":
            raise FileFormatError(f"{file}: line {line_no[i]}: {column} jumps {missing + 1 / rate:g} s after line "
                                  f"{line_no[i - 1]} ({gap['frames']} frames missing at {rate:g} frames/s); "
                                  f"--on-gap flag imports it with the gap listed")
        gaps.append(gap)
    return t_s, rate, gaps


def gap_note(gaps: list[dict]) -> str | None:
    if not gaps:
        return None
    total = sum(g["duration_s"] for g in gaps)
    first = gaps[0]
    return (f"{len(gaps)} gap{'s' if len(gaps) > 1 else ''} in time ({total:.2f} s in all; first at "
            f"{first['t_s']:.2f} s, {first['reason']}): listed in session.json, and no contact, stride or "
            f"flight is measured across one")


def _utc_iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_session(rec: Recording, out: str | os.PathLike,
                  progress: Callable[[int, int], None] | None = None) -> Path:
    """Write ``rec`` as a session folder ``out`` (new, or an empty folder); returns its path."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SessionError(f"{out} already exists and is not empty; choose a new --out folder")
    now = datetime.now(timezone.utc)
    duration_s = float(rec.t_s[-1]) if len(rec.t_s) else 0.0
    start = datetime.fromisoformat(rec.started_at.replace("Z", "+00:00")) if rec.started_at else now
    lost = sum(g["frames"] for g in rec.gaps)
    meta = {
        "format": "insole-session/1",
        "started_at": _utc_iso(start),
        "software": {"name": "insole", "version": __version__},
        "source": {"kind": "import", "format": rec.format, "file": rec.file, "settings": rec.settings,
                   "imported_at": _utc_iso(now),
                   # a file that does not say when it was recorded: the session is dated by its import
                   "started_at_from": "file" if rec.started_at else "import time"},
        "rate_hz": rec.rate_hz,
        "subject": {"body_mass_kg": rec.body_mass_kg},
        "markers": list(rec.markers),
        "health": {"frames": 0, "late_frames": None, "skipped_frames": lost, "bus_errors": None},
        "gaps": list(rec.gaps),
    }
    writer = SessionWriter(out, meta, rec.layout, integer_values=False, with_landings=False)
    n = len(rec.t_s)
    end: dict = {}
    try:
        for a in range(0, n, WRITE_BLOCK):
            b = min(n, a + WRITE_BLOCK)
            writer.write_frames(rec.t_s[a:b], rec.force_n[a:b])
            writer.tick()
            if progress:
                progress(b, n)
        end["ended_at"] = _utc_iso(start + timedelta(seconds=duration_s))
    finally:        # stopped half way: what was written still reads, and says it did not end cleanly
        health = dict(meta["health"], frames=writer.frames_written)
        writer.close(health=health, duration_s=round(duration_s, 6), **end)
    return out
