"""The ALERT/RDY line of an emulated ADS1x15: the comparator logic and the thread driving the pin.

Conversion-ready mode (Hi_thresh MSB 1, Lo_thresh MSB 0, COMP_QUE ≠ 11; TI SBAS444 §9.3.8):
in continuous mode an ~8 µs pulse at the end of every conversion; in single-shot mode the line
deasserts when a conversion starts and asserts at its end, staying there. COMP_POL picks the
active level (0 = active low, the power-on default); COMP_QUE = 11 disables the comparator and
leaves the open-drain line to its pull-up (high).

Otherwise the comparator works on each result (signed 16-bit register values): traditional mode
asserts after 1/2/4 (COMP_QUE 00/01/10) successive results above Hi_thresh and deasserts below
Lo_thresh; window mode asserts outside [Lo_thresh, Hi_thresh]. With COMP_LAT = 1 an asserted
line stays until the conversion register is read.

The chip queues level changes with their chip time; :class:`AlertDriver` delivers them from a
thread of its own at (about) that time, so a gpiozero edge callback runs as it would on a Pi:
in a background thread, ~0.1 ms after the conversion ended (the thread's wake-up latency, more
on a loaded machine). The 8 µs pulse is delivered as two edges back to back (no sleep can be
that short). On a :class:`ChipAlertPin` each edge carries the time the chip changed the line,
as the kernel's GPIO event timestamp does on a Pi (lgpio), not the time the thread got to it.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Callable

from gpiozero.pins.mock import MockPin

PULSE_NS = 8_000            # width of the conversion-ready pulse in continuous mode
_DUE_NS = 50_000            # changes due this soon are delivered now: a sleep cannot be shorter
_IDLE_WAIT_S = 0.1          # re-check at least this often when nothing is scheduled


def _signed(word: int) -> int:
    return word - 0x10000 if word & 0x8000 else word


class ChipAlertPin(MockPin):
    """A gpiozero mock pin whose edges are stamped with the time the chip drove them.

    gpiozero hands a pin's ``when_changed`` callback the edge time ("ticks"); a plain MockPin
    stamps it when it is driven, which in an emulator can be long after the chip's edge on a
    busy machine. Create the pin with ``factory.pin(n, pin_class=ChipAlertPin)`` before anything
    else claims it (:func:`pi.emulator.build_bus` does).
    """

    _edge_s: float | None = None

    def drive_at(self, high: bool, t_s: float) -> None:
        """Drive the line to ``high`` as of ``t_s`` (MockFactory ticks: ``time.monotonic()``)."""
        self._edge_s = t_s
        try:
            self.drive_high() if high else self.drive_low()
        finally:
            self._edge_s = None

    def _change_state(self, value):
        changed = super()._change_state(value)
        if changed and self._edge_s is not None:
            self._last_change = self._edge_s        # what gpiozero passes on as the edge's ticks
        return changed


def level_setter(pin) -> Callable[[bool, int], None]:
    """A callable(high: bool, t_ns: int) driving ``pin``: a :class:`ChipAlertPin` (stamped with
    the chip's time ``t_ns``), another gpiozero MockPin (drive_high/drive_low), or a callable
    taking the level itself."""
    if isinstance(pin, ChipAlertPin):
        return lambda high, t_ns: pin.drive_at(high, t_ns / 1e9)
    if hasattr(pin, "drive_high") and hasattr(pin, "drive_low"):
        return lambda high, t_ns: pin.drive_high() if high else pin.drive_low()
    if callable(pin):
        return lambda high, t_ns: pin(high)
    raise TypeError(f"alert: expected a gpiozero MockPin or a callable(level), got {pin!r}")


class ComparatorState:
    """The comparator's memory between conversions (assertion state and the queue count)."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.active, self.count = False, 0

    @staticmethod
    def ready_mode(config: int, lo: int, hi: int) -> bool:
        """Whether ALERT/RDY is a conversion-ready signal with these registers."""
        return bool(hi & 0x8000) and not lo & 0x8000 and config & 3 != 3

    def on_conversion(self, t_ns: int, value: int, config: int, lo: int, hi: int) -> list[tuple[int, bool]]:
        """Level changes (time ns, asserted?) caused by a result ``value`` ending at ``t_ns``."""
        que = config & 3
        if que == 3:
            return []
        if self.ready_mode(config, lo, hi):
            if config & 0x0100:                       # single-shot: asserted until the next start
                return [(t_ns, True)]
            return [(t_ns, True), (t_ns + PULSE_NS, False)]
        lo_s, hi_s, window, latch = _signed(lo), _signed(hi), config & 0x10, config & 0x04
        outside = value > hi_s or (bool(window) and value < lo_s)
        self.count = self.count + 1 if outside else 0
        if not self.active and self.count >= (1, 2, 4)[que]:
            self.active = True
            return [(t_ns, True)]
        if self.active and not latch:
            back = lo_s <= value <= hi_s if window else value < lo_s
            if back:
                self.active = False
                return [(t_ns, False)]
        return []

    def on_read(self, config: int, lo: int, hi: int) -> bool:
        """A read of the conversion register: True if it clears a latched alert."""
        if self.active and config & 0x04 and not self.ready_mode(config, lo, hi):
            self.active, self.count = False, 0
            return True
        return False


class AlertDriver:
    """Delivers one chip's ALERT/RDY level changes to a pin from a daemon thread.

    ``levels`` counts the changes delivered; ``error`` keeps the last exception a pin callback
    raised (the thread carries on, as the line would).
    """

    def __init__(self, chip, pin):
        self._chip = chip
        self._set = level_setter(pin)
        self._queue: deque[tuple[int, bool]] = deque()      # guarded by the chip's lock
        self._wake = threading.Event()
        self._closed = False
        self.level = True                                   # open drain, pulled up
        self.changes = 0
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"alert-{chip.name}", daemon=True)

    def start(self) -> None:
        self._deliver(True, self._chip.clock())
        self._thread.start()

    def queue(self, t_ns: int, high: bool) -> None:
        """Called by the chip, under its lock: the line goes ``high`` at ``t_ns``."""
        self._queue.append((t_ns, high))
        self._wake.set()

    def poke(self) -> None:
        """Something changed the schedule (a config write, a vanish): look again now."""
        self._wake.set()

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=1.0)

    def _deliver(self, high: bool, t_ns: int) -> None:
        if high == self.level:
            return
        self.level = high
        self.changes += 1
        try:
            self._set(high, t_ns)
        except Exception as e:                  # a faulty callback must not stop the line
            self.error = e

    def _run(self) -> None:
        chip = self._chip
        while not self._closed:
            self._wake.clear()
            now = chip.clock()
            with chip._lock:
                chip._advance(now)
                due = []
                while self._queue and self._queue[0][0] <= now + _DUE_NS:
                    due.append(self._queue.popleft())
                pending = [self._queue[0][0]] if self._queue else []
                nxt = chip.next_event_ns()
            for t_ns, high in due:                  # outside the chip lock: a callback may
                self._deliver(high, t_ns)           # read the chip over the bus
            times = pending + ([nxt] if nxt is not None else [])
            wait_s = _IDLE_WAIT_S if not times else (min(times) - chip.clock()) / 1e9
            if wait_s > 0:
                self._wake.wait(min(wait_s, _IDLE_WAIT_S))
