"""``insole simulate``: a synthetic session, as fast as the machine allows.

The frames go through the same :class:`pi.pipeline.Pipeline` as ``insole run`` (writer and
streaming gait core), only without the real-time sampler in front; the simulator's true
landings are written to ``truth.csv``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from analysis.errors import SessionError
from analysis.session import SessionWriter
from pi.kit import load_kit
from pi.pipeline import Pipeline, session_meta, utc_now_iso
from pi.simulator import SimSettings
from pi.sources.sim import SimSource

BLOCK = 4000   # frames per step: large enough to amortise Python overhead, small enough for progress


def settings_from_args(args, body_mass_kg: float | None) -> SimSettings:
    return SimSettings(pattern=args.pattern, direction=args.direction, cadence_spm=args.cadence,
                       feet=args.feet, seed=args.seed, body_mass_kg=body_mass_kg or 70.0)


def simulate(out: Path, duration_s: float, settings: SimSettings, kit=None, progress=None) -> dict:
    """Write a simulated session folder; returns the summary of the live analysis."""
    kit = kit or load_kit()
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SessionError(f"{out} already exists and is not empty; choose a new --out folder")
    src = SimSource(kit.layout, kit.rate_hz, settings)
    mass = settings.body_mass_kg
    meta = session_meta(src, utc_now_iso(), mass, str(kit.path))
    writer = SessionWriter(out, meta, src.layout, integer_values=src.integer_values, with_truth=True)
    pipe = Pipeline(src.layout, src.rate_hz, mass, writer)
    n_total = int(round(duration_s * src.rate_hz))
    done = truth_written = 0
    t_end = 0.0
    health = {"frames": 0, "late_frames": 0, "skipped_frames": 0, "bus_errors": 0}
    end: dict = {}
    try:
        while done < n_total:
            t, v = src.read(min(BLOCK, n_total - done))
            pipe.process(t, v)
            done += len(t)
            t_end = float(t[-1])
            truth = src.truth_until(t_end)
            writer.write_truth(truth[truth_written:])
            truth_written = len(truth)
            health["frames"] = done
            if progress:
                progress(done, n_total)
        pipe.finish()
        end["ended_at"] = utc_now_iso()
    finally:        # interrupted or failed: what was written stays a readable session
        writer.close(health=health, duration_s=round(t_end, 6), truth_landings=truth_written, **end)
    return pipe.summary(health)


def simulate_main(args) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    kit = load_kit(args.config)
    settings = settings_from_args(args, kit.body_mass_kg)
    err = Console(stderr=True)
    started = time.perf_counter()
    with Progress(TextColumn("simulating"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeRemainingColumn(), console=err, transient=True, disable=not err.is_terminal) as prog:
        task = prog.add_task("sim", total=1)
        summary = simulate(Path(args.out), args.duration, settings, kit,
                           progress=lambda d, n: prog.update(task, completed=d / n))
    took = time.perf_counter() - started
    print(f"wrote {args.out}: {args.duration:g} s simulated ({settings.pattern}, {settings.direction}, "
          f"{'both feet' if settings.feet == 'both' else settings.feet + ' foot'}), {summary['landings']} landings found live, in {took:.1f} s", file=sys.stderr)
    return 0
