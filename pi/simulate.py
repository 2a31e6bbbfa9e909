"""``insole simulate``: a synthetic session, as fast as the machine allows. The command: its
options, parts and progress bar; the session is made by :func:`pi.simulated_session.simulate`."""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

from analysis.errors import UsageError
from pi.kit import load_kit
from pi.simulated_session import simulate
from pi.simulator import DIRECTIONS, PATTERNS, SimSettings, settings_from


def settings_from_args(args, body_mass_kg: float | None) -> SimSettings:
    return settings_from(vars(args), body_mass_kg)


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
