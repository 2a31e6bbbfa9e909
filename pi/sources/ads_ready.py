"""Continuous conversion paced by ALERT/RDY: each chip converting back to back at its data rate,
one input switch per conversion, the frame rate set by the chips (4 inputs at 860 SPS: 215
frames/s, the chip limit).

How one chip is read (TI SBAS444, shared/notes/hardware.md): the chip runs in continuous mode
with the comparator set as conversion-ready (Hi_thresh MSB 1, Lo_thresh MSB 0, COMP_QUE one
conversion), so ALERT/RDY pulses low at the end of every conversion. A config write lets the
conversion in progress finish with the old input; the new one applies from the next conversion.
So on each pulse we read the result just finished and write the input for the conversion
*after next*.

That holds only if the read and the write land before the *next* conversion ends, which a late
callback cannot promise. So each callback notes when its read and write began and ended, and the
next pulse's edge time (the kernel's timestamp) settles what they did: which conversion's result
the read returned, and from which conversion the write applies. A transaction across an edge
leaves that one conversion's input unknown, and its result is dropped. A sample is lost, never
mislabelled. At a pulse the reading thread only records the edge and its transaction
(``ChipStream.log``). The settling, and the pairing of the chips' cycles into frames, are done
apart from it:

* with the character device: in a *settler process* (:func:`settler_main`). The reading
  thread packs the records, a few at a time, into a pipe it never waits on
  (:meth:`ReadyReader._ship_quietly`), and the settler sends the frames back every
  ``SETTLER_SEND_S``. Measured on the emulated Pi 4 (k ~6), lost conversions a second: 15-25
  with the settling in the reading thread's quiet between pulses, 2-8 with it apart, 0.2 with
  no settling at all; in another thread of the reader's process it held the interpreter when
  a pulse came (a start or a transfer late by 0.5-1 ms). Python's one interpreter lock per
  process is why it is a process;
* with gpiozero's callbacks: by the consumer, in :meth:`ReadyReader.take`.

The pulses come from the kernel's GPIO character device, read by a thread of the reader's own
(``lines``: a gpiod line request, pi/sources/gpio_lines.py, or an emulated one), or else from
gpiozero's edge callbacks (``pin_factory``; through lgpio each edge arrives 0.5 ms or more
late). On a bus that can prepare it (LinuxI2C), each conversion costs one combined transfer:
the next input's config write, the pointer back to the conversion register, the result read,
joined by repeated starts in one ioctl; on another (busio) a read and a write.

A transaction that fails is retried at once; a chip that keeps
failing is marked *lost*: its pulses are ignored, and :meth:`ReadyReader.maintain` (called by
the sampler, never on the GPIO thread) sets it up again every ``PROBE_S`` until it answers. A
chip whose pulses stop (a power cut, a loose ALERT wire) is probed the same way; one that lost
power comes back in single-shot mode and needs the set-up written again.

Frames: each chip completes *cycles* (all its inputs once, in consecutive conversions on a
fixed grid: conversion k is slot k mod n), stamped with the start of their first conversion. A
lost conversion costs its cycle only; the grid, and so the frames' spacing, never shifts. Chips
run on their own oscillators, so cycles of different chips are paired by time: a cycle with no
partner within half a cycle is dropped. A frame is stamped with the cycle of the slowest chip
(:meth:`ReadyReader._reference`), which sets the pace; each input's offset within its chip's
cycle is recorded by the source (another chip's cycle starts within half a cycle of the stamp:
by the chips' phase difference, constant while their rates agree).
"""

from __future__ import annotations

import os
import select
import struct
import sys
import threading
import time
from collections import deque

from pi.realtime import ignore_stop_signals, promote

OSC_FAST = 0.90          # the shortest conversion period: the oscillator up to 10 % fast (TI SBAS444)
WINDOW = 0.90            # share of that period in which a callback's read and write should be done
PERIOD_GAPS = 16         # edge gaps averaged before the measured period is trusted
MARGIN_NS = 40_000       # a transaction this close to an edge counts as across it (clock reads)
RELEARN_EDGES = 20_000   # edges stamped by another clock: the offset is relearnt this often
UNSURE_NS = 200_000      # how much earlier than placed an edge stamped by an unknown clock may be
RETRIES = 2              # a failed transaction is tried this many times more, at once
POINTER_CONVERSION = b"\x00"   # the pointer byte selecting the conversion register
LOCK_WAIT_S = 50e-6      # wait between tries for a bus someone else holds
SILENT_PERIODS = 50      # no pulse for this many periods: the chip is silent, probe it
PROBE_S = 0.25           # a lost or silent chip is set up again this often
MAX_PENDING = 16         # cycles kept waiting for the other chips' (a chip gone: the oldest go)
#: a chip that has delivered no cycle while the others delivered this long (ns) is absent: the
#: others' frames go on without it, its inputs not sampled (empty cells), rather than all lost
ABSENT_NS = 40_000_000    # under the 50 ms of a gap (GAP_MIN_S): what is lost before is a few frames
REF_SWITCH = 0.003       # a chip this much slower than the one stamping the frames takes over
LATENCY_KEPT = 4096      # edge-to-reader latencies kept per chip, for the board's figures
EVENT_WAIT_S = 0.1       # the character-device reader looks at its stop flag this often
TAKE_POLL_S = 0.001      # a consumer waiting for frames looks this often
DRAIN_SLICE = 16         # records settled between two chances for the reading thread to run
SHIP_BATCH = 8           # records the reading thread gathers before it ships them to the settler
MAX_UNSENT = 1 << 20     # bytes of records kept while the settler does not take them (then dropped)
SETTLER_START_S = 30.0   # the settler process must say it is ready within this
SETTLER_SEND_S = 0.02    # the settler sends the frames it has this often (the sampler's chunk)


