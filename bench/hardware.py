"""The ads source on emulated ADS1x15 chips, real adafruit_ads1x15 driver included: what each
read mode achieves against what the chips and the bus allow, and the acceptance run of issue 3.

    python bench/hardware.py [--quick]

Kits (variants of hardware/kit-default.toml): 1×ADS1115 (left foot, 4 inputs), 2×ADS1115 (the
default, 8 inputs), 1×ADS1015 at 3300 SPS (4 inputs); each on a modelled 400 kHz and 100 kHz bus
(pi/emulator/bus.py charges every transaction its bit count: config write 38 bits, pointer +
2-byte read 48), and three ways of reading:

* continuous: AdsSource "continuous", the chips converting back to back, read on each ALERT/RDY
  pulse (one result read + one config write per conversion);
* single: AdsSource "single", timed single-shot with the chips converting in parallel;
* library loop: what a naive user writes, every sensor's ``AnalogIn(ads, pin).value`` in turn
  (the library's single-shot read busy-polls the OS bit).

Per row: frames/s; the limit from bit and conversion times with zero software time (how it is
worked out: ``bench/_hw_common.py: limits``); achieved/limit; CPU; frame-interval error p50/p99
(continuous: the source's frame stamps against its measured pace; single and library loop: frames
read back to back, stamped after each, against their mean interval, i.e. their jitter); labels.

CPU: the emulator runs in this process. ``cpu``: the process's user+sys time over the reading,
emulator included. ``read``: the CPU of the reading itself, from per-thread CPU clocks: the thread
that reads (single, library loop), or the ALERT/RDY callbacks (each timed with its thread's CPU
clock: they run on the emulator's ALERT threads, beside the chips' own work) plus the thread
collecting the frames (continuous); it includes the emulated I2C transactions the reader makes.
``net``: read minus the CPU spent inside the emulated bus's methods (each call timed with its
thread's CPU clock: the emulator's Python and the sleeps that stand for the bus time): the reader,
the driver and adafruit_bus_device, i.e. what a Pi runs besides Blinka's i2c-dev ioctls. For
scale, the emulator alone (chips converting and pulsing, nobody reading) is printed first. All on
this machine's cores, not a Pi's.

Labels: every input carries the simulated runner's signal (computed up front for the kit) with
its chip's code's low 3 bits set to chip × 4 + input, so each stored value names where it came from (``labels``: share whose tag is its column's); ``in time``:
share that is the result of a conversion of that input started in that frame (from the emulated
chips' conversion logs): a stale or shifted value fails it.

Acceptance: 2×ADS1115 at 860 SPS, 400 kHz, continuous, through ``pi.run.run_main`` (the whole
``insole run``: sampler, processor with the session writer and gait core, live display drawing
to a pseudo-terminal) for 10 s; figures read back from the session folder. First as ``insole
run`` does it, the chips (emulated, tagged) sampled in a process of their own. Its sampler CPU is
the sampler's own code, from the child's per-thread CPU clocks over the steady part of the run:
the ALERT/RDY callbacks (the reading, its emulated I2C calls included), the sampler loop and the
hand-off of frames to the parent. The whole child process is printed beside it: it also carries
the emulated chips (their model, the ALERT thread's wake-ups and edges: on a Pi the chips, the
kernel and lgpio's dispatch), whose cost alone is printed at the top. Beside it, the same
stack with the sampler as a thread beside the display (``--sampler thread``), that thread
headless, and the library loop through the same stack (asked for the kit's 200 frames/s): there
sampler CPU is the sampler thread plus the ALERT callbacks; "without the emulated I2C" also
takes off the CPU spent inside the emulated bus's methods.
Targets (issue 3): ≥ 190 frames/s, sampler ≤ 25 % of a core, frame-interval error p99 ≤ 1 ms,
every value labelled right; PASS/FAIL is printed per run and target.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gpiozero.pins.mock import MockFactory          # noqa: E402

from _hw_common import (CONFIG_WRITE_BITS, REGISTER_READ_BITS, CallbackClock, Counted, LibraryLoopSource,  # noqa: E402
                        in_time, inputs_per_chip, interval_errors_ms, kit_variants, labels_right, library_channels,
                        limits, process_cpu_s, start_continuous_unread, tag_inputs, thread_cpu)
from analysis.errors import InsoleError              # noqa: E402
from pi.emulator import build_bus                    # noqa: E402
from pi.realtime import SWITCH_INTERVAL_S            # noqa: E402
from pi.sources.ads import AdsSource                 # noqa: E402

BUSES = (400_000, 100_000)
CALLBACKS = CallbackClock()          # installed by main(): CPU time inside the ALERT/RDY callbacks
MODES = ("continuous", "single", "library loop")


def say(msg: str) -> None:
    print(msg, flush=True)


def _pct(x) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{100 * x:.1f}"


# ---- the emulator idle: chips converting, nobody reading -----------------------------------------
def idle_emulator(kit, seconds: float) -> float:
    """Process CPU share with the kit's chips in continuous conversion-ready mode (pulsing
    ALERT/RDY onto mock pins) and nobody reading."""
    pins = MockFactory()
    bus = build_bus(kit, bus_hz=400_000, pin_factory=pins)
    tag_inputs(bus, kit)
    start_continuous_unread(bus, kit)
    time.sleep(0.3)
    c0, w0 = time.process_time(), time.perf_counter()
    time.sleep(seconds)
    c1, w1 = time.process_time(), time.perf_counter()
    bus.deinit()
    return (c1 - c0) / (w1 - w0)


# ---- one row ------------------------------------------------------------------------------------------
def row(kit, bus_hz: float, mode: str, seconds: float) -> dict:
    pins = MockFactory()
    bus = build_bus(kit, bus_hz=bus_hz, pin_factory=pins)
    tag_inputs(bus, kit)
    counted = Counted(bus)
    out = {"note": ""}
    src = None
    try:
        if mode == "continuous":
            try:
                src = AdsSource(kit, bus, "continuous", pin_factory=pins)
            except InsoleError as e:
                from pi.sources.ads_ready import read_write_window_s
                bus_us = len(kit.chips) * (CONFIG_WRITE_BITS + REGISTER_READ_BITS) / bus_hz * 1e6
                win_us = read_write_window_s(max(c.data_rate for c in kit.chips)) * 1e6
                out.update(fps=0.0, note=f"{type(e).__name__} at start-up; read+write {bus_us:.0f} µs of bus "
                                         f"per conversion vs window {win_us:.0f} µs")
                return out
            while src.read_paced(0.001)[0]:          # frames queued during the start-up
                pass
            def read():
                return src.read_paced(0.2)
        elif mode == "single":
            src = AdsSource(kit, bus, "single")

            def read():
                _, v = src.read(1)
                return [time.monotonic_ns()], v
        else:
            chans = library_channels(kit, bus)

            def read():
                v = [ch.value for ch in chans]
                return [time.monotonic_ns()], [v]
        stamps, rows = [], []
        streams = src.reader.streams if mode == "continuous" else []
        lost0 = [(s.dropped, s.resyncs) for s in streams]
        th0, io0, cb0 = thread_cpu(), counted.cpu(), CALLBACKS.total()
        first_ns = time.monotonic_ns()
        c0, w0 = time.process_time(), time.perf_counter()
        while time.perf_counter() - w0 < seconds:
            t, v = read()
            stamps += t
            rows += list(v)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        th1 = thread_cpu()
        reader = th1["MainThread"] - th0["MainThread"] + CALLBACKS.total() - cb0
        emu_io = counted.cpu() - io0
        rows = np.array(rows, dtype=np.int64)
        stamps = np.array(stamps, dtype=np.int64)
        if mode == "continuous":
            fps = (len(stamps) - 1) / ((stamps[-1] - stamps[0]) / 1e9) if len(stamps) > 1 else 0.0
            p50, p99 = interval_errors_ms(stamps, 1.0 / src.rate_hz)
            half = max(inputs_per_chip(kit).values()) / 2   # the chips' cycles pair within half a cycle

            def window(k, slot, period):
                return stamps[k] + (slot - 0.5) * period, stamps[k] + (slot + 0.5 + half) * period
            dropped = sum(s.dropped - d for s, (d, _) in zip(streams, lost0))
            resyncs = sum(s.resyncs - r for s, (_, r) in zip(streams, lost0))
            out["note"] = f"pace {src.rate_hz:g}/s; {dropped} conversions dropped, {resyncs} resyncs"
        else:
            fps = len(stamps) / wall
            p50, p99 = interval_errors_ms(stamps)
            before = np.concatenate([[first_ns], stamps[:-1]])

            def window(k, slot, period):
                return before[k], stamps[k]
        out.update(fps=fps, cpu=cpu / wall, read=reader / wall, net=(reader - emu_io) / wall, p50=p50, p99=p99,
                   labels=labels_right(kit, rows), in_time=in_time(kit, bus, stamps, rows, window))
        return out
    finally:
        if src is not None:
            src.close()
        bus.deinit()


HEADER = (f"{'kit':<10} {'bus':>7} {'mode':<12} {'frames/s':>8} {'limit':>6} {'bound':<8} {'%':>5} "
          f"{'cpu %':>6} {'read %':>6} {'net %':>6} {'err p50':>7} {'err p99':>7} {'labels':>7} {'in time':>7}  note")


def print_row(name, bus_hz, mode, lim, r) -> None:
    limit, bound = lim
    def f(key, fmt):
        v = r.get(key)
        return "—" if v is None or not np.isfinite(v) else format(v, fmt)
    say(f"{name:<10} {bus_hz // 1000:>4}kHz {mode:<12} {r['fps']:>8.1f} {limit:>6.1f} {bound:<8} "
        f"{100 * r['fps'] / limit:>5.1f} {_pct(r.get('cpu')):>6} {_pct(r.get('read')):>6} {_pct(r.get('net')):>6} "
        f"{f('p50', '.3f'):>7} {f('p99', '.3f'):>7} {_pct(r.get('labels')):>7} {_pct(r.get('in_time')):>7}  {r['note']}")


# ---- the acceptance run: the whole `insole run` stack ---------------------------------------------
class _Terminal:
    """A pseudo-terminal for the live display: its slave is sys.stdout during the run, a thread
    reads (and counts) what is drawn on the master side."""

    def __init__(self, cols: int = 100, rows: int = 30):
        import fcntl
        import struct
        import termios
        self.master, self.slave = os.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.file = open(self.slave, "w", encoding="utf-8", closefd=False)
        self.bytes = 0
        self._reader = threading.Thread(target=self._drain, name="pty-reader", daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.bytes += len(data)

    def close(self) -> None:
        self.file.flush()
        time.sleep(0.1)
        self.file.close()
        os.close(self.slave)
        os.close(self.master)
        self._reader.join(1.0)


def run_stack(src, bus, counted, seconds: float, headless: bool = False, warm_s: float = 1.0,
              tail_s: float = 0.5) -> dict:
    """``pi.run.run_main`` on ``src`` with the live display on a pseudo-terminal; per-thread CPU
    over the steady part (``warm_s`` after the sampler starts to ``tail_s`` before it ends)."""
    import pi.display
    import pi.run
    import pi.runtime
    from analysis.session import read_session
    from pi.cli import build_parser

    seen = {}

    class _Sampler(pi.runtime.Sampler):                        # to know its start time and thread
        def start(self):
            seen["sampler"] = self
            seen["started"] = time.perf_counter()
            super().start()

    class _Display(pi.display.LiveDisplay):                # to count the frames it drew
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            seen["display"] = self

    marks = {}

    def monitor():
        while "started" not in seen:
            time.sleep(0.01)
        t_start = seen["started"]
        for key, at in (("a", t_start + warm_s), ("b", t_start + seconds - tail_s)):
            time.sleep(max(at - time.perf_counter(), 0))
            marks[key] = (time.perf_counter(), time.process_time(), thread_cpu(), counted.cpu(),
                          CALLBACKS.total())

    out_dir = Path(tempfile.mkdtemp(prefix="insole-hw-"))
    args = build_parser().parse_args(["run", "--duration", str(seconds), "--out", str(out_dir)]
                                    + (["--headless"] if headless else []))
    term = _Terminal()
    # rich sizes a console from the process's own terminal; with none, from COLUMNS and LINES
    size = {"COLUMNS": "100", "LINES": "30"}
    env_set = [] if sys.__stdout__.isatty() else [k for k in size if k not in os.environ]
    for k in env_set:
        os.environ[k] = size[k]
    saved = sys.stdout, pi.runtime.Sampler, pi.display.LiveDisplay
    mon = threading.Thread(target=monitor, name="bench-monitor", daemon=True)
    mon.start()
    try:
        sys.stdout, pi.runtime.Sampler, pi.display.LiveDisplay = term.file, _Sampler, _Display
        status = pi.run.run_main(args, source=src)
    finally:
        sys.stdout, pi.runtime.Sampler, pi.display.LiveDisplay = saved
        for k in env_set:
            del os.environ[k]
        term.close()
    mon.join(2.0)
    if "b" not in marks:
        raise RuntimeError(f"the run ended before its measurement window closed (exit status {status})")
    folder = next(out_dir.iterdir())
    session = read_session(folder)
    shutil.rmtree(out_dir)
    return {"status": status, "session": session, "sampler": seen["sampler"], "marks": marks,
            "display_frames": seen["display"].frames if "display" in seen else 0, "tty_bytes": term.bytes}


RUNS = (("continuous, thread", "continuous", False), ("thread, headless", "continuous", True),
        ("library loop", "library loop", False))


def run_stack_process(kit, seconds: float, warm_s: float = 1.5, tail_s: float = 0.5) -> dict:
    """``pi.run.run_main`` as ``insole run`` does it for the chips: the sampler in a process of
    its own (pi.sampler_process), the emulated chips with it, the display on a pseudo-terminal.
    CPU: the sampler process's user+sys over the steady part (emulator included)."""
    import pi.display
    import pi.run
    from analysis.session import read_session
    from pi.cli import build_parser
    from pi.sampler_process import RemoteSource, SamplerProcess

    src = RemoteSource("_hw_common:open_tagged_emulated", {"kit": kit})
    seen = {}

    class _Display(pi.display.LiveDisplay):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            seen["display"] = self
    start = SamplerProcess.start

    def started(self):
        seen["started"] = time.perf_counter()
        seen["proc"] = self
        start(self)
    marks = {}

    def monitor():
        while "started" not in seen:
            time.sleep(0.01)
        for key, at in (("a", seen["started"] + warm_s), ("b", seen["started"] + seconds - tail_s)):
            time.sleep(max(at - time.perf_counter(), 0))
            marks[key] = (time.perf_counter(), process_cpu_s(src._proc.pid), time.process_time(),
                          dict(seen["proc"].cpu or {}))

    out_dir = Path(tempfile.mkdtemp(prefix="insole-hw-"))
    args = build_parser().parse_args(["run", "--duration", str(seconds), "--out", str(out_dir)])
    term = _Terminal()
    size = {"COLUMNS": "100", "LINES": "30"}
    env_set = [] if sys.__stdout__.isatty() else [k for k in size if k not in os.environ]
    for k in env_set:
        os.environ[k] = size[k]
    saved = sys.stdout, pi.display.LiveDisplay
    threading.Thread(target=monitor, name="bench-monitor", daemon=True).start()
    try:
        sys.stdout, pi.display.LiveDisplay, SamplerProcess.start = term.file, _Display, started
        status = pi.run.run_main(args, source=src)
    finally:
        sys.stdout, pi.display.LiveDisplay = saved
        SamplerProcess.start = start
        for k in env_set:
            del os.environ[k]
        term.close()
    folder = next(out_dir.iterdir())
    session = read_session(folder)
    shutil.rmtree(out_dir)
    (wa, ca, pa, sa), (wb, cb, pb, sb) = marks["a"], marks["b"]
    # the sampler's own code, from the child's per-thread clocks (its last report before each mark)
    own = (sb["reading"] + sb["handoff"] - sa["reading"] - sa["handoff"]) / (sb["at"] - sa["at"])
    return {"status": status, "session": session, "child_cpu": (cb - ca) / (wb - wa), "sampler_own_cpu": own,
            "parent_cpu": (pb - pa) / (wb - wa), "window_s": wb - wa,
            "display_frames": seen["display"].frames if "display" in seen else 0, "tty_bytes": term.bytes}


