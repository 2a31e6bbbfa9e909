"""Building blocks of bench/hardware.py: kit variants, tagged inputs, the bit-time limits, label
checks, CPU clocks (per thread, inside the emulated bus, inside the ALERT/RDY callbacks) and the
library's plain read loop.

Nothing here changes the project's files: the kit variants are made with ``dataclasses.replace``
(and checked as ``pi.kit`` checks a file), the emulated chips get their inputs through their
public ``set_input``, a bus object's methods are wrapped to count and time its transactions, and
``ChipStream.on_edge`` is wrapped in this process only, to time the callbacks.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from analysis.layout import Layout
from pi.kit import DATA_RATES, load_kit
from pi.sources.base import FrameSource

# ---- the emulated bus's bit counts (pi/emulator/bus.py) --------------------------------------
# writeto: start + 9 bits per byte (address included) + stop = 11 + 9 × data bytes
# writeto_then_readfrom: S, address, data, Sr, address, data in, stop = 1 + 9 + 9n + 1 + 9 + 9m + 1
CONFIG_WRITE_BITS = 11 + 9 * 3                      # pointer + 16-bit config: 38
REGISTER_READ_BITS = 1 + 9 + 9 * 1 + 1 + 9 + 9 * 2 + 1   # pointer, then 2 bytes: 48
POLL_HEAD_BITS = 1 + 9 + 9 + 1 + 9                     # S, address, pointer, Sr, address: 29
WAKE_S = 25e-6                                       # single-shot power-up (TI SBAS444)


# ---- kit variants ---------------------------------------------------------------------------
def checked(kit):
    """The checks ``pi.kit.load_kit`` makes on what a variant changes: each chip's data rate is
    one its type has, and the frame rate is positive and within what the chips allow."""
    for c in kit.chips:
        if c.data_rate not in DATA_RATES[c.type]:
            raise ValueError(f"{c.name}: {c.data_rate} SPS is not a {c.type} rate")
    if not {s.chip for s in kit.layout} <= {c.name for c in kit.chips}:
        raise ValueError("a sensor names a chip the kit does not have")
    if not 0 < kit.rate_hz <= kit.max_rate_hz:
        raise ValueError(f"rate_hz {kit.rate_hz} is not within the chips' 0-{kit.max_rate_hz}")
    return kit


def kit_variants() -> dict[str, object]:
    """name → Kit: one ADS1115 (left foot only), the default two, one ADS1015 at 3300 SPS."""
    base = load_kit()
    left = base.chips[0]
    one_foot = Layout([s for s in base.layout if s.chip == left.name])
    one_1115 = replace(base, chips=(left,), layout=one_foot)
    ads1015 = replace(left, type="ADS1015", data_rate=max(DATA_RATES["ADS1015"]))
    one_1015 = replace(one_1115, chips=(ads1015,), rate_hz=ads1015.data_rate / len(one_foot))
    return {"1xADS1115": checked(one_1115), "2xADS1115": checked(base), "1xADS1015": checked(one_1015)}


def inputs_per_chip(kit) -> dict[str, int]:
    return {c.name: sum(1 for s in kit.layout if s.chip == c.name) for c in kit.chips}


# ---- theoretical limits (no software time at all) ------------------------------------------
def limits(kit, bus_hz: float) -> dict[str, tuple[float, str]]:
    """mode → (frames/s, what bounds it), from bit times and conversion times only.

    continuous: each chip converts back to back at its data rate; every conversion costs one
      conversion-register read and one config write on the shared bus. A chip gets at most
      min(DR, bus_hz / (86 bits × chips)) conversions/s, shared by its inputs.
    single (timed, chips in parallel): per input slot, the config writes of all chips, one
      conversion (25 µs wake + 1/DR), then per chip an OS-bit read and the result read.
    library loop: one input after another over all chips: config write, 25 µs + 1/DR, the
      rest of the OS poll that finds it done (at best 19 bits: the chip answers a read when its
      data phase starts; earlier polls overlap the conversion), the result read.
    """
    bit = 1.0 / bus_hz
    n_chips = len(kit.chips)
    per_chip = inputs_per_chip(kit)
    out = {}
    cont, bound = [], "chip"
    for c in kit.chips:
        bus_conv = bus_hz / ((CONFIG_WRITE_BITS + REGISTER_READ_BITS) * n_chips)
        if bus_conv < c.data_rate:
            bound = "bus"
        cont.append(min(c.data_rate, bus_conv) / per_chip[c.name])
    out["continuous"] = (min(cont), bound)
    slowest = min(c.data_rate for c in kit.chips)
    slot = n_chips * (CONFIG_WRITE_BITS + 2 * REGISTER_READ_BITS) * bit + WAKE_S + 1.0 / slowest
    out["single"] = (1.0 / (max(per_chip.values()) * slot), "chip+bus")
    frame = 0.0
    for c in kit.chips:
        # at best the poll that finds OS = 1 has its data phase (the chip answers when its data
        # starts) right at the end of the conversion: 19 bits of it are left. Back-to-back polls
        # quantise the wait by a whole poll (48 bits), so this is an upper bound
        tail = REGISTER_READ_BITS - POLL_HEAD_BITS
        per_input = (CONFIG_WRITE_BITS + tail + REGISTER_READ_BITS) * bit + WAKE_S + 1.0 / c.data_rate
        frame += per_chip[c.name] * per_input
    out["library loop"] = (1.0 / frame, "chip+bus")
    return out


# ---- tagged inputs: every value names its chip and input --------------------------------------
SIM_RATE_HZ = 1000.0             # runner frames per second behind the inputs (as build_bus's default)
SIM_SECONDS = 60.0               # precomputed, then repeated
_signals: dict[int, tuple] = {}


def _runner_counts(kit) -> np.ndarray:
    """The simulated runner's stored values (16-bit counts), SIM_SECONDS of them, computed once
    per kit. pi.emulator's RunnerInputs computes them as the chips go, 0.1 s at a time (~1 ms of
    CPU in the chip's ALERT thread every 0.1 s, enough to make a pulse late): done up front here,
    the emulator's cost is steadier and the reader's timing is not disturbed by the input model."""
    from pi.simulator import SimSettings, SimulatedRunner
    key = id(kit)
    if key not in _signals:
        runner = SimulatedRunner(kit.layout, SIM_RATE_HZ, SimSettings(body_mass_kg=kit.body_mass_kg or 70.0))
        _signals[key] = (kit, runner.read(int(SIM_SECONDS * SIM_RATE_HZ))[1])
    return _signals[key][1]


def tag_inputs(bus, kit) -> None:
    """Drive each input with the simulated runner's signal for its sensor, the low 3 bits of the
    chip's code set to chip index × 4 + input (≤ 7 LSB: the gait core still sees a runner). A
    stored value then says which chip and input it came from (ADS1015: the code is value >> 4).
    Inputs no sensor uses carry the tag alone."""
    counts = _runner_counts(kit)
    n = len(counts)
    for ci, chip in enumerate(kit.chips):
        emu = bus.chip(chip.address)
        half = 1 << (chip.bits - 1)
        lsb_v = chip.fs_v / half
        cols = {s.input: i for i, s in enumerate(kit.layout) if s.chip == chip.name}
        for j in range(4):
            raw = counts[:, cols[j]] if j in cols else np.zeros(n)
            codes = np.clip(np.round(raw * half / 32768.0), 0, half - 1).astype(np.int64)
            volts = (((codes & ~7) | (ci * 4 + j)) * lsb_v).tolist()
            emu.set_input(j, lambda t_s, v=volts: v[int(max(t_s, 0.0) * SIM_RATE_HZ + 0.5) % n])


def expected_tags(kit) -> np.ndarray:
    index = {c.name: i for i, c in enumerate(kit.chips)}
    return np.array([index[s.chip] * 4 + s.input for s in kit.layout])


def labels_right(kit, values: np.ndarray) -> float:
    """Share (0-1) of stored values whose tag names their own column's chip and input."""
    values = np.asarray(values, dtype=np.int64)
    if values.size == 0:
        return float("nan")
    shift = np.array([16 - kit.chip(s.chip).bits for s in kit.layout])
    tags = (values >> shift) & 7
    return float(np.mean(tags == expected_tags(kit)))