def read_write_window_s(data_rate: float) -> float:
    """Time after a pulse in which a callback's read and write should be done, s. Continuous
    mode is refused when the two transactions alone take over half of it (a 100 kHz bus, or an
    ADS1015 at 3300 SPS): the other half is the callback's to start in."""
    return WINDOW * OSC_FAST / data_rate


class ChipStream:
    """One chip in continuous mode, read on its ALERT/RDY pulses.

    Conversions are numbered by the edges that end them (``conv``). Each pulse (:meth:`edge`)
    reads the result register and writes the next input, noting when each transaction began and
    ended (monotonic ns), into ``log``. :meth:`drain`, on the consumer's thread, settles them
    with the *next* edge's time: a read that ended before it returned the result of the
    conversion that had just ended; a write that ended before it applies from the conversion
    after next; one that began after it, a conversion later; one across it, a conversion of
    unknown input (dropped). ``events`` keeps the resolved input changes as (first conversion,
    input or None for unknown).
    """

    def __init__(self, ads, lib, inputs: list[int], cols: list[int], name: str, factory,
                 on_error, numbering=lambda stream, edge_ns: 0, cpu_model=None):
        self.ads, self.lib, self.name, self.factory = ads, lib, name, factory
        #: an emulated board's slower Python (pi.emulator.boards.SlowPython); None on a real one
        self.cpu_model = cpu_model
        #: ns from each edge to the code reading it (the last LATENCY_KEPT edges)
        self.latency_ns: deque[int] = deque(maxlen=LATENCY_KEPT)
        self.numbering = numbering     # the number of a first conversion (ReadyReader._numbering)
        self.inputs, self.cols = inputs, cols
        self.on_error = on_error
        self.period_ns = int(1e9 / ads.data_rate)          # nominal
        self.measured_ns = float(self.period_ns)            # the chip's own, from its edges
        self._gaps = 0
        self._sum = 0
        self.lock = threading.Lock()
        self._offset: int | None = None          # see _from_other_clock
        self._window_min: int | None = None
        self._other_clock_edges = 0
        self.early_ns = MARGIN_NS                 # room needed before an edge (see _from_other_clock)
        self.lost = False
        self.alert_silent = False      # converting, but no pulse has reached us (see maintain)
        self.cycle: list[int] = []     # the values of the cycle being filled, slot by slot
        self.n_inputs = len(inputs)
        self.filled = 0
        self.first_ns = 0
        self.last_edge_ns = 0          # monotonic ns of the last edge handled
        self.last_probe_ns = 0
        self.conversions = 0           # results stored
        self.i2c, self.address = ads.i2c_device.i2c, ads.i2c_device.device_address
        self._buf = bytearray(2)       # the conversion register, as read
        #: config register writes (pointer 1, then the word), one per input
        self._config_bytes = {j: bytes((1, self._config(j) >> 8, self._config(j) & 0xFF)) for j in inputs}
        #: one combined transfer per input where the bus can make it (LinuxI2C: the config
        #: write, the pointer back to the conversion register, the result read, one ioctl)
        self._exchange = None
        prepare = getattr(self.i2c, "prepare", None)
        if prepare is not None:
            try:
                self._exchange = {j: prepare(self.address, (self._config_bytes[j], POINTER_CONVERSION), 2)
                                  for j in inputs}
            except (AttributeError, OSError, TypeError):
                self._exchange = None       # a bus object that cannot prepare: two transactions
        self.resyncs = 0               # conversions whose input could not be known
        self.dropped = 0               # results read but not kept
        self.stale = 0                 # pulses handled after the next one: not read
        self.cpu_ns = 0                # CPU time spent in this chip's callbacks
        self.promoted: bool | None = None   # whether this chip's callbacks run under SCHED_FIFO
        self.log = deque()
        self._restart()
        self._restart_settling(self.generation)

    def _restart(self) -> None:
        """Forget the conversions so far (the chip was set up again): the reading side numbers
        from scratch, and the settling side starts over when it meets the new generation."""
        self.conv: int | None = None   # the conversion that ended at the last edge handled
        self.generation += 1

    generation = 0
    #: what each edge handled did, for :meth:`drain`: (generation, conversion, edge ns, period
    #: ns, None or (read t0, t1, raw, write t0, t1, input written)); appended by the reading
    #: thread, taken by the consumer's (a deque: an append is atomic and wakes nobody)
    log: deque

    def _restart_settling(self, generation: int) -> None:
        self._gen_settled = generation
        self._last = None              # the last record, waiting for the edge after it
        self.events: list[tuple[int, int | None]] = []
        self.filled = 0                # slots of cycle ``cycle_no`` in hand
        self.cycle_no = -1
        self.broken = False            # this cycle has lost a slot
        self.last_rc = -10             # the conversion whose result came last

    # -- transactions ---------------------------------------------------------------------------
    def _config(self, j: int) -> int:
        lib, ads = self.lib, self.ads
        return (((4 + j) << lib._ADS1X15_CONFIG_MUX_OFFSET) | lib._ADS1X15_CONFIG_GAIN[ads.gain]
                | lib.Mode.CONTINUOUS | ads.rate_config[ads.data_rate]
                | lib._ADS1X15_CONFIG_COMP_QUEUE[1])          # ALERT/RDY after every conversion

    def _xfer(self, fn, *args, retries: int = RETRIES):
        for attempt in range(retries + 1):
            try:
                return fn(*args)
            except OSError as e:
                self.on_error(self, e)
                if attempt == retries:
                    raise

    def setup(self) -> None:
        """Write the conversion-ready thresholds and start converting the first input. Raises
        OSError if the chip does not answer. Called with ``lock`` held (or before the pins)."""
        self.last_probe_ns = time.monotonic_ns()
        self._xfer(self.ads._write_register, 2, 0x0000)     # Lo_thresh MSB 0 } ALERT/RDY as
        self._xfer(self.ads._write_register, 3, 0x8000)     # Hi_thresh MSB 1 } conversion-ready
        self._xfer(self.ads._write_register, 1, self._config(self.inputs[0]))
        self.lost = False
        self._restart()                                     # inputs unknown until a write is settled
        self.last_edge_ns = time.monotonic_ns()

    # -- the pulse --------------------------------------------------------------------------------
    def _from_other_clock(self, ticks, now_ns: int) -> int:
        """An edge stamped by a clock the pin factory's ``ticks()`` does not share. The wall
        clock (what some GPIO libraries stamp kernel events with) converts exactly: both clocks
        are read now. Any other clock is placed by the smallest delay seen between edge and
        callback (relearnt every ``RELEARN_EDGES`` edges, for a clock step); the real edge can
        then be up to that delay earlier, so transactions need ``UNSURE_NS`` more room before
        an edge to count as before it (``early_ns``)."""
        raw = int(float(ticks) * 1e9)
        wall_age = time.time_ns() - raw
        if 0 <= wall_age < 500_000_000:
            self.early_ns = MARGIN_NS
            return now_ns - wall_age
        self.early_ns = MARGIN_NS + UNSURE_NS
        offset = now_ns - raw
        self._other_clock_edges += 1
        if self._other_clock_edges % RELEARN_EDGES == 0:
            self._offset, self._window_min = self._window_min, None
        if self._window_min is None or offset < self._window_min:
            self._window_min = offset
        if self._offset is None or offset < self._offset:
            self._offset = offset
        return raw + self._offset

    @staticmethod
    def _edges_before(t: int, t_next: float, period_ns: float) -> int:
        """How many of the edges t_next, t_next + period, … lie clearly before ``t`` (ns)."""
        m = 0
        while t > t_next + m * period_ns + MARGIN_NS:
            m += 1
        return m

    def _after(self, t0: int, t1: int, t_next: float, period_ns: float) -> int | None:
        """How many of those edges the span [t0, t1] (ns) lies after (0: before ``t_next``), or
        None when an edge falls inside it (within ``MARGIN_NS``)."""
        m = self._edges_before(t0, t_next, period_ns)
        return m if t1 < t_next + m * period_ns - self.early_ns else None

    def _input_of(self, c: int) -> int | None:
        for first, j in reversed(self.events):
            if first <= c:
                return j
        return None

    def on_edge(self, ticks, state=None) -> None:
        """A falling edge of ALERT/RDY at ``ticks`` (the pin factory's clock): a conversion has
        just ended. The CPU time of the callbacks (this thread's clock) adds up in ``cpu_ns``."""
        c0 = time.thread_time_ns()
        try:
            self._on_edge(ticks)
        finally:
            self.cpu_ns += time.thread_time_ns() - c0

    def _on_edge(self, ticks) -> None:
        self.promoted = promote()       # this thread must not wait for a core (pi/realtime.py)
        f = self.factory
        age_s = f.ticks_diff(f.ticks(), ticks)
        now_ns = time.monotonic_ns()
        if 0.0 <= age_s < 0.5:
            edge_ns = now_ns - int(age_s * 1e9)
        else:
            edge_ns = self._from_other_clock(ticks, now_ns)
        self.edge(edge_ns, now_ns)

    def edge(self, edge_ns: int, now_ns: int) -> None:
        """A conversion ended at ``edge_ns`` (monotonic ns), seen at ``now_ns``: settle the last
        callback's transactions, read this result and write the input two conversions ahead."""
        cpu = self.cpu_model
        with self.lock:
            if self.lost:
                return
            # before the transfer only what it needs (which conversion this is, whether it is
            # still there to read, the input to write); the bookkeeping comes after it
            measured = self.measured_ns
            c = self.conv
            gap_ns = edge_ns - self.last_edge_ns
            if c is None:                         # (re)started: number as the other chips do
                c = self.numbering(self, edge_ns)
                gap_ns = 0
            elif gap_ns < 1.5 * measured:         # the next conversion: the usual case
                c += 1
            else:
                c += round(gap_ns / measured)
                gap_ns = 0
            self.conv = c
            self.last_edge_ns = edge_ns
            exchange = self._exchange
            if exchange is not None:
                # one prepared transfer (the usual path on a Pi): written out here, not in
                # calls, as every line of it runs 1,720 times a second on the board's slow Python
                if cpu is not None:
                    cpu.checkpoint()              # an emulated board: its slower Python first
                r0 = time.monotonic_ns()
                if r0 > edge_ns + measured - self.early_ns:
                    self.stale += 1               # its successor has ended too: see below
                    done = None
                else:
                    j = self.inputs[(c + 2) % self.n_inputs]     # the input of conversion c + 2's slot
                    try:
                        try:
                            raw = exchange[j]()
                        except OSError as e:      # retried as every transaction is
                            self.on_error(self, e)
                            raw = self._xfer(exchange[j], retries=RETRIES - 1)
                        r1 = time.monotonic_ns()
                        done = (r0, r1, raw[0] << 8 | raw[1], r0, r1, j)
                    except OSError:
                        self.lost = True          # maintain() sets it up again when it answers
                        done = None
                self.log.append((self.generation, c, edge_ns, measured, done))
                self.latency_ns.append(now_ns - edge_ns)      # _after_edge, written out
                self.alert_silent = False
                if gap_ns:
                    self._measure(gap_ns)
                return
            if time.monotonic_ns() > edge_ns + measured - self.early_ns:
                # the next conversion has ended too (this callback came late, its successor is
                # queued behind it): a read now would not return this one's result, and the
                # next callback reads the newer one; skip, so that a backlog clears at once
                self.stale += 1
                self.log.append((self.generation, c, edge_ns, measured, None))
                self._after_edge(edge_ns, now_ns, gap_ns)
                return
            j = self.inputs[(c + 2) % self.n_inputs]     # the input of conversion c + 2's slot
            clock = time.monotonic_ns
            i2c = self.i2c
            while not i2c.try_lock():             # the sampler may be probing another chip:
                time.sleep(LOCK_WAIT_S)           # a real sleep, or (real-time, on one core) it
                                                  # would never get the core to let go
            done = None
            try:
                if cpu is not None:
                    cpu.checkpoint()              # an emulated board: its slower Python first
                # straight to busio, the bus taken once for both: the library's register
                # helpers would take and release it for each (and build the buffers) each time
                addr, buf = self.address, self._buf
                r0 = clock()
                self._xfer(i2c.writeto_then_readfrom, addr, POINTER_CONVERSION, buf)
                r1 = w0 = clock()
                self._xfer(i2c.writeto, addr, self._config_bytes[j])
                w1 = clock()
                done = (r0, r1, buf[0] << 8 | buf[1], w0, w1, j)
            except OSError:
                self.lost = True                  # maintain() sets it up again when it answers
            finally:
                i2c.unlock()
            # what the transactions did is settled later, by drain() on the consumer's thread,
            # once the edge after them is known: nothing here that can wait
            self.log.append((self.generation, c, edge_ns, measured, done))
            self._after_edge(edge_ns, now_ns, gap_ns)
            if cpu is not None:
                cpu.checkpoint()

    def _after_edge(self, edge_ns: int, now_ns: int, gap_ns: int) -> None:
        """What an edge tells once its transfer is made: the latency seen, that pulses reach
        us, and the chip's period (``gap_ns``: from the edge before, 0 when not the next)."""
        self.latency_ns.append(now_ns - edge_ns)
        self.alert_silent = False
        if gap_ns:
            self._measure(gap_ns)

    def drain(self, cycles: list, most: int = DRAIN_SLICE) -> bool:
        """Settle up to ``most`` of the edges handled so far (each once the edge after it is
        known), and append each cycle this completes to ``cycles`` as (stream, start ns,
        values). True if more are waiting. The consumer's thread only."""
        log = self.log
        last = self._last
        n = 0
        while log and n < most:
            n += 1
            rec = log.popleft()
            if rec[0] != self._gen_settled:       # the chip was set up again: start over
                self._restart_settling(rec[0])
                last = None
            if last is not None and last[4] is not None:
                # the edge after the last record's conversion: this one, or (pulses unseen) estimated
                t_next = rec[2] if rec[1] == last[1] + 1 else last[2] + last[3]
                self._settle(last[1], last[3], last[4], t_next, cycles)
            last = rec
        self._last = last
        return bool(log)

    def _settle(self, c: int, period_ns: float, done, t_next: float, cycles: list) -> None:
        """A callback's read and write at conversion ``c`` (``done``: their times, the raw
        result and the input written), now that the edge after that conversion is known."""
        r0, r1, raw, w0, w1, j = done
        before, events = t_next - self.early_ns, self.events
        if r1 < before and w1 < before:
            # the usual case, both done before the next edge (and so begun after this
            # conversion's edge): the read returned conversion c, the write applies from c + 2
            events.append((c + 2, j))
            if len(events) > 16:
                del events[:-8]
            self._result(c, self._input_of(c), raw, int(t_next - 2 * period_ns), cycles)
            return
        mw = self._after(w0, w1, t_next, period_ns)
        if mw is None:                            # across an edge: that conversion's input unknown
            m = self._edges_before(w0, t_next, period_ns)
            self.events += [(c + m + 2, None), (c + m + 3, j)]
            self.resyncs += 1
        else:
            self.events.append((c + mw + 2, j))
        if len(self.events) > 16:
            del self.events[:-8]
        mr = self._after(r0, r1, t_next, period_ns)
        if mr is None:                            # which conversion it returned is unknown
            self.dropped += self.filled + 1
            self.filled, self.broken = 0, True
            return
        rc = c + mr                               # the conversion whose result was read
        label = self._input_of(rc)
        start_ns = int(t_next + (mr - 2) * period_ns)
        self._result(rc, label, raw, start_ns, cycles)

    def _result(self, rc: int, label, raw, start_ns: int, cycles: list) -> None:
        """The result of conversion ``rc``, of known (or unknown: None) input, into its cycle.

        Cycles sit on a fixed grid of conversions: conversion ``rc`` is slot ``rc % n`` of cycle
        ``rc // n`` (n inputs), and each callback writes the input of the slot two conversions
        ahead. A conversion lost or of the wrong input (a write that landed late repeats the
        input before it) costs its own cycle, and the next cycle starts where it always would:
        the frames stay on the chip's grid, one conversion period apart in time, never shifted."""
        if rc <= self.last_rc:
            return                                # read again (a late read caught this one already)
        self.last_rc = rc
        n = self.n_inputs
        cycle, slot = rc // n, rc % n
        if cycle != self.cycle_no:                # a new cycle: what the last one had is not a frame
            self.dropped += self.filled
            self.cycle_no, self.filled, self.broken = cycle, 0, False
        if self.broken or slot != self.filled or label != self.inputs[slot]:
            self.dropped += self.filled + 1
            self.filled, self.broken = 0, True
            return
        if slot == 0:
            self.first_ns = start_ns
            self.cycle = []
        self.cycle.append(raw - ((raw & 0x8000) << 1))   # the register's signed 16-bit value
        self.conversions += 1
        self.filled += 1
        if self.filled == n:
            self.filled = 0
            cycles.append((self, self.first_ns, self.cycle))

    def _measure(self, gap_ns: int) -> None:
        """The chip's real conversion period, from its edge times (its oscillator is within
        ±10 %), to place transactions between edges that were not seen."""
        if not 0.85 * self.period_ns < gap_ns < 1.15 * self.period_ns:
            return
        self._gaps += 1
        if self._gaps < PERIOD_GAPS:
            self._sum += gap_ns
        elif self._gaps == PERIOD_GAPS:
            self.measured_ns = (self._sum + gap_ns) / PERIOD_GAPS
        else:
            self.measured_ns += (gap_ns - self.measured_ns) / 64

    # -- health -------------------------------------------------------------------------------------
    def silent(self, now_ns: int) -> bool:
        return now_ns - self.last_edge_ns > SILENT_PERIODS * self.period_ns

    def converting(self) -> bool:
        """Whether the chip still holds our continuous-mode set-up (its config register, input
        aside): it is converting and pulsing, whatever reached us. One read; raises OSError if
        the chip does not answer. A chip that lost power reads its power-on config (0x8583,
        single-shot, comparator off)."""
        mux = 7 << self.lib._ADS1X15_CONFIG_MUX_OFFSET
        word = self._xfer(self.ads._read_register, 1)
        return word & ~(mux | self.lib._ADS1X15_CONFIG_OS_SINGLE) == self._config(0) & ~mux

    def maintain(self, now_ns: int) -> None:
        """Set a lost or silent chip up again (at most every ``PROBE_S``). A silent chip that
        still holds our set-up is left alone: its pulses stopped reaching us (this thread held
        up, as by a garbage collection or a busy core, or a loose ALERT/RDY wire), and setting
        it up again would only restart its numbering and cost frames (``alert_silent``)."""
        if not (self.lost or self.silent(now_ns)) or now_ns - self.last_probe_ns < PROBE_S * 1e9:
            return
        with self.lock:
            try:
                if not self.lost:
                    self.last_probe_ns = time.monotonic_ns()
                    if self.converting():
                        self.alert_silent = self.silent(time.monotonic_ns())
                        return
                self.setup()
            except OSError:
                self.lost = True


