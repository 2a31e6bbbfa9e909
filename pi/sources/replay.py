"""Replay: a recorded session played back through the live pipeline, frame by frame.

Frames keep their recorded times, so the replayed session analyses exactly like the original;
``speed`` only sets the pace (2 = twice as fast as recorded).
"""

from __future__ import annotations

import numpy as np

from analysis.errors import SessionError, UsageError
from analysis.session import markers_of, read_session
from pi.sources.base import FrameSource


class ReplaySource(FrameSource):
    kind = "replay"
    own_clock = True
    drops_late_frames = False      # recorded frames are read late rather than lost

    def __init__(self, session_dir, speed: float = 1.0):
        if not speed > 0:
            raise UsageError(f"--speed must be a positive number, got {speed}")
        self.session = read_session(session_dir)
        if self.session.bad_cell is not None:
            # a replay writes a session of its own: a value it cannot read is not made up there
            line, column, text = self.session.bad_cell
            raise SessionError(f"{self.session.path / 'samples.csv'}: line {line}, column {column}: {text!r} "
                               "is not a reading, so the session cannot be replayed as recorded "
                               "(insole report reads it, noting the cell)")
        self.layout = self.session.layout
        self.rate_hz = self.session.rate_hz               # nominal rate of the recording
        self.pace_hz = self.rate_hz * speed               # the pace at which frames are handed out
        self.speed = speed
        v = self.session.values
        v = v[np.isfinite(v)]              # an empty cell (not sampled) is neither
        self.integer_values = bool(np.all(np.mod(v, 1) == 0)) if v.size else True
        self._i = 0
        # markers after the last frame mark nothing recorded, so a replay never reaches them
        self._markers = markers_of(self.session.meta)

    @property
    def remaining(self) -> int:
        return len(self.session.t_s) - self._i

    def describe(self) -> dict:
        return {"kind": self.kind, "session": str(self.session.path), "speed": self.speed,
                "original_source": self.session.meta.get("source")}

    def read(self, n: int):
        """Next ``n`` frames (fewer at the end of the recording; none once it is over)."""
        a, b = self._i, min(self._i + n, len(self.session.t_s))
        self._i = b
        return self.session.t_s[a:b], self.session.values[a:b]

    def body_mass_kg(self, kit_mass_kg: float | None) -> float | None:
        return self.session.body_mass_kg          # a replay analyses like its recording

    def progress(self) -> tuple[float, float, float]:
        t = self.session.t_s
        return (*((float(t[0]), float(t[-1] - t[0])) if len(t) else (0.0, 0.0)), self.speed)

    def markers_until(self, t_s: float) -> list[tuple[float, str]]:
        """The recording's markers up to ``t_s`` not handed out yet: (t_s, label), in order."""
        out = []
        while self._markers and self._markers[0][0] <= t_s:
            out.append(self._markers.pop(0))
        return out

    def close(self) -> None:
        pass


def open_source(session=None, speed: float = 1.0, **_ignored) -> ReplaySource:
    if session is None:
        raise UsageError("--source replay needs --session DIR (the session folder to play)")
    return ReplaySource(session, speed)