def _p99_kept(t_s, rate_hz: float) -> float:
    """p99 interval error (ms) over neighbouring frames only: the stamps' own timing, with the
    intervals that span lost frames left out (those are the skipped frames)."""
    d = np.diff(np.asarray(t_s))
    kept = d[d < 1.5 / rate_hz]
    return float(np.percentile(np.abs(kept - 1.0 / rate_hz) * 1e3, 99)) if kept.size else float("nan")


def _process_figures(kit, r: dict, emulator_cpu: float) -> dict:
    s = r["session"]
    t = s.t_s
    fps = (len(t) - 1) / (t[-1] - t[0]) if len(t) > 1 else 0.0
    err = np.abs(np.diff(t) - 1.0 / s.rate_hz) * 1e3
    nan = float("nan")
    threads = {"sampler process (emulated chips included)": r["child_cpu"],
               "  of which the sampler's own code (callbacks, loop, hand-off)": r["sampler_own_cpu"],
               "  the emulated chips alone, for scale (est.)": emulator_cpu,
               "main process (writer, gait core, display)": r["parent_cpu"]}
    return {"fps": fps, "rate_hz": s.rate_hz, "frames": len(t),
            "p50": float(np.percentile(err, 50)), "p99": float(np.percentile(err, 99)),
            "p99_kept": _p99_kept(t, s.rate_hz),
            "labels": labels_right(kit, s.values), "in_time": nan,
            "sampler_cpu": r["sampler_own_cpu"], "sampler_process_cpu": r["child_cpu"], "sampler_cpu_net": None,
            "process_cpu": r["child_cpu"] + r["parent_cpu"], "process_net": r["child_cpu"] + r["parent_cpu"] - emulator_cpu,
            "threads": threads, "health": s.meta.get("health", {}), "landings": len(s.landings or []),
            "display_frames": r["display_frames"], "tty_bytes": r["tty_bytes"], "window_s": r["window_s"]}


