"""The simulated insole as a frame source (see :mod:`pi.simulator` for the runner model)."""

from __future__ import annotations

from dataclasses import asdict


from analysis.layout import Layout
from pi.simulator import SimSettings, SimulatedRunner


def restrict_layout(layout: Layout, feet: str) -> Layout:
    """The part of ``layout`` under the feet asked for (``left``, ``right`` or ``both``)."""
    if feet == "both":
        return layout
    return Layout(s for s in layout if s.foot == feet)


class SimSource:
    kind = "sim"
    integer_values = True
    own_clock = True

    def __init__(self, layout: Layout, rate_hz: float, settings: SimSettings):
        self.layout = restrict_layout(layout, settings.feet)
        self.rate_hz = float(rate_hz)
        self.settings = settings
        self.runner = SimulatedRunner(self.layout, self.rate_hz, settings)
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