def in_time(kit, bus, stamps_ns, values, windows) -> float:
    """Share (0-1) of stored values that are the result of a conversion of their column's input
    started inside that frame's window: ``windows(frame_index, slot, period_ns) → (lo, hi)`` ns.
    Catches stale or misplaced results, which a tag alone cannot."""
    values = np.asarray(values)
    ok = total = 0
    for chip in kit.chips:
        convs = list(bus.chip(chip.address).conversions)
        if not convs:
            continue
        starts = np.array([c.t_start_ns for c in convs])
        vals = np.array([c.value for c in convs])
        inputs = np.array([-1 if c.input is None else c.input for c in convs])
        period = 1e9 / chip.data_rate
        cols = sorted((s.input, i) for i, s in enumerate(kit.layout) if s.chip == chip.name)
        for slot, (j, col) in enumerate(cols):
            for k in range(len(stamps_ns)):
                lo_t, hi_t = windows(k, slot, period)
                lo, hi = np.searchsorted(starts, [lo_t, hi_t])
                total += 1
                sel = slice(lo, hi)
                ok += bool(np.any((vals[sel] == values[k, col]) & (inputs[sel] == j)))
    return ok / total if total else float("nan")


# ---- interval errors ----------------------------------------------------------------------------
def interval_errors_ms(stamps_ns, period_s: float | None = None) -> tuple[float, float]:
    """p50, p99 of |interval − nominal| in ms; nominal = ``period_s`` or the mean interval."""
    gaps = np.diff(np.asarray(stamps_ns, dtype=np.float64)) / 1e9
    if gaps.size == 0:
        return float("nan"), float("nan")
    nominal = float(np.mean(gaps)) if period_s is None else period_s
    err = np.abs(gaps - nominal) * 1e3
    return float(np.percentile(err, 50)), float(np.percentile(err, 99))


