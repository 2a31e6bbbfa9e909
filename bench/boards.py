"""The ads source on emulated Raspberry Pi boards (pi/emulator/boards.py): what each board
gives, and how much slower its Python could be before the rate falls.

    python bench/boards.py [--seconds S] [--quick]

Every figure here is emulated, not measured on a Pi: the board profiles model each board's
I2C clock, its kernel's edge latency and its Python speed (k, from the n-body reference timed
on this machine against published board times; see pi/emulator/boards.py for each source),
and the chips, the bus and the kernel's part run in a process of their own
(pi/emulator/remote.py), as a kernel needs none of the sampler's interpreter. This machine's
own overheads are kept out of the board's timing where they can be (a transfer is answered at
once and held on the caller's side until the modelled adapter would let go; an edge is announced
ahead and held until its modelled release), but this 2-core host runs the board process, the
reader, the settler and the consumer at once, and its load varies: the figures err low, and vary
from run to run.

Per board, two modes: continuous (the chips' limit, 215 frames/s for the default kit) as forced,
and what ``insole run`` does (auto: it steps the data rate down where the board cannot hold it,
and says so). Each row: frames/s, share of frames lost, p99 frame-interval error (consecutive
frames only), labels right (every input carries its chip and input in its low 3 bits), the
sampler's CPU (the reading thread and the settler process) as a share of one core of the board
(k × this machine's), edge latency p50/p99.

Headroom: under the pi4 profile, continuous mode at k × 0.5 … 3 of the board's own k: the k at
which the rate falls below 190 frames/s. The old path under pi4, for comparison: the edges
through gpiozero's lgpio callbacks (each held 0.5 ms or more by lgpio) instead of the kernel's
character device.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _hw_common import labels_right                      # noqa: E402
from analysis.errors import InsoleError                  # noqa: E402
from pi.emulator import boards                           # noqa: E402
from pi.kit import load_kit                              # noqa: E402
from pi.realtime import short_switch_interval            # noqa: E402
from pi.sources.ads import open_emulated                 # noqa: E402

TARGET_FPS = 190.0
HEADROOM = (0.5, 1.0, 1.5, 2.0, 3.0)


def say(msg: str) -> None:
    print(msg, flush=True)


def sample(board: str, seconds: float, mode: str | None = "continuous", edges: str = "chardev",
           k: float | None = None) -> dict:
    kit = load_kit()
    t0 = time.perf_counter()
    try:
        src = open_emulated(kit, board=board, ads_mode=mode, edges=edges, python_factor=k,
                            inputs_hook="_hw_common:tag_inputs")
    except InsoleError as e:                        # continuous mode forced where the bus cannot serve it
        nan = float("nan")
        return {"board": board, "mode": "refused", "data_rate": 860, "rate": nan, "fps": 0.0, "lost": nan,
                "p99": nan, "labels": nan, "cpu": None, "k": k, "lat50": None, "lat99": None,
                "notice": str(e), "opened_s": time.perf_counter() - t0, "i2c_hz": None}
    opened_s = time.perf_counter() - t0
    try:
        stamps, rows = [], []
        if src.reader is not None:
            while src.read_paced(0.001)[0]:
                pass
            # the sampler's CPU: the reading thread's and the settler process's, on the board
            c0 = (src.cpu_model.board_cpu_s() if src.cpu_model else 0.0) + src.reader.settler_cpu_s
            w0 = time.perf_counter()
            while time.perf_counter() - w0 < seconds:
                src.maintain()
                t, v = src.read_paced(0.02)
                stamps += t
                rows += list(v)
            wall = time.perf_counter() - w0
            cpu = ((src.cpu_model.board_cpu_s() + src.reader.settler_cpu_s - c0) / wall) if src.cpu_model else None
            st = np.array(stamps, dtype=np.float64)
            period = 1e9 / src.rate_hz
            steps = np.round(np.diff(st) / period)
            fps = (len(st) - 1) / ((st[-1] - st[0]) / 1e9) if len(st) > 1 else 0.0
            lost = float(np.sum(steps - 1) / max(np.sum(steps), 1))
            d = np.diff(st)
            kept = d[steps == 1]
            p99 = float(np.percentile(np.abs(kept - period) / 1e6, 99)) if kept.size else float("nan")
        else:                                           # single-shot: the sampler's loop, timed
            w0 = time.perf_counter()
            while time.perf_counter() - w0 < seconds:
                _, v = src.read(1)
                stamps.append(time.monotonic_ns())
                rows += list(v)
            wall = time.perf_counter() - w0
            fps, lost, p99, cpu = len(rows) / wall, float("nan"), float("nan"), None
        latency = src.edge_latency_ms() or {}
        return {"board": board, "mode": src.mode, "data_rate": max(a.data_rate for a in src.ads.values()),
                "rate": src.rate_hz, "fps": fps, "lost": lost, "p99": p99,
                "labels": labels_right(kit, np.array(rows)) if rows else float("nan"),
                "cpu": cpu, "k": (src.board or {}).get("python_factor"), "lat50": latency.get("p50"),
                "lat99": latency.get("p99"), "notice": src.notice, "opened_s": opened_s,
                "i2c_hz": src.i2c_clock_hz}
    finally:
        src.close()


def fmt(v, spec, scale=1.0):
    return "—" if v is None or (isinstance(v, float) and not np.isfinite(v)) else format(v * scale, spec)


HEADER = (f"{'board':<13} {'asked':<10} {'mode':<11} {'SPS':>4} {'frames/s':>8} {'lost %':>6} {'p99 ms':>6} "
          f"{'labels %':>8} {'cpu %':>6} {'k':>5} {'edge p50/p99 ms':>15} {'I2C kHz':>7}  note")


def row(r: dict, asked: str) -> str:
    lat = f"{fmt(r['lat50'], '.2f')}/{fmt(r['lat99'], '.2f')}"
    return (f"{r['board']:<13} {asked:<10} {r['mode']:<11} {r['data_rate']:>4} {r['fps']:>8.1f} {fmt(r['lost'], '.1f', 100):>6} "
            f"{fmt(r['p99'], '.3f'):>6} {fmt(r['labels'], '.2f', 100):>8} {fmt(r['cpu'], '.1f', 100):>6} "
            f"{fmt(r['k'], '.2f'):>5} {lat:>15} {fmt(r['i2c_hz'], '.0f', 1e-3):>7}  {r['notice'] or ''}")


def crossing(ks: list[float], fps: list[float], target: float) -> str:
    """The k at which frames/s falls below ``target``, interpolated between the runs."""
    for (k0, f0), (k1, f1) in zip(zip(ks, fps), zip(ks[1:], fps[1:])):
        if f0 >= target > f1:
            return f"{k0 + (k1 - k0) * (f0 - target) / (f0 - f1):.1f}"
    return f"> {ks[-1]:.1f}" if fps[-1] >= target else f"< {ks[0]:.1f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, help="seconds per row (default 4, --quick 2)")
    ap.add_argument("--quick", action="store_true", help="shorter rows, fewer headroom points")
    args = ap.parse_args()
    secs = args.seconds or (2.0 if args.quick else 4.0)
    short_switch_interval()
    here = boards.reference_time_here()
    say(f"emulated, not measured on a Pi. This machine: n-body 5 M steps in {here:.1f} s (the reference "
        f"for k); rows of {secs:g} s, 2×ADS1115 at 860 SPS, 8 inputs (the default kit)")
    say(HEADER)
    for name in boards.BOARDS:
        if name == "ideal":
            continue
        say(row(sample(name, secs), "continuous"))
        say(row(sample(name, secs, mode=None), "auto (run)"))
    say(row(sample("pi4", secs, edges="gpiozero"), "lgpio cb"))
    say("")
    k4 = boards.python_factor(boards.board("pi4"), here)
    points = HEADROOM[1:4] if args.quick else HEADROOM
    ks = [k4 * m for m in points]
    results = [sample("pi4", secs, k=k) for k in ks]
    say(f"headroom under pi4 (its k = {k4:.2f} here), continuous at 860 SPS:")
    for m, k, r in zip(points, ks, results):
        say(f"  k × {m:<4g} = {k:5.2f}: {r['fps']:6.1f} frames/s, {fmt(r['lost'], '.1f', 100)} % lost, "
            f"labels {fmt(r['labels'], '.2f', 100)} %, cpu {fmt(r['cpu'], '.1f', 100)} % of a Pi 4 core")
    cross = crossing(ks, [r["fps"] for r in results], TARGET_FPS)
    at2 = next((r["fps"] for m, r in zip(points, results) if m == 2.0), None)
    say(f"  falls below {TARGET_FPS:g} frames/s at k ≈ {cross}; at twice the Pi 4's k: "
        f"{fmt(at2, '.1f')} frames/s (target ≥ {TARGET_FPS:g}) " + ("PASS" if at2 and at2 >= TARGET_FPS else "FAIL"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
