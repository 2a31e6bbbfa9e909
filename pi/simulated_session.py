"""A synthetic session written as fast as the machine allows (``insole simulate`` and the tests).

The frames go through the same :class:`pi.pipeline.Pipeline` as ``insole run`` (writer and
streaming gait core), only without the real-time sampler in front; the simulator's true
landings are written to ``truth.csv``.
"""

from __future__ import annotations

from pathlib import Path

from analysis.errors import SessionError, UsageError
from analysis.session import SessionWriter
from pi.kit import load_kit
from pi.pipeline import Pipeline, session_meta, utc_now_iso
from pi.simulator import SimSettings
from pi.sources.sim import DrillSource, SimSource

BLOCK = 4000   # frames per step: large enough to amortise Python overhead, small enough for progress


def simulate(out: Path, duration_s: float, settings: SimSettings, kit=None, progress=None,
             then: list[tuple[str, SimSettings, float]] = ()) -> dict:
    """Write a simulated session folder; returns the summary of the live analysis. ``then``:
    more parts after the first ``duration_s`` (see :func:`pi.simulate.parse_then`), each marked."""
    kit = kit or load_kit()
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SessionError(f"{out} already exists and is not empty; choose a new --out folder")
    if int(round(duration_s * kit.rate_hz)) < 1:
        raise UsageError(f"--duration {duration_s:g}: shorter than one frame at {kit.rate_hz:g} frames/s")
    if then:
        src = DrillSource(kit.layout, kit.rate_hz, [("start", settings, duration_s), *then])
    else:
        src = SimSource(kit.layout, kit.rate_hz, settings)
    mass = settings.body_mass_kg
    meta = session_meta(src, utc_now_iso(), mass, str(kit.path))
    writer = SessionWriter(out, meta, src.layout, integer_values=src.integer_values, with_truth=True)
    pipe = Pipeline(src.layout, src.rate_hz, mass, writer)
    n_total = src.total_frames if then else int(round(duration_s * src.rate_hz))
    done = truth_written = 0
    t_end = 0.0
    health = {"frames": 0, "late_frames": 0, "skipped_frames": 0, "bus_errors": 0}
    end: dict = {}
    try:
        while then or done < n_total:       # a drill's parts may run a little long: until it says
            t, v = src.read(BLOCK if then else min(BLOCK, n_total - done))
            for t_mark, label in (src.take_markers() if then else ()):
                writer.add_marker(t_mark, label)
            if not len(t):
                break
            pipe.process(t, v)
            done += len(t)
            t_end = float(t[-1])
            truth = src.truth_until(t_end)
            writer.write_truth(truth[truth_written:])
            truth_written = len(truth)
            health["frames"] = done
            if progress:
                progress(min(done, n_total), n_total)
        pipe.finish()
        end["ended_at"] = utc_now_iso()
    finally:        # interrupted or failed: what was written stays a readable session
        writer.close(health=health, duration_s=round(t_end, 6), truth_landings=truth_written, **end)
    return pipe.summary(health)
