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

The chip queues level changes with their chip time; :class:`AlertDriver` delivers them at
(about) that time from one thread shared by all chips, so a gpiozero edge callback runs as it
would on a Pi: in a background thread, some tens of µs after the conversion ended (the thread's
wake-up latency, more on a loaded machine), one callback at a time. The 8 µs pulse is delivered as two edges back to back (no sleep can be
that short). On a :class:`ChipAlertPin` each edge carries the time the chip changed the line,
as the kernel's GPIO event timestamp does on a Pi (lgpio), not the time the thread got to it.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Callable

import time
from time import monotonic

from gpiozero.pins.mock import MockPin, PinState

from .timers import precise_timers

PULSE_NS = 8_000            # width of the conversion-ready pulse in continuous mode
_DUE_NS = 50_000            # changes due this soon are delivered now: a sleep cannot be shorter
_IDLE_WAIT_S = 0.1          # re-check at least this often when nothing is scheduled
#: SCHED_FIFO priority for the ALERT thread, or None (normal). An emulator process standing
#: for a board's kernel (pi.emulator.remote) sets it above the reader's: on a Pi the kernel's
#: interrupt handling is not held up by user threads
KERNEL_PRIORITY: int | None = None
#: the last part of each wait spun rather than slept, s (0: sleep it all): a board process
#: (pi.emulator.remote) sets it, so that edges are handed over on time, not one wake-up late
SPIN_S = 0.0


def _signed(word: int) -> int:
    return word - 0x10000 if word & 0x8000 else word


class ChipAlertPin(MockPin):
    """A gpiozero mock pin whose edges are stamped with the time the chip drove them.

    gpiozero hands a pin's ``when_changed`` callback the edge time ("ticks"); a plain MockPin
    stamps it when it is driven, which in an emulator can be long after the chip's edge on a
    busy machine. Create the pin with ``factory.pin(n, pin_class=ChipAlertPin)`` before anything
    else claims it (:func:`pi.emulator.build_bus` does).

    Unlike a plain MockPin it keeps only the last :data:`STATES_KEPT` changes in ``states``:
    a chip at 860 SPS pulses 1,720 times a second, and an hour of every change would be
    millions of objects for the garbage collector to walk while a reader waits.
    """

    _edge_s: float | None = None
    STATES_KEPT = 64

    def drive_at(self, high: bool, t_s: float) -> None:
        """Drive the line to ``high`` as of ``t_s`` (MockFactory ticks: ``time.monotonic()``)."""
        self._edge_s = t_s
        try:
            self.drive_high() if high else self.drive_low()
        finally:
            self._edge_s = None

    def _change_state(self, value):
        if self._state == value:
            return False
        t = monotonic() if self._edge_s is None else self._edge_s   # gpiozero passes it on as ticks
        if not isinstance(self.states, deque):
            self.states = deque(self.states, maxlen=self.STATES_KEPT)
        self.states.append(PinState(t - self._last_change, value))
        self._state, self._last_change = value, t
        return True


_release = threading.local()


def release_ns() -> int | None:
    """For a line's listener, during a change being delivered: the release time of an edge
    handed over ahead of its time (AlertDriver._deliver), or None: now."""
    return getattr(_release, "ns", None)


