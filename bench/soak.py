"""Memory over a long session: prints the slope of the logger's memory, MB per hour of session.

    python bench/soak.py [--replay-hours 2] [--sim-minutes 20] [--emulated-minutes 30]

Three runs of ``insole run --headless``, the resident memory of its whole process tree (the
logger, its sampler process and, for the emulated chips, the board's) sampled every second:

* **replay**: a simulated session of ``--replay-hours`` (2 h) played back at 60× (the same
  sampler, processor, gait core, session writer and snapshots as a live run, two hours of
  landings in two minutes);
* **sim**: the simulated insole in real time, ``--sim-minutes``;
* **emulated**: the emulated chips on the ``ideal`` board (this machine), ``--emulated-minutes``,
  in real time.

The slope is a least-squares line through the samples after the first tenth of the run (the
start-up's allocations), per hour of *session* time. Goal (issue 11): within 2 MB/h. A run
given 0 minutes is left out.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
INSOLE = str(Path(sys.executable).with_name("insole"))
GOAL_MB_H = 2.0


def tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, MB (from /proc)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total / 1024.0


def soak(args: list[str], wall_s: float, speed: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(session time s, MB) every second of ``insole run --headless ARGS`` for ``wall_s``."""
    out = tempfile.mkdtemp(prefix="insole-soak-")
    p = subprocess.Popen([INSOLE, "run", "--headless", "--out", out, *args],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    ts, mb = [], []
    while p.poll() is None and time.monotonic() - t0 < wall_s:
        time.sleep(1.0)
        rss = tree_rss_mb(p.pid)
        if rss and p.poll() is None:         # not a sample of a process that has just ended
            ts.append((time.monotonic() - t0) * speed)
            mb.append(rss)
    if p.poll() is None:
        p.terminate()
    err = p.communicate(timeout=60)[1]
    if p.returncode not in (0, -15):
        raise SystemExit(f"insole run {' '.join(args)} failed: {err.strip()[-500:]}")
    return np.array(ts), np.array(mb)


def slope_mb_per_h(ts: np.ndarray, mb: np.ndarray) -> float:
    keep = ts >= ts[-1] * 0.1
    a, _ = np.polyfit(ts[keep] / 3600.0, mb[keep], 1)
    return float(a)


def show(name: str, ts: np.ndarray, mb: np.ndarray) -> None:
    s = slope_mb_per_h(ts, mb)
    print(f"{name:10s} {ts[-1] / 3600:5.2f} h of session   {mb[0]:6.1f} → {mb[-1]:6.1f} MB   "
          f"slope {s:+6.2f} MB/h   {'ok' if abs(s) <= GOAL_MB_H else 'OVER'} (goal ±{GOAL_MB_H:g} MB/h)", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--replay-hours", type=float, default=2.0)
    ap.add_argument("--sim-minutes", type=float, default=20.0)
    ap.add_argument("--emulated-minutes", type=float, default=30.0)
    a = ap.parse_args()
    print("memory of `insole run --headless`, its whole process tree, sampled every second")
    if a.replay_hours > 0:
        folder = Path(tempfile.mkdtemp(prefix="insole-soak-src-")) / "long"
        subprocess.run([INSOLE, "simulate", "--out", str(folder), "--duration", str(a.replay_hours * 3600),
                        "--pattern", "mixed"], check=True, stdout=subprocess.DEVNULL)
        speed = 60.0
        show("replay", *soak(["--source", "replay", "--session", str(folder), "--speed", str(speed)],
                             a.replay_hours * 3600 / speed + 60, speed))
    if a.sim_minutes > 0:
        show("sim", *soak(["--source", "sim", "--duration", str(a.sim_minutes * 60)], a.sim_minutes * 60 + 30))
    if a.emulated_minutes > 0:
        show("emulated", *soak(["--source", "emulated", "--board", "ideal", "--duration", str(a.emulated_minutes * 60)],
                               a.emulated_minutes * 60 + 60))
    return 0


if __name__ == "__main__":
    sys.exit(main())
