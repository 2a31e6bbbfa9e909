"""Simulated sessions for the offline-analysis tests: forward, backward, and a drill (forward,
then backward after a marker, then forward again) built from them."""

from __future__ import annotations

import json
from pathlib import Path


from analysis.session import SessionWriter, read_session
from pi.simulated_session import simulate
from pi.simulator import SimSettings


def simulated(folder: Path, duration_s: float = 60.0, **settings) -> Path:
    simulate(folder, duration_s, SimSettings(**settings))
    return folder


def drill(folder: Path, parts: list[tuple[str, Path]]) -> Path:
    """One session made of the given sessions played one after the other, a marker (the label)
    at the start of each part after the first; returns ``folder``."""
    first = read_session(parts[0][1])
    meta = {k: v for k, v in first.meta.items() if k not in ("ended_at", "health", "markers")}
    meta["markers"] = []
    w = SessionWriter(folder, meta, first.layout, integer_values=True)
    offset = 0.0
    frames = 0
    for i, (label, path) in enumerate(parts):
        s = read_session(path)
        if i:
            w.add_marker(round(offset, 6), label)
        w.write_frames(s.t_s + offset, s.values)
        frames += len(s.t_s)
        offset += float(s.t_s[-1]) + 1.0 / s.rate_hz
    w.close(health={"frames": frames, "late_frames": 0, "skipped_frames": 0, "bus_errors": 0},
            ended_at=first.meta.get("ended_at", "2026-01-01T00:00:00Z"), duration_s=round(offset, 6))
    return folder


def set_meta(folder: Path, **changes) -> None:
    p = folder / "session.json"
    meta = json.loads(p.read_text())
    meta.update(changes)
    p.write_text(json.dumps(meta))


def truth_strikes(folder: Path) -> dict[str, int]:
    rows = read_session(folder).truth or []
    return {k: sum(1 for r in rows if r["strike"] == k) for k in ("forefoot", "midfoot", "rearfoot")}


