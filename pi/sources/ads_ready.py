"""Continuous conversion paced by ALERT/RDY: each chip converting back to back at its data rate,
one input switch per conversion, the frame rate set by the chips (4 inputs at 860 SPS: 215
frames/s, the chip limit).

How one chip is read (TI SBAS444, shared/notes/hardware.md): the chip runs in continuous mode
with the comparator set as conversion-ready (Hi_thresh MSB 1, Lo_thresh MSB 0, COMP_QUE one
conversion), so ALERT/RDY pulses low at the end of every conversion. A config write lets the
conversion in progress finish with the old input; the new one applies from the next conversion.
So on each pulse we read the result just finished and write the input for the conversion
*after next*: the labels run two conversions behind the writes, and a queue keeps them.

That bookkeeping holds only if the read and the write both happen before the *next* conversion
ends. Each pulse's edge time (gpiozero's ``ticks``: the kernel's timestamp with lgpio) is
therefore checked twice: the gap since the previous edge (1.5 periods or more: a pulse went
unseen) and the age of the edge once the write is done (more than ``WINDOW`` of a period: the
write may have missed its conversion). Either way the labels are no longer known, the values in
hand are dropped, and the chip is re-synchronised on the next pulse handled in time (the
conversion then under way is discarded). A sample is lost, never mislabelled. The window keeps a
quarter of a period in hand for an oscillator up to 10 % fast and timing jitter.

A transaction that fails is retried at once (still inside the window, mostly); a chip that keeps
failing is marked *lost*: its pulses are ignored, and :meth:`ReadyReader.maintain` (called by
the sampler, never on the GPIO thread) sets it up again every ``PROBE_S`` until it answers. A
chip whose pulses stop (a power cut, a loose ALERT wire) is probed the same way; one that lost
power comes back in single-shot mode and needs the set-up written again.

Frames: each chip completes *cycles* (all its inputs once), stamped with the start of their
first conversion. Chips run on their own oscillators, so cycles of different chips are paired by
time: a cycle with no partner within half a cycle is dropped. The frame's stamp is the earliest
of its cycles; each input's offset within the frame is recorded by the source.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque

import numpy as np

LATE_FACTOR = 1.5        # an edge this many periods after the previous one: a pulse went unseen
WINDOW = 0.75            # read + write done within this share of a period from the edge
RETRIES = 2              # a failed transaction is tried this many times more, at once
SILENT_PERIODS = 50      # no pulse for this many periods: the chip is silent, probe it
PROBE_S = 0.25           # a lost or silent chip is set up again this often
MAX_PENDING = 8          # cycles kept waiting for the other chips' (a chip gone: the oldest go)


class ChipStream:
    """One chip in continuous mode, read on its ALERT/RDY pulses (edge callbacks)."""

    def __init__(self, ads, lib, inputs: list[int], cols: list[int], name: str, factory,
                 on_cycle, on_error):
        self.ads, self.lib, self.name, self.factory = ads, lib, name, factory
        self.inputs, self.cols = inputs, cols
        self.on_cycle, self.on_error = on_cycle, on_error
        self.period_ns = int(1e9 / ads.data_rate)
        self.window_s = WINDOW * self.period_ns / 1e9
        self.lock = threading.Lock()
        self.synced = False
        self.lost = False
        self.labels: deque[int | None] = deque()
        self.next_i = 0
        self.cycle = np.zeros(len(inputs), dtype=np.int64)
        self.filled = 0
        self.first_ns = 0
        self.last_edge_ns = 0          # monotonic ns of the last edge handled
        self.last_probe_ns = 0
        self.conversions = 0           # results stored
        self.resyncs = 0               # times the labels were lost and set up again
        self.dropped = 0               # conversions read but not kept (labels unknown)

    # -- transactions ---------------------------------------------------------------------------
    def _config(self, j: int) -> int:
        lib, ads = self.lib, self.ads
        return (((4 + j) << lib._ADS1X15_CONFIG_MUX_OFFSET) | lib._ADS1X15_CONFIG_GAIN[ads.gain]
                | lib.Mode.CONTINUOUS | ads.rate_config[ads.data_rate]
                | lib._ADS1X15_CONFIG_COMP_QUEUE[1])          # ALERT/RDY after every conversion

    def _xfer(self, fn, *args):
        for attempt in range(RETRIES + 1):
            try:
                return fn(*args)
            except OSError as e:
                self.on_error(self, e)
                if attempt == RETRIES:
                    raise

    def setup(self) -> None:
        """Write the conversion-ready thresholds and start converting the first input. Raises
        OSError if the chip does not answer. Called with ``lock`` held (or before the pins)."""
        self.last_probe_ns = time.monotonic_ns()
        self._xfer(self.ads._write_register, 2, 0x0000)     # Lo_thresh MSB 0 } ALERT/RDY as
        self._xfer(self.ads._write_register, 3, 0x8000)     # Hi_thresh MSB 1 } conversion-ready
        self._xfer(self.ads._write_register, 1, self._config(self.inputs[0]))
        self.lost = False
        self._unsync()
        self.last_edge_ns = time.monotonic_ns()

    def _unsync(self) -> None:
        if self.synced:
            self.resyncs += 1
        self.synced = False
        self.filled = 0

    # -- the pulse --------------------------------------------------------------------------------
    def on_edge(self, ticks, state=None) -> None:
        """A falling edge of ALERT/RDY at ``ticks`` (the pin factory's clock): a conversion has
        just ended, and the next is under way with the input at ``labels[1]``."""
        f = self.factory
        age_s = f.ticks_diff(f.ticks(), ticks)
        edge_ns = time.monotonic_ns() - int(age_s * 1e9)
        with self.lock:
            if self.lost:
                return
            gap_ns = edge_ns - self.last_edge_ns
            self.last_edge_ns = edge_ns
            if self.synced and gap_ns >= LATE_FACTOR * self.period_ns:
                self._unsync()                    # a pulse went unseen
            try:
                raw = self._xfer(self.ads._read_register, 0)
                if self.synced:
                    j = self.inputs[self.next_i % len(self.inputs)]
                else:                             # start again: this write sets the conversion after next
                    j = self.inputs[0]
                self._xfer(self.ads._write_register, 1, self._config(j))
            except OSError:
                self.lost = True                  # maintain() sets it up again when it answers
                self._unsync()
                return
            if f.ticks_diff(f.ticks(), ticks) > self.window_s:
                self._unsync()                    # the write may have missed its conversion
                self.dropped += 1
                return
            if not self.synced:
                self.labels = deque([None, j])    # under way: unknown; after next: input j
                self.next_i = 1
                self.synced = True
                self.dropped += 1
                return
            label = self.labels.popleft()
            self.labels.append(j)
            self.next_i += 1
            if label is None:
                self.dropped += 1
                return
            slot = self.inputs.index(label)
            if slot != self.filled:               # cannot happen while in step; never guess
                self._unsync()
                self.dropped += 1
                return
            if slot == 0:
                self.first_ns = edge_ns - self.period_ns
            self.cycle[slot] = self.ads._conversion_value(raw)
            self.conversions += 1
            self.filled += 1
            if self.filled == len(self.inputs):
                self.filled = 0
                self.on_cycle(self, self.first_ns, self.cycle.copy())

    # -- health -------------------------------------------------------------------------------------
    def silent(self, now_ns: int) -> bool:
        return now_ns - self.last_edge_ns > SILENT_PERIODS * self.period_ns

    def maintain(self, now_ns: int) -> None:
        """Set a lost or silent chip up again (at most every ``PROBE_S``)."""
        if not (self.lost or self.silent(now_ns)) or now_ns - self.last_probe_ns < PROBE_S * 1e9:
            return
        with self.lock:
            try:
                self.setup()
            except OSError:
                self.lost = True


class ReadyReader:
    """All chips in continuous mode; complete frames appear in ``frames`` as (stamp_ns, row)."""

    def __init__(self, streams_spec, n_columns: int, alert_pins, pin_factory=None):
        from gpiozero import InputDevice

        self.frames: queue.SimpleQueue = queue.SimpleQueue()
        self.n_columns = n_columns
        self.unpaired = 0              # cycles dropped for want of the other chips' (counted, not framed)
        self.bus_errors = 0
        self._lock = threading.Lock()
        self.devices = [InputDevice(pin, pull_up=True, pin_factory=pin_factory) for pin in alert_pins]
        self.streams = [ChipStream(*spec, factory=dev.pin_factory, on_cycle=self._cycle, on_error=self._error)
                        for spec, dev in zip(streams_spec, self.devices)]
        self._pending: dict[ChipStream, deque] = {s: deque() for s in self.streams}
        self.tolerance_ns = max(s.period_ns * len(s.inputs) for s in self.streams) // 2

    def start(self) -> None:
        """Set every chip up, then listen to its pulses. Raises OSError if one does not answer."""
        for s in self.streams:
            s.setup()
        for s, dev in zip(self.streams, self.devices):
            dev.pin.edges = "falling"             # ALERT/RDY is active low (open drain, pulled up)
            dev.pin.when_changed = s.on_edge      # gpiozero keeps a weak reference: streams hold it

    def maintain(self) -> list[str]:
        """Probe chips that are lost or silent; returns the names of those still missing."""
        now = time.monotonic_ns()
        for s in self.streams:
            s.maintain(now)
        return [s.name for s in self.streams if s.lost or s.silent(now)]

    def _error(self, stream: ChipStream, e: OSError) -> None:
        with self._lock:
            self.bus_errors += 1

    def _cycle(self, stream: ChipStream, first_ns: int, values: np.ndarray) -> None:
        with self._lock:
            pend = self._pending
            pend[stream].append((first_ns, values))
            while len(pend[stream]) > MAX_PENDING:     # the other chips are not delivering
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
                row = np.zeros(self.n_columns, dtype=np.int64)
                for s in self.streams:
                    row[s.cols] = pend[s].popleft()[1]
                self.frames.put((min(heads), row))

    def close(self) -> None:
        for s, d in zip(self.streams, self.devices):
            try:
                d.pin.when_changed = None
                d.close()
            except Exception:
                pass
