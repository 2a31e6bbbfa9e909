"""Speed of the gait core and of `insole simulate`: prints the figures of issue 2.

    python bench/speed.py

Targets: streaming core ≤ 20 µs per frame for 8 sensors; batch analysis ≥ 1 M frames/s;
`insole simulate --duration 600 --feet both` in under 15 s. Figures are measured in one run on
the same data (a simulated 600 s two-foot session at the default kit's 200 frames/s).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.gait import StreamingGait, analyse   # noqa: E402
from analysis.session import read_session         # noqa: E402


def best_of(n, fn):
    best = float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> int:
    out = Path(tempfile.mkdtemp(prefix="insole-speed-")) / "s600"
    insole = Path(sys.executable).with_name("insole")
    t0 = time.perf_counter()
    subprocess.run([str(insole), "simulate", "--out", str(out), "--duration", "600", "--feet", "both"], check=True)
    sim_s = time.perf_counter() - t0
    s = read_session(out)
    n = len(s.t_s)
    print(f"session: {n} frames x {s.values.shape[1]} sensors ({n / s.rate_hz:.0f} s at {s.rate_hz:g} frames/s)")
    print(f"insole simulate --duration 600 --feet both: {sim_s:6.2f} s   (target < 15 s)")

    for block, label in ((1, "one frame per push"), (4, "20 ms blocks of 4 frames (as live)")):
        m = min(n, 60000)
        dt = best_of(2, lambda m=m, block=block: _stream_first(s, m, block))
        print(f"streaming core, {label:36}: {1e6 * dt / m:6.2f} us/frame   (target <= 20)")
    dt = best_of(5, lambda: analyse(s.t_s, s.values, s.layout, s.rate_hz, s.body_mass_kg))
    print(f"batch analysis: {n / dt / 1e6:6.2f} M frames/s   ({dt:.3f} s for {n} frames; target >= 1 M/s)")
    return 0


def _stream_first(s, m, block):
    g = StreamingGait(s.layout, s.rate_hz, s.body_mass_kg)
    for a in range(0, m, block):
        g.push(s.t_s[a:a + block], s.values[a:a + block])
    g.finish()


if __name__ == "__main__":
    sys.exit(main())