def acceptance(seconds: float, emulator_cpu: float) -> None:
    kit = kit_variants()["2xADS1115"]
    results = {}
    say(f"  running `insole run` for {seconds:g} s: continuous, sampler process (the default) ...")
    results["continuous, process"] = _process_figures(kit, run_stack_process(kit, seconds), emulator_cpu)
    for label, mode, headless in RUNS:
        say(f"  running `insole run` for {seconds:g} s: {label} ...")
        pins = MockFactory()
        bus = build_bus(kit, bus_hz=400_000, pin_factory=pins)
        tag_inputs(bus, kit)
        counted = Counted(bus)
        src = AdsSource(kit, bus, "continuous", pin_factory=pins) if mode == "continuous" else LibraryLoopSource(kit, bus)
        try:
            r = run_stack(src, bus, counted, seconds, headless=headless)
        finally:
            src.close()
            bus.deinit()
        results[label] = _acceptance_figures(kit, bus, r, paced=mode == "continuous")
    _print_acceptance(results)


def _acceptance_figures(kit, bus, r, paced: bool) -> dict:
    s = r["session"]
    t = s.t_s
    n = len(t)
    fps = (n - 1) / (t[-1] - t[0]) if n > 1 else 0.0
    period = 1.0 / s.rate_hz
    err = np.abs(np.diff(t) - period) * 1e3
    p50, p99 = (float(np.percentile(err, 50)), float(np.percentile(err, 99))) if err.size else (np.nan, np.nan)
    p99_kept = _p99_kept(t, s.rate_hz)
    stamps = r["sampler"]._t0 + np.round(t * 1e9).astype(np.int64)
    if paced:
        half = max(inputs_per_chip(kit).values()) / 2       # the chips' cycles pair within half a cycle

        def window(k, slot, per):
            return stamps[k] + (slot - 0.5) * per, stamps[k] + (slot + 0.5 + half) * per
    else:
        before = np.concatenate([[r["sampler"]._t0], stamps[:-1]])

        def window(k, slot, per):
            return before[k], stamps[k]
    (wa, ca, tha, ioa, cba), (wb, cb, thb, iob, cbb) = r["marks"]["a"], r["marks"]["b"]
    wall = wb - wa
    d = {name: (thb[name] - tha[name]) / wall for name in thb if name in tha}
    alert = sum(v for k, v in d.items() if k.startswith("alert-"))
    callbacks = (cbb - cba) / wall
    emu_io = (iob - ioa) / wall
    sampler = d.get("insole-sampler", 0.0) + callbacks
    process = (cb - ca) / wall
    known = ("insole-sampler", "insole-processor", "insole-display", "MainThread", "pty-reader", "bench-monitor")
    return {"fps": fps, "rate_hz": s.rate_hz, "frames": n, "p50": p50, "p99": p99, "p99_kept": p99_kept,
            "labels": labels_right(kit, s.values), "in_time": in_time(kit, bus, stamps, s.values, window),
            "sampler_cpu": sampler, "sampler_cpu_net": sampler - emu_io,
            "process_cpu": process, "process_net": process - (alert - callbacks) - emu_io,
            "threads": {"sampler thread": d.get("insole-sampler", 0.0), "ALERT threads (emulator + callbacks)": alert,
                        "  of which ALERT callbacks (the reader)": callbacks,
                        "processor (writer, gait core)": d.get("insole-processor", 0.0),
                        "display": d.get("insole-display", 0.0), "main": d.get("MainThread", 0.0),
                        "pty reader (bench)": d.get("pty-reader", 0.0),
                        "other": sum(v for k, v in d.items() if k not in known and not k.startswith("alert-"))},
            "health": s.meta.get("health", {}), "landings": len(s.landings or []), "display_frames": r["display_frames"], "tty_bytes": r["tty_bytes"],
            "window_s": wall}


