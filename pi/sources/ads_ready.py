"""Continuous conversion paced by ALERT/RDY: each chip converting back to back at its data rate,
one input switch per conversion, the frame rate set by the chips (4 inputs at 860 SPS: 215
frames/s, the chip limit).

How one chip is read (TI SBAS444, shared/notes/hardware.md): the chip runs in continuous mode
with the comparator set as conversion-ready (Hi_thresh MSB 1, Lo_thresh MSB 0, COMP_QUE one
conversion), so ALERT/RDY pulses low at the end of every conversion. A config write lets the
conversion in progress finish with the old input; the new one applies from the next conversion.
So on each pulse we read the result just finished and write the input for the conversion
*after next*: the labels run two conversions behind the writes, and a queue keeps them.

A pulse handled late (after the next conversion has already ended) would shift every label, so
each pulse's time is checked against the chip's period: a gap of 1.5 periods or more means a
conversion went unread. The chip is then re-synchronised (its input set again, the conversion in
progress discarded) and the frames lost are counted as skipped, never mislabelled.

Frames: each chip completes a *cycle* (all its inputs once); frame k is cycle k of every chip.
Chips run on their own oscillators, so one may get ahead: a chip more than ``MAX_AHEAD`` cycles
ahead drops its oldest cycle (counted as skipped).
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque

import numpy as np

MAX_AHEAD = 3
LATE_FACTOR = 1.5


class ChipStream:
    """One chip in continuous mode, read on its ALERT/RDY pulses."""

    def __init__(self, ads, lib, inputs: list[int], cols: list[int], on_cycle, on_error):
        self.ads, self.lib = ads, lib
        self.inputs, self.cols = inputs, cols
        self.on_cycle, self.on_error = on_cycle, on_error
        self.period_ns = int(1e9 / ads.data_rate)
        self.labels: deque[int] = deque()
        self.next_i = 0
        self.cycle = np.zeros(len(inputs), dtype=np.int64)
        self.filled = 0
        self.first_ns = 0
        self.last_edge_ns = 0
        self.resyncs = 0
        self.conversions = 0

    def _config(self, j: int) -> int:
        lib, ads = self.lib, self.ads
        return (((4 + j) << lib._ADS1X15_CONFIG_MUX_OFFSET) | lib._ADS1X15_CONFIG_GAIN[ads.gain]
                | lib.Mode.CONTINUOUS | ads.rate_config[ads.data_rate]
                | lib._ADS1X15_CONFIG_COMP_QUEUE[1])          # ALERT/RDY after every conversion

    def _schedule(self) -> None:
        """Write the next input; it applies from the conversion after the one in progress."""
        j = self.inputs[self.next_i % len(self.inputs)]
        self.next_i += 1
        self.ads._write_register(1, self._config(j))
        self.labels.append(j)

    def start(self) -> None:
        self.ads._write_register(2, 0x0000)      # Lo_thresh MSB 0 } ALERT/RDY as
        self.ads._write_register(3, 0x8000)      # Hi_thresh MSB 1 } conversion-ready
        self.resync()

    def resync(self) -> None:
        """Labels from scratch: the conversion in progress (if any) has an unknown input (None:
        its result is dropped); the next one gets the first input. If the chip was powered down
        the write starts that conversion at once, and dropping its result costs one period."""
        self.labels.clear()
        self.labels.append(None)
        self.next_i = 0
        self.filled = 0
        self._schedule()
        self.last_edge_ns = time.monotonic_ns()

    def on_ready(self) -> None:
        """ALERT/RDY pulse: a conversion has just finished; the next is already running with
        the input at ``labels[1]``."""
        now = time.monotonic_ns()
        try:
            late = self.conversions and now - self.last_edge_ns >= LATE_FACTOR * self.period_ns
            self.last_edge_ns = now
            if late:                         # a conversion went unread: labels no longer known
                self.resyncs += 1
                self.resync()
                return
            raw = self.ads._read_register(0)
            label = self.labels.popleft()
            self._schedule()
            if label is None:
                return
            self.conversions += 1
            slot = self.inputs.index(label)
            if slot != self.filled:          # out of step: cannot happen unless pulses were lost
                self.resyncs += 1
                self.resync()
                return
            if self.filled == 0:
                self.first_ns = now - self.period_ns
            self.cycle[slot] = self.ads._conversion_value(raw)
            self.filled += 1
            if self.filled == len(self.inputs):
                self.filled = 0
                self.on_cycle(self, self.first_ns, self.cycle.copy())
        except OSError as e:
            self.on_error(e)
            try:
                self.resync()
            except OSError:
                pass


class ReadyReader:
    """All chips in continuous mode; complete frames appear in ``frames`` as (stamp_ns, row)."""

    def __init__(self, streams_spec, n_columns: int, alert_pins, pin_factory=None):
        from gpiozero import DigitalInputDevice

        self.frames: queue.SimpleQueue = queue.SimpleQueue()
        self.n_columns = n_columns
        self.skipped = 0
        self.bus_errors = 0
        self._lock = threading.Lock()
        self.streams = [ChipStream(*spec, on_cycle=self._cycle, on_error=self._error) for spec in streams_spec]
        self._pending: dict[ChipStream, deque] = {s: deque() for s in self.streams}
        self.devices = []
        for stream, pin in zip(self.streams, alert_pins):
            dev = DigitalInputDevice(pin, pull_up=True, pin_factory=pin_factory)   # open drain, active low
            dev.when_activated = stream.on_ready
            self.devices.append(dev)

    def start(self) -> None:
        for s in self.streams:
            s.start()

    def _error(self, e: OSError) -> None:
        with self._lock:
            self.bus_errors += 1

    def _cycle(self, stream: ChipStream, first_ns: int, values: np.ndarray) -> None:
        with self._lock:
            pend = self._pending[stream]
            pend.append((first_ns, values))
            if len(pend) > MAX_AHEAD:
                pend.popleft()
                self.skipped += 1
            if all(self._pending[s] for s in self.streams):
                row = np.zeros(self.n_columns, dtype=np.int64)
                stamp = None
                for s in self.streams:
                    t, v = self._pending[s].popleft()
                    row[s.cols] = v
                    stamp = t if stamp is None else min(stamp, t)
                self.frames.put((stamp, row))

    def close(self) -> None:
        for d in self.devices:
            try:
                d.close()
            except Exception:
                pass
