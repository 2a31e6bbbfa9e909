"""Sampler timing on the simulated insole, with the live display drawing beside it.

    python bench/sampler_timing.py [--seconds 8]

Prints, for the interpreter's default GIL switch interval (5 ms) and the one `insole run` sets
(0.5 ms): frames/s achieved against nominal, late and skipped frames, and the frame-interval
error p50/p99 (ms), with a thread rendering the full live screen at 10 Hz (as the display
does), measured in one run. The sampler's CPU share is issue 3's benchmark (real chips).
"""

from __future__ import annotations

import argparse
import io
import queue
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console          # noqa: E402

from pi.display import render              # noqa: E402
from pi.kit import load_kit                # noqa: E402
from pi.pipeline import Pipeline           # noqa: E402
from pi.realtime import SWITCH_INTERVAL_S  # noqa: E402
from pi.sampler import END, Sampler        # noqa: E402
from pi.simulator import SimSettings       # noqa: E402
from pi.snapshot import Health             # noqa: E402
from pi.sources.sim import SimSource       # noqa: E402


class _Stamped(SimSource):
    """The sim source, recording the wall-clock time each frame is read (for interval errors)."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.stamps: list[int] = []

    def read(self, n):
        self.stamps.append(time.monotonic_ns())
        return super().read(n)


def trial(seconds: float, switch_s: float) -> dict:
    sys.setswitchinterval(switch_s)
    kit = load_kit()
    src = _Stamped(kit.layout, kit.rate_hz, SimSettings())
    q: queue.SimpleQueue = queue.SimpleQueue()
    pipe = Pipeline(src.layout, src.rate_hz, 70.0)
    sampler = Sampler(src, q, duration_s=seconds)
    stop = threading.Event()
    console = Console(file=io.StringIO(), width=100, height=30, color_system="truecolor")

    def draw():                                # what the display thread does, at 10 Hz
        while not stop.wait(0.1):
            snap = pipe.snapshot("sim", "/tmp/x", 0.0, Health(**sampler.health(), rate_hz_nominal=200.0))
            console.print(render(snap))
            console.file.seek(0)
            console.file.truncate()

    def process():
        while (item := q.get()) is not END:
            pipe.process(*item)

    threads = [threading.Thread(target=draw), threading.Thread(target=process)]
    for t in threads:
        t.start()
    sampler.start()
    sampler.join()
    stop.set()
    for t in threads:
        t.join()
    gaps = np.diff(np.array(src.stamps)) / 1e6
    err = np.abs(gaps - 1000.0 / src.rate_hz)
    h = sampler.health()
    return {"fps": h["frames"] / seconds, "late": h["late_frames"], "skipped": h["skipped_frames"],
            "p50": float(np.percentile(err, 50)), "p99": float(np.percentile(err, 99))}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=8.0)
    args = ap.parse_args()
    print(f"{'switch interval':>16} {'frames/s':>9} {'nominal':>8} {'late':>5} {'skipped':>8} {'err p50 ms':>10} {'err p99 ms':>10}")
    for switch in (0.005, SWITCH_INTERVAL_S):
        r = trial(args.seconds, switch)
        print(f"{switch * 1000:>13.1f} ms {r['fps']:>9.1f} {200:>8} {r['late']:>5} {r['skipped']:>8} "
              f"{r['p50']:>10.3f} {r['p99']:>10.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