#: one record, as the reading thread ships it to the settler: stream index, generation,
#: conversion, edge ns, period ns, whether a transfer was made, read start and end ns, raw
#: result, write start and end ns, input written
_RECORD = struct.Struct("<BIqqd?qqHqqB")


class SettleStream(ChipStream):
    """The settling half of a chip's stream, in the settler process: its records come from the
    reading thread (:data:`_RECORD`), and :meth:`ChipStream.drain` settles them as it would
    there. ``spec``: (name, inputs, cols, nominal period ns, early_ns)."""

    def __init__(self, name, inputs, cols, period_ns, early_ns):      # noqa: D107 (no ChipStream set-up: no chip here)
        self.name, self.inputs, self.cols = name, list(inputs), list(cols)
        self.n_inputs = len(self.inputs)
        self.period_ns, self.measured_ns = int(period_ns), float(period_ns)
        self.early_ns = early_ns
        self.lost, self.conv = False, None
        self.log = deque()
        self.resyncs = self.dropped = self.conversions = 0
        self.cycle, self.first_ns = [], 0
        self._restart_settling(-1)

    def take_record(self, rec: tuple) -> None:
        _, gen, c, edge_ns, measured, made, r0, r1, raw, w0, w1, j = rec
        self.conv, self.measured_ns = c, measured
        self.log.append((gen, c, edge_ns, measured, (r0, r1, raw, w0, w1, j) if made else None))