def level_setter(pin) -> Callable[[bool, int], None]:
    """A callable(high: bool, t_ns: int) driving ``pin``: a :class:`ChipAlertPin` (stamped with
    the chip's time ``t_ns``), a line of an emulated GPIO chip (``set_level(high, t_ns)``: its
    events carry ``t_ns``, as the kernel's timestamps do), another gpiozero MockPin
    (drive_high/drive_low), or a callable taking the level itself."""
    if isinstance(pin, ChipAlertPin):
        return lambda high, t_ns: pin.drive_at(high, t_ns / 1e9)
    if hasattr(pin, "set_level"):                      # a line of an emulated GPIO chip
        return pin.set_level
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
    """Delivers one chip's ALERT/RDY level changes to a pin, from the shared ALERT thread.

    ``changes`` counts the changes delivered; ``error`` keeps the last exception a pin callback
    raised (delivery carries on, as the line would).
    """

    def __init__(self, chip, pin, delivery=None):
        self._chip = chip
        self._set = level_setter(pin)
        #: when each change is handed over (pi.emulator.delivery; None: at once)
        self.delivery = delivery
        #: how long after an edge it can first be handed over, s (the model's least latency)
        self.lead_s = getattr(delivery, "lead_ns", 0) / 1e9
        #: how long before a foretold edge the model takes it, s (KernelEvents in a board process)
        self.ahead_s = getattr(delivery, "ahead_ns", 0) / 1e9
        self.unforetold_ns: int | None = None   # the next event, when it could not be foretold
        #: the product's Python on a modelled board (pi.emulator.boards.SlowPython), or None: a
        #: callback's span starts where the pin library's dispatch to it does
        self.cpu_model = None
        self._queue: deque[tuple[int, bool]] = deque()      # guarded by the chip's lock
        self._closed = False
        self.level = True                                   # open drain, pulled up
        self.changes = 0
        self.error: BaseException | None = None

    def start(self) -> None:
        self._deliver(True, self._chip.clock())
        _HUB.add(self)

    def queue(self, t_ns: int, high: bool) -> None:
        """Called by the chip, under its lock: the line goes ``high`` at ``t_ns``."""
        self._queue.append((t_ns, high))
        _HUB.wake()

    def poke(self) -> None:
        """Something changed the schedule (a config write, a vanish): look again now."""
        _HUB.wake()

    def close(self) -> None:
        self._closed = True
        _HUB.remove(self)

    def _deliver(self, high: bool, t_ns: int, release_ns: int | None = None) -> None:
        """The line goes ``high`` at ``t_ns``; ``release_ns``: an edge handed over ahead of its
        time, to be held by the reader's side until then (:func:`release_ns` tells the line)."""
        if high == self.level or self._closed:
            return
        self.level = high
        self.changes += 1
        cpu = self.cpu_model
        if cpu is not None:
            cpu.begin()
        _release.ns = release_ns
        try:
            self._set(high, t_ns)
        except Exception as e:                  # a faulty callback must not stop the line
            self.error = e
        finally:
            _release.ns = None
        if cpu is not None:
            cpu.checkpoint()

    def _due(self) -> tuple[list[tuple[int, bool]], int | None]:
        """Bring the chip to now; the changes due now, and when the next event is (chip clock, ns)."""
        chip = self._chip
        now = chip.clock()
        with chip._lock:
            chip._advance(now)
            due = []
            q = self._queue
            while q and q[0][0] <= now + _DUE_NS:
                due.append(q.popleft())
            nxt = chip.next_event_ns()
            if q and (nxt is None or q[0][0] < nxt):
                nxt = q[0][0]
        return due, nxt

    def _wait_s(self, next_ns: int | None) -> float | None:
        return None if next_ns is None else (next_ns - self._chip.clock()) / 1e9


