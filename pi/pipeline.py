"""What happens to frames after the sampler: logging, the streaming gait core, live figures.

:class:`Pipeline` is the one path frames take, live (``insole run``, fed by the processing
thread from the sampler's queue) and as fast as possible (``insole simulate``, fed directly in
large blocks). It writes the session, runs :class:`analysis.gait.StreamingGait`, keeps the
figures the display shows, and builds :class:`pi.snapshot.Snapshot` objects on request.
"""

from __future__ import annotations

from collections import deque
from typing import Callable

import numpy as np

from analysis.gait import Gap, Landing, StreamingGait, Verdict
from analysis.layout import Layout
from analysis.session import SessionWriter
from analysis.strike import STRIKES
from analysis.summary import cadence_of_foot, summarise
from pi.snapshot import FootView, Health, LandingView, Snapshot

RECENT = 20          # landings in the "last 20" forefoot share
STRIDES_KEPT = 12    # landings per foot kept for cadence and contact time


class _FootStats:
    def __init__(self, foot: str, layout: Layout):
        self.foot = foot
        self.sensors = tuple((s.name, s.x, s.y) for s in layout.foot_sensors(foot))
        self.recent: deque[Landing] = deque(maxlen=STRIDES_KEPT)
        self.strikes: deque[str] = deque(maxlen=RECENT)
        self.landings = 0
        self.forefoot = 0
        self.last_verdict: Verdict | None = None
        self.cop_path: tuple = ()


class LandingLog:
    """Every landing's figures for the end-of-run summary, in compact columns: ~40 bytes a
    landing (times as float64, the rest float32: 7 significant digits, more than any of them
    carries), where a :class:`Landing` kept whole cost ~600 (its dict, its floats), so a long
    session's memory stays flat (11 000 landings an hour: under 0.5 MB)."""

    TIMES = ("t_on_s", "t_off_s")
    FIGURES = ("contact_ms", "strike_index", "flight_ms", "peak_force_n", "peak_force_bw", "loading_rate_bw_s")
    FEET = ("left", "right")
    STRIKES = STRIKES

    def __init__(self):
        self._n = 0
        self._t = np.empty((256, len(self.TIMES)))
        self._f = np.empty((256, len(self.FIGURES)), dtype=np.float32)
        self._codes = np.empty((256, 2), dtype=np.int8)        # foot, strike

    def __len__(self) -> int:
        return self._n

    def append(self, l: Landing) -> None:
        if self._n == len(self._t):                # doubling: amortised O(1), no per-landing object
            self._t, self._f, self._codes = (np.concatenate([a, np.empty_like(a)]) for a in (self._t, self._f, self._codes))
        self._t[self._n] = [getattr(l, k) for k in self.TIMES]
        self._f[self._n] = [np.nan if getattr(l, k) is None else getattr(l, k) for k in self.FIGURES]
        self._codes[self._n] = (self.FEET.index(l.foot), self.STRIKES.index(l.strike))
        self._n += 1

    def rows(self) -> list[dict]:
        """The landings as dicts (None where a figure is unknown), for :func:`summarise`."""
        out = []
        n = self._n
        for times, figs, (foot, strike) in zip(self._t[:n].tolist(), self._f[:n].tolist(), self._codes[:n].tolist()):
            row = dict(zip(self.TIMES, times))
            row.update((k, None if v != v else v) for k, v in zip(self.FIGURES, figs))
            row["foot"], row["strike"] = self.FEET[foot], self.STRIKES[strike]
            out.append(row)
        return out


