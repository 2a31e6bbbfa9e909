"""``insole simulate``: a synthetic session, as fast as the machine allows.

The frames go through the same :class:`pi.pipeline.Pipeline` as ``insole run`` (writer and
streaming gait core), only without the real-time sampler in front; the simulator's true
landings are written to ``truth.csv``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

from analysis.errors import SessionError, UsageError
from analysis.session import SessionWriter
from pi.kit import load_kit
from pi.pipeline import Pipeline, session_meta, utc_now_iso
from pi.simulator import DIRECTIONS, PATTERNS, SimSettings
from pi.sources.sim import DrillSource, SimSource

BLOCK = 4000   # frames per step: large enough to amortise Python overhead, small enough for progress


def settings_from_args(args, body_mass_kg: float | None) -> SimSettings:
    from pi.simulator import SIM_DEFAULTS
    v = {k: SIM_DEFAULTS[k] if getattr(args, k, None) is None else getattr(args, k) for k in SIM_DEFAULTS}
    return SimSettings(pattern=v["pattern"], direction=v["direction"], cadence_spm=v["cadence"],
                       feet=v["feet"], seed=v["seed"], body_mass_kg=body_mass_kg or 70.0)


def parse_then(specs, settings: SimSettings) -> list[tuple[str, SimSettings, float]]:
    """``--then DIRECTION[:PATTERN]:SECONDS`` values → (marker label, settings, seconds) parts
    that follow the first; each keeps the first part's cadence, feet and body mass (own seed)."""
    parts = []
    for i, spec in enumerate(specs or ()):
        bits = spec.split(":")
        if len(bits) not in (2, 3):
            raise UsageError(f"--then {spec!r}: expected DIRECTION:SECONDS or DIRECTION:PATTERN:SECONDS, "
                             f"e.g. backward:forefoot:60")
        direction, pattern = bits[0], (bits[1] if len(bits) == 3 else settings.pattern)
        try:
            seconds = float(bits[-1])
        except ValueError:
            seconds = float("nan")
        if not 1.0 <= seconds <= 24 * 3600:
            raise UsageError(f"--then {spec!r}: seconds must be a number from 1 to 86400, got {bits[-1]!r}")
        if direction not in DIRECTIONS:
            raise UsageError(f"--then {spec!r}: direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
        if pattern not in PATTERNS:
            raise UsageError(f"--then {spec!r}: pattern must be one of {', '.join(PATTERNS)}, got {pattern!r}")
        parts.append((f"{direction}-{pattern}", replace(settings, direction=direction, pattern=pattern,
                                                      seed=settings.seed + i + 1), seconds))
    return parts


def simulate(out: Path, duration_s: float, settings: SimSettings, kit=None, progress=None,
             then: list[tuple[str, SimSettings, float]] = ()) -> dict:
    """Write a simulated session folder; returns the summary of the live analysis. ``then``:
    more parts after the first ``duration_s`` (see :func:`parse_then`), each marked."""
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


def simulate_main(args) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    kit = load_kit(args.config)
    settings = settings_from_args(args, kit.body_mass_kg)
    then = parse_then(getattr(args, "then", None), settings)
    err = Console(stderr=True)
    started = time.perf_counter()
    with Progress(TextColumn("simulating"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeRemainingColumn(), console=err, transient=True, disable=not err.is_terminal) as prog:
        task = prog.add_task("sim", total=1)
        summary = simulate(Path(args.out), args.duration, settings, kit,
                           progress=lambda d, n: prog.update(task, completed=d / n), then=then)
    took = time.perf_counter() - started
    parts = "".join(f", then {sec:g} s {label} (marked)" for label, _, sec in then)
    print(f"wrote {args.out}: {args.duration:g} s simulated ({'heel' if settings.pattern == 'rearfoot' else settings.pattern}, {settings.direction}, "
          f"{'both feet' if settings.feet == 'both' else settings.feet + ' foot'}){parts}, {summary['landings']} landings found live, in {took:.1f} s", file=sys.stderr)
    return 0