def _print_acceptance(res: dict) -> None:
    cols = list(res.values())
    say("")
    say(f"{'':<46}" + "".join(f"{k:>22}" for k in res) + "   target")

    def line(label, key, fmt, target=None, ok=None):
        cells = []
        for r in cols:
            v = r[key] if isinstance(key, str) else key(r)
            txt = "—" if v is None or (isinstance(v, float) and not np.isfinite(v)) else format(v, fmt)
            if ok is not None and v is not None:
                txt += " PASS" if ok(v) else " FAIL"
            cells.append(txt)
        say(f"{label:<46}" + "".join(f"{c:>22}" for c in cells) + f"   {target or ''}")
    line("frames/s (session)", "fps", ".1f", "≥ 190 (chip limit 215)", lambda v: v >= 190)
    line("nominal frames/s (session.json rate_hz)", "rate_hz", ".1f")
    line("sampler CPU % (loop + ALERT callbacks + hand-off)", lambda r: 100 * r["sampler_cpu"], ".1f",
         "≤ 25 % of a core", lambda v: v <= 25)
    line("  … the sampler process, emulated chips too", lambda r: r.get("sampler_process_cpu") and
         100 * r["sampler_process_cpu"], ".1f", "(the chips' model and ALERT thread are no Pi's load)")
    line("  … without the emulated I2C (est.)", lambda r: r.get("sampler_cpu_net") and 100 * r["sampler_cpu_net"], ".1f")
    line("frame-interval error p50 ms", "p50", ".3f")
    line("frame-interval error p99 ms", "p99", ".3f", "≤ 1 ms", lambda v: v <= 1.0)
    line("  … between consecutive frames only (ms)", "p99_kept", ".3f", "(lost frames counted above)")
    line("labelled right % (tag)", lambda r: 100 * r["labels"], ".2f", "100 %", lambda v: v == 100.0)
    line("from a conversion in its own frame %", lambda r: 100 * r["in_time"], ".2f")
    line("frames / late / skipped / bus errors", lambda r: "{frames}/{late_frames}/{skipped_frames}/{bus_errors}".format(
        **r["health"]), "")
    line("landings found live", "landings", "d")
    line("display frames drawn (KB to the pty)", lambda r: f"{r['display_frames']} ({r['tty_bytes'] // 1024} KB)", "")
    say(f"CPU % of one core over the steady {cols[0]['window_s']:.1f} s, per thread (per process for the sampler process):")
    names = list(dict.fromkeys(k for r in cols for k in r["threads"]))
    for k in names:
        line(f"  {k}", lambda r, k=k: None if r["threads"].get(k) is None else 100 * r["threads"][k], ".1f")
    line("  whole process", lambda r: 100 * r["process_cpu"], ".1f")
    line("  whole process minus the emulator (est.)", lambda r: 100 * r["process_net"], ".1f")