# ---- the emulated bus, counted and timed; chips left converting --------------------------------------------------------------
class Counted:
    """Counts the reads and writes an emulated bus carries and times them with the calling
    thread's CPU clock (wraps the bus object's own methods): ``cpu()`` is the CPU the emulated
    I2C has cost its callers so far, its Python and the sleeps that stand for the bus time (on a
    Pi: Blinka's i2c-dev ioctls)."""

    def __init__(self, bus):
        self.reads = self.writes = 0
        self._cpu = 0.0
        self._lock = threading.Lock()
        for name, kind in (("writeto", "writes"), ("writeto_then_readfrom", "reads"), ("readfrom_into", "reads")):
            setattr(bus, name, self._wrap(getattr(bus, name), kind))

    def _wrap(self, fn, kind):
        def call(*a, **k):
            t = time.thread_time()
            try:
                return fn(*a, **k)
            finally:
                dt = time.thread_time() - t
                with self._lock:
                    self._cpu += dt
                    setattr(self, kind, getattr(self, kind) + 1)
        return call

    def cpu(self) -> float:
        with self._lock:
            return self._cpu


def start_continuous_unread(bus, kit) -> None:
    """Put every chip in continuous mode with ALERT/RDY as conversion-ready (as the continuous
    reader sets them up), then leave them: they convert and pulse, nobody reads."""
    from pi.emulator.ads1x15 import FS_V
    bus.try_lock()
    try:
        for c in kit.chips:
            emu = bus.chip(c.address)
            dr = emu.rates.index(c.data_rate)
            word = (4 << 12) | (FS_V.index(c.fs_v) << 9) | (dr << 5)     # AIN0, PGA, continuous, DR, queue 1
            bus.writeto(c.address, bytes((2, 0x00, 0x00)))                # Lo_thresh MSB 0
            bus.writeto(c.address, bytes((3, 0x80, 0x00)))                # Hi_thresh MSB 1
            bus.writeto(c.address, bytes((1, word >> 8, word & 0xFF)))
    finally:
        bus.unlock()