class _AlertThread:
    """The one thread that delivers every emulated chip's ALERT/RDY edges, in time order.

    One thread, as on a Pi: gpiozero's lgpio pin factory runs every pin's edge callbacks from
    lgpio's single callback thread, so a callback for one chip waits while another's runs. The
    thread exists while some chip has a line to drive. Its timers are asked for microsecond
    precision (the default 50 µs timer slack would make every edge that much later)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._drivers: list[AlertDriver] = []
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._ident: int | None = None
        self._gathering = False

    def add(self, driver: AlertDriver) -> None:
        with self._lock:
            self._drivers.append(driver)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="alert-thread", daemon=True)
                self._thread.start()
        self._wake.set()

    def remove(self, driver: AlertDriver) -> None:
        with self._lock:
            if driver in self._drivers:
                self._drivers.remove(driver)
        self._wake.set()

    def wake(self) -> None:
        # the chips this thread is bringing up to date queue their edges as it goes: no need to
        # wake it for what it is about to deliver (a wake-up is ~20 µs of CPU on a VM)
        if self._gathering and threading.get_ident() == self._ident:
            return
        self._wake.set()

    def _run(self) -> None:
        try:
            self._serve()
        finally:                                    # if it fails, the next chip starts a new one
            with self._lock:
                if self._thread is threading.current_thread():
                    self._thread = None

    def _serve(self) -> None:
        precise_timers()
        if KERNEL_PRIORITY is not None:
            from pi.realtime import promote
            promote(KERNEL_PRIORITY)
        self._ident = threading.get_ident()
        nexts: dict[AlertDriver, int | None] = {}
        woken = True
        while True:
            self._wake.clear()
            with self._lock:
                drivers = list(self._drivers)
                if not drivers:                     # under the lock: a chip added now starts a
                    self._thread = None             # new thread
                    return
            due = []
            self._gathering = True
            try:
                for d in drivers:
                    # woken (a write, a vanish, a new chip): look at every chip; on time: only
                    # at those whose next event has come
                    if woken or d not in nexts or (w := d._wait_s(nexts[d])) is None or w * 1e9 <= _DUE_NS:
                        try:
                            changes, nexts[d] = d._due()
                        except Exception as e:      # that chip's model failed (an input raised):
                            d.error = e             # its line stops, the other chips' go on
                            self.remove(d)
                            nexts.pop(d, None)
                            continue
                        due += [(t_ns, high, d) for t_ns, high in changes]
            finally:
                self._gathering = False
            due.sort(key=lambda e: e[0])
            ready, models = [], {}
            for t_ns, high, d in due:               # a modelled board hands changes over later
                if d.delivery is None:
                    ready.append((t_ns, high, d))
                else:
                    d.delivery.put(t_ns, high, d)
            for d in drivers:
                if d.delivery is not None:
                    models[id(d.delivery)] = (d.delivery, d)
            for model, d in models.values():
                ready += model.take(d._chip.clock())
            ahead = []                              # edges foretold, handed over before their time
            for d in drivers:
                n = nexts.get(d)
                if d.ahead_s and n is not None and d.delivery.announced(d) != n \
                        and (w := d._wait_s(n)) is not None and w <= d.ahead_s:
                    edge = d._chip.upcoming_edge()
                    if edge is not None and not edge[1] and edge[0] == n:
                        ahead.append((edge[0], d, d.delivery.announce(edge[0], d)))
                    else:
                        d.unforetold_ns = n         # handed over when it comes, as any change
            for t_ns, high, d in ready:             # outside the chips' locks: a callback may
                d._deliver(high, t_ns)              # read the chips over the bus
            for t_ns, d, release in ahead:
                d._deliver(False, t_ns, release)
            # the next events were known before the callbacks; whatever they changed (a
            # conversion started, a line released) wakes this thread through ``wake``
            live = set(drivers)
            for d in [d for d in nexts if d not in live]:
                del nexts[d]
            # a chip whose edges a model hands over later is looked at when the first of them
            # can be handed over (its ``lead_ns``), not when it happens: one wake-up, not two
            waits = [w + (-d.ahead_s if d.ahead_s and n not in (d.delivery.announced(d), d.unforetold_ns) else d.lead_s)
                     for d, n in nexts.items() if (w := d._wait_s(n)) is not None]
            waits += [w for model, d in models.values() if (w := d._wait_s(model.next_ns())) is not None]
            wait_s = min(min(waits, default=_IDLE_WAIT_S), _IDLE_WAIT_S)
            woken = self._sleep(wait_s)

    def _sleep(self, wait_s: float) -> bool:
        """Wait ``wait_s`` or until woken (True). With ``SPIN_S`` set (a board process, where
        this thread stands for the kernel and an edge late by this machine's wake-up latency
        would be a board slower than the one modelled), sleep to that much before the time and
        spin the rest."""
        if wait_s <= 0:
            return True
        spin = SPIN_S
        if not spin:
            return self._wake.wait(wait_s)
        end = time.perf_counter() + wait_s
        if wait_s > spin and self._wake.wait(wait_s - spin):
            return True
        while time.perf_counter() < end:
            if self._wake.is_set():
                return True
            time.sleep(0)                 # spun, but letting go of the interpreter each time
        return False


_HUB = _AlertThread()