# ---- main --------------------------------------------------------------------------------------------
def table(kits, row_s: float) -> None:
    say(f"\nrows of {row_s:g} s. cpu: process user+sys over the reading, emulator included; read: the reading "
        f"threads' own CPU (its emulated I2C included); net: read minus the CPU inside the emulated I2C calls; all % of one "
        f"core. err: frame-interval error, ms. labels, in time: %")
    say(HEADER)
    for name, kit in kits.items():
        for bus_hz in BUSES:
            lim = limits(kit, bus_hz)
            for mode in MODES:
                print_row(name, bus_hz, mode, lim[mode], row(kit, bus_hz, mode, row_s))
    left = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if left:
        say(f"(threads still running after the rows: {', '.join(left)})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter rows and runs (under a minute in all)")
    ap.add_argument("--seconds", type=float, help="seconds per table row (default 4, --quick 1.5)")
    ap.add_argument("--accept-seconds", type=float, help="seconds of each acceptance run (default 10, --quick 5)")
    ap.add_argument("--acceptance-only", action="store_true", help="skip the table: only the acceptance runs")
    args = ap.parse_args()
    row_s = args.seconds or (1.5 if args.quick else 4.0)
    acc_s = args.accept_seconds or (5.0 if args.quick else 10.0)
    idle_s = 1.0 if args.quick else 2.0
    sys.setswitchinterval(SWITCH_INTERVAL_S)          # as `insole run` sets it
    CALLBACKS.install()
    t_all = time.perf_counter()
    kits = kit_variants()

    say("the emulator alone ...")
    idle = {}
    for name, kit in kits.items():
        if args.acceptance_only and name != "2xADS1115":
            continue
        idle[name] = idle_emulator(kit, idle_s)
        say(f"  {name}: chips converting continuously and pulsing ALERT/RDY, nobody reading: "
            f"{100 * idle[name]:.1f} % CPU (for scale: the part of a continuous row's cpu that is no reader's)")

    if not args.acceptance_only:
        table(kits, row_s)
    say("\nacceptance: 2xADS1115 at 860 SPS, 8 inputs, 400 kHz bus, continuous, the whole `insole run` stack "
        "(sampler, session writer, gait core, live display on a pseudo-terminal); figures from the session folder")
    acceptance(acc_s, idle["2xADS1115"])
    say(f"\ntotal {time.perf_counter() - t_all:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