def _pack_records(streams) -> bytes:
    """Every record waiting in ``streams``' logs, taken out and packed for the settler."""
    pack, parts = _RECORD.pack, []
    for i, st in enumerate(streams):
        log = st.log
        while log:
            gen, c, edge_ns, measured, done = log.popleft()
            if done is None:
                parts.append(pack(i, gen, c, edge_ns, measured, False, 0, 0, 0, 0, 0, 0))
            else:
                parts.append(pack(i, gen, c, edge_ns, measured, True, *done))
    return b"".join(parts)


def settler_main(records, results, specs, n_columns: int, python_factor: float | None, path: list) -> None:
    """The settler process: it reads the reading thread's records (raw, :data:`_RECORD`) from
    ``records``, settles and pairs them, and sends each batch's frames with the counts so far
    to ``results`` as ("frames", [(stamp ns, row)], stats). It ends when the records' pipe
    closes. On an emulated board its Python is made as slow as the board's (``python_factor``)."""
    ignore_stop_signals()              # the parent decides when it ends (pi.realtime)
    for p in reversed(path):
        if p not in sys.path:
            sys.path.insert(0, p)
    cpu = None
    if python_factor and python_factor > 1.0:
        from pi.emulator.boards import SlowPython
        cpu = SlowPython(python_factor)
    streams = [SettleStream(*spec) for spec in specs]
    pairs = Pairing()
    pairs._init_pairing(streams, n_columns)
    fd, size, tail = records.fileno(), _RECORD.size, b""
    pending: list = []
    sent = 0.0
    results.send(("ready",))
    if cpu is not None:
        cpu.begin()
    try:
        while True:
            if not select.select([fd], [], [], 0.5)[0]:
                continue
            data = os.read(fd, 1 << 16)
            if not data:
                break                                       # the reader closed its end
            if cpu is not None:
                cpu.begin()                                 # (the waiting was nobody's)
            data = tail + data
            whole = len(data) - len(data) % size
            tail = data[whole:]
            for rec in _RECORD.iter_unpack(data[:whole]):
                streams[rec[0]].take_record(rec)
            cycles: list = []
            for st in streams:
                st.drain(cycles, len(st.log))
            cycles.sort(key=lambda e: e[1])                 # in time order across the chips
            frames: list = []
            for st, first_ns, values in cycles:
                pairs._pair(st, first_ns, values, frames)
            pending += frames
            now = time.monotonic()
            if pending and now - sent >= SETTLER_SEND_S:
                # one message every SETTLER_SEND_S, not one per batch: each wakes the sampler's
                # consumer, which then holds the reading thread's interpreter for a while
                stats = ([(st.dropped, st.resyncs, st.conversions) for st in streams], pairs.unpaired,
                         [pairs.lead_ns.get(st) for st in streams],
                         cpu.board_cpu_s() if cpu is not None else time.process_time())
                results.send(("frames", pending, stats))
                pending, sent = [], now
            if cpu is not None:
                cpu.checkpoint()
    except (EOFError, OSError, BrokenPipeError):
        pass


