"""Speed and memory of the offline analysis: prints the figures of the offline-analysis issue.

    python bench/offline.py [--hours H ...]

For each length (default 1 h, and 2 h = 1.44 M frames) a two-foot session at 200 frames/s is
made with `insole simulate`, then timed, each in a fresh process so memory is its own:

* ``load_session`` (read + calibrate + re-analyse every landing), target ≤ 3 s;
* ``insole report DIR --out R`` end to end (start-up, load, six figures, HTML), target ≤ 20 s
  and < 1 GB peak resident memory.

The issue says "a one-hour two-foot session at 200 frames/s (1.44 M frames)"; an hour at 200
frames/s is 0.72 M frames, so both are measured.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INSOLE = str(Path(sys.executable).with_name("insole"))

LOAD = """
import resource, sys, time
t0 = time.perf_counter()
from analysis import load_session
s = load_session(sys.argv[1])
dt = time.perf_counter() - t0
print(dt, len(s.t_s), len(s.landings), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_mb_of(cmd: list[str]) -> tuple[float, float]:
    """Run ``cmd`` under /usr/bin/time-like accounting: (wall s, peak RSS MB). Each command runs
    in a process of its own, started from a fresh Python, so the peak is that command's."""
    wrapper = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
               "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
               "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True, check=True).stdout
    wall, kb = out.split()
    return float(wall), int(kb) / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, nargs="+", default=[1.0, 2.0])
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="insole-offline-"))
    print(f"{'session':>22} {'load_session':>14} {'load RSS':>9} {'report --out':>13} {'report RSS':>11}")
    for h in args.hours:
        folder = tmp / f"run-{h:g}h"
        t0 = time.perf_counter()
        subprocess.run([INSOLE, "simulate", "--out", str(folder), "--duration", str(3600 * h), "--feet", "both"],
                       check=True, capture_output=True)
        sim = time.perf_counter() - t0
        best = None
        for _ in range(2):                  # the best of two: the first may pay for a cold disk cache
            out = subprocess.run([sys.executable, "-c", LOAD, str(folder)], capture_output=True, text=True,
                                 check=True, cwd=ROOT).stdout.split()
            dt, frames, landings, rss_kb = float(out[0]), int(out[1]), int(out[2]), int(out[3])
            best = dt if best is None else min(best, dt)
        wall, peak = peak_mb_of([INSOLE, "report", str(folder), "--out", str(tmp / f"report-{h:g}h")])
        print(f"{f'{frames / 1e6:.2f} M frames ({h:g} h)':>22} {best:>12.2f} s {rss_kb / 1024:>6.0f} MB "
              f"{wall:>11.2f} s {peak:>8.0f} MB   ({landings} landings; simulated in {sim:.0f} s)")
    print("targets: load_session <= 3 s; report <= 20 s and < 1 GB (for 1.44 M frames)")
    print(f"(files in {tmp})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