class Pipeline:
    def __init__(self, layout: Layout, rate_hz: float, body_mass_kg: float | None,
                 writer: SessionWriter | None = None,
                 on_landing: Callable[[Landing, FootView], None] | None = None,
                 on_verdict: Callable[[Verdict], None] | None = None):
        self.layout = layout
        self.gait = StreamingGait(layout, rate_hz, body_mass_kg)
        self.writer = writer
        self.on_landing = on_landing
        self.on_verdict = on_verdict
        self.rate_hz = rate_hz
        self.feet = {f: _FootStats(f, layout) for f in layout.feet}
        self.landings = LandingLog()             # all of them, for the final summary (compact)
        self.verdicts: deque[LandingView] = deque(maxlen=10)
        self.strikes_recent: deque[str] = deque(maxlen=RECENT)
        self.n_verdicts = 0
        self.breaks: list[float] = []            # times frames resumed after a gap
        self.frames = 0
        self.first_t_s = self.last_t_s = 0.0     # s: a replay's frames keep their recorded times

    # ------------------------------------------------------------------------------ frames ---
    def process(self, t_s: np.ndarray, values: np.ndarray) -> None:
        if len(t_s) == 0:
            return
        if self.writer is not None:
            self.writer.write_frames(t_s, values)
        self._handle(self.gait.push(t_s, values))
        if not self.frames:
            self.first_t_s = float(t_s[0])
        self.frames += len(t_s)
        self.last_t_s = float(t_s[-1])
        if self.writer is not None:
            self.writer.tick()

    def finish(self) -> None:
        self._handle(self.gait.finish())

    def _handle(self, events) -> None:
        for ev in events:
            if isinstance(ev, Gap):             # frames lost: no step or flight is timed across it
                for fs in self.feet.values():
                    fs.recent.clear()
                self.breaks.append(ev.t_on_s)
                continue
            fs = self.feet[ev.foot]
            if isinstance(ev, Verdict):
                fs.last_verdict = ev
                self.n_verdicts += 1
                self.verdicts.append(LandingView(ev.foot, ev.strike, ev.strike_index, ev.t_on_s, self.n_verdicts))
                if self.on_verdict is not None:
                    self.on_verdict(ev)
                continue
            fs.recent.append(ev)
            fs.strikes.append(ev.strike)
            fs.landings += 1
            fs.forefoot += ev.strike == "forefoot"
            fs.cop_path = _path_points(ev.cop_path)
            self.strikes_recent.append(ev.strike)
            self.landings.append(ev)
            if self.writer is not None:
                self.writer.write_landing(ev.csv_row())
            if self.on_landing is not None:
                self.on_landing(ev, self.foot_view(ev.foot))

    # ------------------------------------------------------------------------------ figures ---
    def foot_view(self, foot: str) -> FootView:
        fs = self.feet[foot]
        recent = list(fs.recent)
        v = fs.last_verdict
        path = fs.cop_path
        if v is not None:
            # the caption shows this landing's verdict ~40 ms in: draw its path as it grows, not
            # the last landing's (a "FOREFOOT" over a path from the heel contradicted itself)
            growing = self.gait.open_path(foot, v.t_on_s)
            if growing is not None:
                path = _path_points(growing)
            elif not recent or recent[-1].t_on_s != v.t_on_s:
                path = ()                       # its path is not known yet: none, not another's
        return FootView(
            foot=foot, sensors=fs.sensors, cop_path=path,
            last_strike=v.strike if v else None,
            last_strike_index=round(v.strike_index, 1) if v else None,
            landings=fs.landings,
            forefoot_pct_last20=_pct(list(fs.strikes)),
            forefoot_pct_session=round(100.0 * fs.forefoot / fs.landings, 1) if fs.landings else None,
            cadence_spm=cadence_of_foot([l.t_on_s for l in recent]),
            contact_ms=round(float(np.median([l.contact_ms for l in recent])), 0) if recent else None,
            in_contact=self.gait_in_contact(foot),
        )

    def gait_in_contact(self, foot: str) -> bool:
        for ft in self.gait.feet:
            if ft.foot == foot:
                return ft.tracker.open_contact is not None
        return False

    def snapshot(self, source: str, session_dir: str, elapsed_s: float, health: Health,
                 notice: str | None = None, stopping: bool = False) -> Snapshot:
        n = len(self.landings)
        ff = sum(fs.forefoot for fs in self.feet.values())
        return Snapshot(
            source=source, session_dir=session_dir, elapsed_s=elapsed_s, health=health,
            feet=tuple(self.foot_view(f) for f in self.layout.feet),
            last_landing=self.verdicts[-1] if self.verdicts else None,
            landings=n,
            forefoot_pct_last20=_pct(list(self.strikes_recent)),
            forefoot_pct_session=round(100.0 * ff / n, 1) if n else None,
            notice=notice, stopping=stopping, recent=tuple(self.verdicts))

    def summary(self, health: dict | None = None) -> dict:
        return summarise(self.landings.rows(), self.layout.feet, health, self.breaks)


def _path_points(path: np.ndarray) -> tuple:
    """A COP path as at most ~40 (x, y) points, for the display."""
    return tuple(map(tuple, np.round(path[:: max(1, len(path) // 40)], 3).tolist()))


def _pct(strikes: list[str]) -> float | None:
    return round(100.0 * strikes.count("forefoot") / len(strikes), 1) if strikes else None


def session_meta(source, started_at: str, body_mass_kg: float | None, kit_path: str | None = None,
                 extra: dict | None = None) -> dict:
    """The ``session.json`` content known at the start of a session (contract 2)."""
    from analysis import __version__
    meta = {
        "format": "insole-session/1",
        "started_at": started_at,
        "software": {"name": "insole", "version": __version__},
        "source": source.describe(),
        "rate_hz": source.rate_hz,
        "subject": {"body_mass_kg": body_mass_kg},
        "kit": kit_path,
        "markers": [],
        "health": {"frames": 0, "late_frames": 0, "skipped_frames": 0, "bus_errors": 0},
    }
    meta.update(extra or {})
    return meta


def utc_now_iso() -> str:
    from datetime import datetime, timezone
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