# ---- CPU time of each thread ------------------------------------------------------------------
def thread_cpu() -> dict[str, float]:
    """Thread name → its CPU time so far, s (Linux per-thread CPU clocks), for live threads."""
    out = {}
    for t in threading.enumerate():
        try:
            out[t.name] = out.get(t.name, 0.0) + time.clock_gettime(time.pthread_getcpuclockid(t.ident))
        except (OSError, TypeError, AttributeError):
            pass
    return out


# ---- the library's own plain loop -------------------------------------------------------------
def library_channels(kit, bus):
    """One AnalogIn per sensor, in the kit's column order, through adafruit_ads1x15 in its
    default single-shot mode (each ``.value`` writes the config, busy-polls OS, reads)."""
    from adafruit_ads1x15 import ADS1015, ADS1115, AnalogIn
    cls = {"ADS1115": ADS1115, "ADS1015": ADS1015}
    ads = {c.name: cls[c.type](bus, gain=c.gain, data_rate=c.data_rate, address=c.address) for c in kit.chips}
    return [AnalogIn(ads[s.chip], s.input) for s in kit.layout]


class LibraryLoopSource(FrameSource):
    """The naive loop as a frame source for ``insole run``: a frame is every sensor's
    ``AnalogIn(ads, pin).value`` in turn, at the rate the kit asks for (it cannot keep up)."""

    kind = "library-loop"

    def __init__(self, kit, bus):
        self.kit, self.layout, self.rate_hz = kit, kit.layout, kit.rate_hz
        self.channels = library_channels(kit, bus)

    def read(self, n: int):
        return None, np.array([[ch.value for ch in self.channels] for _ in range(n)], dtype=np.int64)

    def describe(self) -> dict:
        return {"kind": self.kind, "mode": "adafruit_ads1x15 AnalogIn.value, single-shot",
                "rate_hz": self.rate_hz, **self.kit.to_source_json()}

    def close(self) -> None:
        pass


# ---- CPU time of the ALERT/RDY callbacks --------------------------------------------------------
class CallbackClock:
    """Times every ALERT/RDY callback of the continuous reader with its thread's CPU clock.

    The callbacks run on the emulated chips' ALERT threads (on a Pi: lgpio's callback thread),
    mixed with the emulator's own work there; wrapping ``ChipStream.on_edge`` (in this process
    only) separates them. ``total()`` is the CPU seconds spent in callbacks so far."""

    def __init__(self):
        self._lock = threading.Lock()
        self._total = 0.0
        self.calls = 0

    def install(self) -> None:
        from pi.sources import ads_ready
        inner = ads_ready.ChipStream.on_edge
        clock = self

        def on_edge(stream, ticks, state=None):
            t = time.thread_time()
            try:
                return inner(stream, ticks, state)
            finally:
                dt = time.thread_time() - t
                with clock._lock:
                    clock._total += dt
                    clock.calls += 1
        on_edge.__doc__ = inner.__doc__
        ads_ready.ChipStream.on_edge = on_edge

    def total(self) -> float:
        with self._lock:
            return self._total


def open_tagged_emulated(kit, bus_hz: float = 400_000):
    """An emulated continuous-mode AdsSource on tagged inputs (see :func:`tag_inputs`): the
    opener the sampler process runs (``_hw_common:open_tagged_emulated``) in the acceptance run."""
    from gpiozero.pins.mock import MockFactory
    from pi.emulator import build_bus
    from pi.sources.ads import AdsSource
    pins = MockFactory()
    bus = build_bus(kit, bus_hz=bus_hz, pin_factory=pins)
    tag_inputs(bus, kit)
    src = AdsSource(kit, bus, "continuous", pin_factory=pins)
    src.kind = "emulated"
    close = src.close

    def close_all():
        close()
        bus.deinit()
    src.close = close_all
    return src


def process_cpu_s(pid: int) -> float:
    """user + sys CPU seconds of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
