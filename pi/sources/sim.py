"""The simulated insole as a frame source (see :mod:`pi.simulator` for the runner model)."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np

from analysis.layout import Layout
from pi.simulator import SimSettings, SimulatedRunner
from pi.sources.base import FrameSource


def restrict_layout(layout: Layout, feet: str) -> Layout:
    """The part of ``layout`` under the feet asked for (``left``, ``right`` or ``both``)."""
    if feet == "both":
        return layout
    return Layout(s for s in layout if s.foot == feet)


class SimSource(FrameSource):
    kind = "sim"
    own_clock = True
    # The runner is made up as it goes, so a sampler held up (the first run compiling its
    # modules, the display starting) can still have every frame: read late, counted late, never
    # skipped. Skipped frames on the simulated insole were this machine's stalls, not the kit's.
    drops_late_frames = False

    def __init__(self, layout: Layout, rate_hz: float, settings: SimSettings, keep_truth: bool = True):
        self.layout = restrict_layout(layout, settings.feet)
        self.rate_hz = float(rate_hz)
        self.settings = settings
        # a live run reads no truth: keep only the recent (SimulatedRunner.TRUTH_KEPT_S)
        self.runner = SimulatedRunner(self.layout, self.rate_hz, settings, keep_truth=keep_truth)
        self.integer_values = all(s.calibration.get("model") == "fsr_divider" for s in self.layout)

    def describe(self) -> dict:
        return {"kind": self.kind, "rate_hz": self.rate_hz, "settings": asdict(self.settings)}

    def read(self, n: int):
        return self.runner.read(n)

    def truth_until(self, t_s: float) -> list[dict]:
        return self.runner.truth_until(t_s)

    def close(self) -> None:
        pass


def open_source(kit=None, sim_settings: SimSettings | None = None, **_ignored) -> SimSource:
    from pi.kit import load_kit
    kit = kit or load_kit()
    return SimSource(kit.layout, kit.rate_hz, sim_settings or SimSettings(body_mass_kg=kit.body_mass_kg or 70.0))


class DrillSource(SimSource):
    """The simulated runner changing what it does part way: ``parts`` is a list of
    (label, settings, seconds), run one after the other on one clock, each from a standstill
    (its own runner: a drill starts after a short pause). The start of every part after the
    first is a marker, as a coach pressing the marker button would make it."""

    kind = "sim"

    def __init__(self, layout: Layout, rate_hz: float, parts: list[tuple[str, SimSettings, float]]):
        super().__init__(layout, rate_hz, parts[0][1])
        self.parts = [(label, st, int(round(sec * self.rate_hz))) for label, st, sec in parts]
        self._part = 0
        self._done_in_part = 0
        self._offset_s = 0.0
        self._finished_truth: list[dict] = []      # the truth of the parts already played
        self._markers: list[tuple[float, str]] = []

    def describe(self) -> dict:
        return {"kind": self.kind, "rate_hz": self.rate_hz,
                "parts": [{"label": label, "seconds": n / self.rate_hz, "settings": asdict(st)}
                          for label, st, n in self.parts]}

    @property
    def total_frames(self) -> int:
        """Frames of all parts at their nominal lengths; a part may run a little longer (see
        :meth:`_part_frames`), so read until a read returns no frames."""
        return sum(n for _, _, n in self.parts)

    def _part_frames(self) -> int:
        """Frames of the current part: its nominal length, stretched (all but the last part) to
        the end of any contact begun within it, so no landing is cut in two at a marker."""
        total = self.parts[self._part][2]
        if self._part + 1 == len(self.parts) or self._done_in_part < total:
            return total
        end_s = total / self.rate_hz
        ends = [r["t_off_s"] for r in self.runner.truth_all() if r["t_on_s"] < end_s]
        return max(total, int(np.ceil(max(ends, default=0.0) * self.rate_hz)) + 1)

    def read(self, n: int):
        """Up to ``n`` frames of the current part (fewer at a part's end), times on one clock;
        none once the last part is over."""
        total = self._part_frames()
        if self._done_in_part >= total and self._part + 1 < len(self.parts):
            self._finished_truth += self._shifted(self.runner.truth_until(total / self.rate_hz))
            self._offset_s += total / self.rate_hz
            self._part += 1
            self._done_in_part = 0
            label, st, _ = self.parts[self._part]
            self.runner = SimulatedRunner(self.layout, self.rate_hz, st)
            self._markers.append((round(self._offset_s, 6), label))
            total = self._part_frames()
        n = max(0, min(n, total - self._done_in_part))
        t, v = self.runner.read(n)
        self._done_in_part += n
        return t + self._offset_s, v

    def _shifted(self, rows: list[dict]) -> list[dict]:
        return [{**r, "t_on_s": r["t_on_s"] + self._offset_s, "t_off_s": r["t_off_s"] + self._offset_s}
                for r in rows]

    def truth_until(self, t_s: float) -> list[dict]:
        return self._finished_truth + self._shifted(self.runner.truth_until(t_s - self._offset_s))

    def take_markers(self) -> list[tuple[float, str]]:
        """Markers reached since the last call: (t_s, label)."""
        out, self._markers = self._markers, []
        return out