class Pairing:
    """Chips' cycles paired into frames by time (see the module docstring): ``streams``, each
    with ``cols``, ``lost``, ``conv`` and ``measured_ns``. A base of :class:`ReadyReader`, and
    of the settler process's (:func:`settler_main`)."""

    def _init_pairing(self, streams, n_columns: int) -> None:
        self.streams, self.n_columns = streams, n_columns
        self.unpaired = 0              # cycles dropped for want of the other chips' (counted, not framed)
        self._lock = threading.Lock()
        self._pending: dict = {s: deque() for s in streams}
        self._ref = None               # see _reference
        #: where each chip's cycles start against the frames' stamps, ns (a running mean): its
        #: phase against the stamping chip, constant while their rates agree
        self.lead_ns: dict = {}
        self.tolerance_ns = max(s.period_ns * len(s.inputs) for s in streams) // 2
        # cycles kept waiting: enough to see ABSENT_NS of them, however short a chip's cycle
        fastest = min(s.period_ns * len(s.inputs) for s in streams)
        self.max_pending = max(MAX_PENDING, -(-(ABSENT_NS + self.tolerance_ns) // fastest) + 4)

    def _pair(self, stream: ChipStream, first_ns: int, values: list, frames: list) -> None:
        """One chip's cycle in; the frames it completes out (appended to ``frames``)."""
        with self._lock:
            pend = self._pending
            pend[stream].append((first_ns, values))
            while len(pend[stream]) > self.max_pending:     # the other chips are not delivering
                pend[stream].popleft()
                self.unpaired += 1
            while all(pend[s] for s in self.streams):
                heads = [pend[s][0][0] for s in self.streams]
                latest = max(heads)
                stale = [s for s, t in zip(self.streams, heads) if latest - t > self.tolerance_ns]
                if stale:                              # no partner for these: drop, pair the rest
                    for s in stale:
                        pend[s].popleft()
                        self.unpaired += 1
                    continue
                row = [0] * self.n_columns
                for s in self.streams:
                    for col, v in zip(s.cols, pend[s].popleft()[1]):
                        row[col] = v
                ref = self._reference()
                stamp = heads[self.streams.index(ref)] if ref is not None else min(heads)
                for s, head in zip(self.streams, heads):     # each chip's cycle start, from the stamp
                    lead = self.lead_ns.get(s)
                    self.lead_ns[s] = head - stamp if lead is None else lead + (head - stamp - lead) / 16
                frames.append((stamp, row))
            self._pair_without_absent(frames)

    def _pair_without_absent(self, frames: list) -> None:
        """Frames of the chips delivering, while another has delivered nothing for
        :data:`ABSENT_NS` of their cycles (not answering, or its ALERT/RDY line silent): its
        columns are None (not sampled), its foot has a gap, the other foot is whole."""
        pend = self._pending
        while True:
            present = [s for s in self.streams if pend[s]]
            if not present or len(present) == len(self.streams):
                return
            heads = [pend[s][0][0] for s in present]
            if max(pend[s][-1][0] for s in present) - min(heads) < ABSENT_NS:
                return
            latest = max(heads)
            stale = [s for s, t in zip(present, heads) if latest - t > self.tolerance_ns]
            if stale:
                for s in stale:
                    pend[s].popleft()
                    self.unpaired += 1
                continue
            row = [None] * self.n_columns
            for st in present:
                for col, v in zip(st.cols, pend[st].popleft()[1]):
                    row[col] = v
            # on the frames' grid: each chip's cycle starts its lead after the stamp
            ref = self._ref if self._ref in present else present[0]
            stamp = heads[present.index(ref)] - int(self.lead_ns.get(ref, 0.0))
            frames.append((stamp, row))

    def _reference(self) -> ChipStream | None:
        """The chip whose cycles stamp the frames: the slowest one running. Chips' oscillators
        differ (±10 % on a real part), so the frames come at the slowest chip's pace; stamped
        on its grid they are evenly spaced, and a faster chip's spare cycle is left out now
        and then without a gap in the frames. A chip slower by ``REF_SWITCH`` takes over (not
        less: two chips of one rate would take turns on noise, and each turn would move the
        stamps by the chips' phase difference)."""
        live = [s for s in self.streams if not s.lost and s.conv is not None]
        ref = self._ref
        if live:
            slowest = max(live, key=lambda s: s.measured_ns)
            if ref not in live or slowest.measured_ns > ref.measured_ns * (1 + REF_SWITCH):
                self._ref = ref = slowest
        return ref


class ReadyReader(Pairing):
    """All chips in continuous mode; :meth:`take` gives the complete frames as (stamp ns, row)."""

    def __init__(self, streams_spec, n_columns: int, alert_pins, pin_factory=None, lines=None,
                 cpu_model=None):
        self._take_lock = threading.Lock()     # one consumer at a time settles and pairs
        self.bus_errors = 0
        self.alert_pins = list(alert_pins)
        #: edges from the kernel's GPIO character device: ``lines(pins)`` requests them (a gpiod
        #: LineRequest, or an emulated one); None: gpiozero edge callbacks on ``pin_factory``
        self._open_lines = lines
        self.request = None
        self.requests: list = []
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self.cpu_model = cpu_model
        self.events_promoted: bool | None = None
        if lines is None:
            from gpiozero import InputDevice
            self.devices = [InputDevice(pin, pull_up=True, pin_factory=pin_factory) for pin in alert_pins]
            factories = [dev.pin_factory for dev in self.devices]
        else:
            self.devices, factories = [], [None] * len(self.alert_pins)
        self._init_pairing([ChipStream(*spec, factory=f, on_error=self._error,
                                       numbering=self._numbering, cpu_model=cpu_model)
                            for spec, f in zip(streams_spec, factories)], n_columns)
        #: the settler process, where the records are settled and paired (character device only)
        self._settler = None

    @property
    def edges_from(self) -> str:
        """Where the pulses come from, for the session's record."""
        if self._open_lines is not None:
            return "the kernel's GPIO character device (gpiod), read by the sampler's own thread"
        factory = type(self.devices[0].pin_factory).__name__ if self.devices else "?"
        return f"gpiozero edge callbacks ({factory})"

    def start(self) -> None:
        """Set every chip up, then listen to its pulses. Raises OSError if one does not answer."""
        if self._open_lines is not None:
            # the lines first: a pulse before the request would be an edge nobody saw
            self.request = self._open_lines(self.alert_pins)
            self.requests = [self.request]
            self._start_settler()         # before the chips: it takes a while to start
        for s in self.streams:
            s.setup()
        if self.request is not None:
            # one thread for every chip: two would take turns at the interpreter, and a pulse
            # would wait for the other chip's Python (measured: more than half the frames lost;
            # so did a second thread making the transfers: the hand-over costs more than it saves)
            self._threads.append(threading.Thread(target=self._read_events, name="insole-edges", daemon=True))
            for t in self._threads:
                t.start()
            return
        for s, dev in zip(self.streams, self.devices):
            dev.pin.edges = "falling"             # ALERT/RDY is active low (open drain, pulled up)
            dev.pin.when_changed = s.on_edge      # gpiozero keeps a weak reference: streams hold it

    def _read_events(self) -> None:
        """The character-device reader: this thread, under SCHED_FIFO where allowed, waits on
        the line request and hands each falling edge, with the kernel's timestamp, to its chip,
        in time order. No pin library in between: an edge reaches it one kernel wake-up after it
        happened (lgpio's callbacks hold each for 0.5 ms or more)."""
        self.events_promoted = promoted = promote()
        for s in self.streams:
            s.promoted = promoted
        req, cpu = self.request, self.cpu_model
        by_line = {pin: s.edge for pin, s in zip(self.alert_pins, self.streams)}   # stamped by the kernel on CLOCK_MONOTONIC, monotonic_ns's clock
        clock = time.monotonic_ns
        wait, read = req.wait_edge_events, req.read_edge_events
        if cpu is not None:
            cpu.begin()         # from here on, what is not the emulator's waiting is ours
        try:
            while not self._stopping:
                if not wait(EVENT_WAIT_S):
                    continue
                for ev in read():
                    try:
                        by_line[ev.line_offset](ev.timestamp_ns, clock())
                    except Exception as e:    # one event's trouble must not end the reading
                        self.event_errors += 1
                        self.error = e
                try:
                    shipped = self._ship_quietly()
                except Exception as e:        # shipping's trouble must not end the reading
                    self.event_errors += 1
                    self.error = e
                    shipped = False
                if cpu is not None and not shipped:
                    cpu.checkpoint()          # (shipping ends with one of its own)
        except Exception as e:          # the request released under it (close), or a kernel error
            if not self._stopping:
                self.error = e
                self.died = True        # maintain() says so: frames would stop without a word

    event_errors = 0
    died = False

    # -- the settler process (the character device's reader) ----------------------------------------
    def _start_settler(self) -> None:
        """Start the settler process (:func:`settler_main`). Raises OSError if it does not start."""
        import multiprocessing as mp
        ctx = mp.get_context("spawn")
        rec_read, rec_write = ctx.Pipe(duplex=False)
        res_read, res_write = ctx.Pipe(duplex=False)
        specs = [(st.name, st.inputs, st.cols, st.period_ns, st.early_ns) for st in self.streams]
        k = self.cpu_model.k if self.cpu_model is not None else None
        proc = ctx.Process(target=settler_main, name="insole-settler", daemon=True,
                           args=(rec_read, res_write, specs, self.n_columns, k, list(sys.path)))
        proc.start()
        rec_read.close()
        res_write.close()
        if not res_read.poll(SETTLER_START_S) or res_read.recv()[0] != "ready":
            proc.kill()            # it ignores SIGTERM (ignore_stop_signals)
            raise OSError(f"the settler process did not start within {SETTLER_START_S:g} s")
        os.set_blocking(rec_write.fileno(), False)   # the reading thread never waits for it
        self._settler, self._records, self._results = proc, rec_write, res_read
        self._unsent = b""

    def _ship_quietly(self) -> bool:
        """In the reading thread, once ``SHIP_BATCH`` records wait: pack them and write them to
        the settler (one write; what the pipe cannot take now waits, up to ``MAX_UNSENT``
        bytes, beyond which the oldest are dropped and counted). True if it ran (and made its
        checkpoint)."""
        streams = self.streams
        if sum(len(st.log) for st in streams) < SHIP_BATCH:
            return False
        data = self._unsent + _pack_records(streams)
        try:
            n = os.write(self._records.fileno(), data)
        except BlockingIOError:
            n = 0
        except OSError:                       # the settler has gone: maintain() says so
            n = len(data)
        data = data[n:]
        if len(data) > MAX_UNSENT:
            cut = len(data) - MAX_UNSENT
            cut += -cut % _RECORD.size
            self.unshipped += cut // _RECORD.size
            data = data[cut:]
        self._unsent = data
        if self.cpu_model is not None:
            self.cpu_model.checkpoint()       # an emulated board: its slower Python
        return True

    unshipped = 0            # records dropped because the settler did not take them

    def _take_settled(self, timeout_s: float) -> list:
        """:meth:`take` with a settler: the frames it has sent, waiting up to ``timeout_s``."""
        frames: list = []
        conn = self._results
        fd = conn.fileno()
        end = time.monotonic() + timeout_s
        try:
            # select, not conn.poll: no Python of multiprocessing's (selectors) while waiting
            while select.select([fd], [], [], max(end - time.monotonic(), 0.0))[0]:
                while True:
                    msg = conn.recv()
                    if msg[0] == "frames":
                        frames += msg[1]
                        self._settler_stats(msg[2])
                    if not conn.poll(0):
                        break
                if frames:
                    break
        except (EOFError, OSError):
            pass                               # the settler has gone: maintain() says so
        return frames

    settled_apart = 0        # records settled by the settler process

    #: the settler process's CPU so far, s (on an emulated board: as the board would spend it)
    settler_cpu_s = 0.0

    def _settler_stats(self, stats) -> None:
        per_stream, unpaired, leads, self.settler_cpu_s = stats
        total = 0
        for st, (dropped, resyncs, conversions), lead in zip(self.streams, per_stream, leads):
            st.dropped, st.resyncs, st.conversions = dropped, resyncs, conversions
            total += conversions
            if lead is not None:
                self.lead_ns[st] = lead
        self.unpaired = unpaired
        self.settled_apart = total

    def _stop_settler(self) -> None:
        proc = self._settler
        if proc is None:
            return
        try:
            self._records.close()             # its end of the records: it ends
        except OSError:
            pass
        proc.join(2.0)
        if proc.is_alive():
            proc.kill()            # it ignores SIGTERM (ignore_stop_signals)
            proc.join(1.0)
        try:
            self._results.close()
        except OSError:
            pass

    def reader_cpu_s(self) -> float:
        """CPU seconds of the character-device reader so far (its thread's own clock)."""
        total = 0
        for t in self._threads:
            if t.is_alive():
                try:
                    total += int(time.clock_gettime(time.pthread_getcpuclockid(t.ident)) * 1e9)
                except (OSError, AttributeError, TypeError):
                    pass
        return total / 1e9

    def _release_lines(self) -> None:
        for req in getattr(self, "requests", []):
            try:
                req.release()
            except Exception:
                pass

    error: BaseException | None = None

    def _numbering(self, stream: ChipStream, edge_ns: int) -> int:
        """The number for a chip's first conversion after a (re)start, ending at ``edge_ns``:
        the number another running chip's conversion ending nearest then has. The chips run at
        one data rate, so their grids of cycles then line up (within a conversion) and their
        cycles pair at once; numbered from 0 instead, a chip that came back after a fault could
        sit half a cycle off the others, where pairing is a toss-up every frame."""
        for other in self.streams:
            conv, last, period = other.conv, other.last_edge_ns, other.measured_ns
            if other is not stream and conv is not None and not other.lost:
                return conv + round((edge_ns - last) / period)
        return 0

    def maintain(self) -> list[str]:
        """Probe chips that are lost or silent; returns the names of those still missing.
        Raises BusError when the thread reading the pulses has ended (a kernel error)."""
        if self.died:
            from analysis.errors import BusError
            raise BusError(f"the thread reading the ALERT/RDY pulses stopped "
                           f"({type(self.error).__name__}: {self.error})")
        if self._settler is not None and not self._settler.is_alive() and not self._stopping:
            from analysis.errors import BusError
            raise BusError(f"the process settling the chips' results ended (exit code {self._settler.exitcode})")
        now = time.monotonic_ns()
        for s in self.streams:
            s.maintain(now)
        return [s.name for s in self.streams if s.lost or s.silent(now)]

    def missing_reasons(self) -> dict[str, str]:
        """Why each missing chip is missing, in words that send the user to the right wire."""
        now = time.monotonic_ns()
        out = {}
        for s in self.streams:
            if s.lost:
                out[s.name] = f"chip {s.name} not answering (its power, SDA/SCL or address)"
            elif s.silent(now) and s.alert_silent:
                out[s.name] = (f"chip {s.name}'s ALERT/RDY line silent while the chip answers and converts "
                               "(that wire or its pull-up)")
        return out

    def _error(self, stream: ChipStream, e: OSError) -> None:
        with self._lock:
            self.bus_errors += 1

    def take(self, timeout_s: float) -> list[tuple[int, list]]:
        """The frames completed so far, as (stamp ns, row of values in column order), waiting up
        to ``timeout_s`` for the first (looking every ``TAKE_POLL_S``); [] if none came. The
        chips' records are settled here, on the caller's thread, not the reading one's."""
        if self._settler is not None:
            return self._take_settled(timeout_s)
        frames: list = []
        end = time.monotonic() + timeout_s
        while True:
            cycles: list = []
            with self._take_lock:
                for s in self.streams:
                    while s.drain(cycles):
                        # let go of the interpreter between slices: gpiozero's thread may be
                        # waiting for it with a pulse to answer within the conversion
                        time.sleep(0)
                cycles.sort(key=lambda e: e[1])       # in time order across the chips
                for stream, first_ns, values in cycles:
                    self._pair(stream, first_ns, values, frames)
            left = end - time.monotonic()
            if frames or left <= 0:
                return frames
            time.sleep(min(TAKE_POLL_S, left))

    def close(self) -> None:
        self._stopping = True
        self._release_lines()
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(2 * EVENT_WAIT_S + 1.0)
        self._stop_settler()
        for s, d in zip(self.streams, self.devices):
            try:
                d.pin.when_changed = None
                d.close()
            except Exception:
                pass
