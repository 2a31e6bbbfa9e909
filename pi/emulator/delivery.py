"""How an ALERT/RDY edge reaches the code waiting for it, on a modelled board.

An emulated chip knows when each edge happens (its chip time, the kernel's timestamp on a Pi);
a delivery model says when the edge is *handed over*. The shared ALERT thread
(:mod:`.alert`) puts each level change into its chip's model and delivers what the model
releases, in release order, carrying the edge's own time. Three models:

* :class:`AtOnce`: as soon as the ALERT thread gets to it (this machine's wake-up latency only:
  the ``ideal`` board, today's behaviour).
* :class:`KernelEvents`: the GPIO character device. The kernel stamps the edge in its interrupt
  handler and wakes the thread waiting on the line request; the edge is released after that
  wake-up latency (drawn per edge from the board's :class:`~pi.emulator.boards.EdgeLatency`).
* :class:`LgpioAlerts`: gpiozero's lgpio pin factory, as lgpio 0.2.2.0 does it
  (``src/lgPthAlerts.c``, ``lgpio_extra.py``): one C thread, woken by a new edge (after the
  kernel's wake-up) or by its ``ppoll`` timeout of 0.5 ms (plus the normal thread's 50 µs timer
  slack, Linux's default), reads the events; on every pass it estimates "now" on the events'
  clock as the newest event's stamp plus the time since the pass that read it, and emits only
  the events at least 500 µs older than that, so an edge is never emitted in the pass that
  read it. Emitted events go through a pipe to one Python thread, which wakes (another kernel
  wake-up) and runs every callback in turn: the ALERT thread, here, is that Python thread.

Only falling edges are events (the reader asks for those); a rising edge (the end of the 8 µs
pulse, or a line let go) follows the falling edge before it, so the pin's level stays true.
"""

from __future__ import annotations

import heapq
import random
import threading
from collections import deque

POLL_NS = 500_000            # lgpio's ppoll timeout (lgPthAlerts.c: tspec = {0, 5e5})
HOLD_NS = 500_000            # lgpio emits events this much older than its "now" (emit(count, nowGT-500000))
TIMER_SLACK_NS = 50_000      # Linux's default timer slack for a normal thread (prctl(2))


class AtOnce:
    """Edges handed over as soon as the ALERT thread has them."""

    lead_ns = 0

    def __init__(self):
        self._out: deque = deque()

    def put(self, t_ns: int, high: bool, target) -> None:
        self._out.append((t_ns, high, target))

    def take(self, now_ns: int) -> list:
        out = list(self._out)
        self._out.clear()
        return out

    def next_ns(self) -> int | None:
        return None


class _Releases:
    """Changes waiting for their release time, handed over in release order. An *entry* is a
    falling edge and the level changes of its line that follow it (a rising edge rides with
    the falling edge before it), released together."""

    def __init__(self):
        self._heap: list = []
        self._seq = 0
        self._open: dict = {}        # target → its last entry not yet handed over
        self._lock = threading.Lock()

    def open_entry(self, t_ns: int, target) -> list:
        entry = [(t_ns, False, target)]
        with self._lock:
            self._open[target] = entry
        return entry

    def push(self, release_ns: int, entry: list) -> None:
        with self._lock:
            heapq.heappush(self._heap, (release_ns, self._seq, entry))
            self._seq += 1

    def add_level(self, t_ns: int, high: bool, target) -> bool:
        """A change that is no event: joins its line's entry not yet handed over (True), or,
        with none, False (hand it over now)."""
        with self._lock:
            entry = self._open.get(target)
            if entry is None:
                return False
            entry.append((t_ns, high, target))
            return True

    def take(self, now_ns: int) -> list:
        out = []
        with self._lock:
            while self._heap and self._heap[0][0] <= now_ns:
                _, _, entry = heapq.heappop(self._heap)
                target = entry[0][2]
                if self._open.get(target) is entry:
                    del self._open[target]
                out += entry
        return out

    def next_ns(self) -> int | None:
        with self._lock:
            return self._heap[0][0] if self._heap else None


class KernelEvents:
    """The GPIO character device: an edge is released ``latency.draw_ns()`` after it happened.

    ``ahead_ns`` > 0 (a board process, pi/emulator/remote.py): an edge the chip can foretell
    (:meth:`~pi.emulator.ads1x15.ADS1x15.upcoming_edge`) is *announced* that long before it
    happens, handed over at once with its release time attached, and the reader's side holds it
    until then. What carries it (a pipe, the reader's wake-up) then costs nothing the board
    would not: without it, every edge reached the reader this machine's hand-over (~100 µs)
    later than the model said."""

    def __init__(self, latency, seed: int = 0, ahead_ns: int = 0):
        self.latency = latency
        self.ahead_ns = ahead_ns
        #: no edge is handed over sooner (announced ones aside: they carry their release)
        self.lead_ns = 0 if ahead_ns else int(latency.typical_us * 1000)
        self._rng = random.Random(seed)
        self._releases = _Releases()
        self._now: deque = deque()
        self._announced: dict = {}         # target → the time of its edge announced

    def announce(self, t_ns: int, target) -> int:
        """The falling edge ``target``'s line will make at ``t_ns``, handed over now: returns
        its release time; the edge itself, when the chip makes it, is then not handed over again."""
        self._announced[target] = t_ns
        return t_ns + self.latency.draw_ns(self._rng)

    def announced(self, target) -> int | None:
        return self._announced.get(target)

    def put(self, t_ns: int, high: bool, target) -> None:
        if not high and self._announced.get(target) == t_ns:
            return                                   # handed over ahead, with its release time
        if not high:
            self._releases.push(t_ns + self.latency.draw_ns(self._rng), self._releases.open_entry(t_ns, target))
        elif not self._releases.add_level(t_ns, high, target):
            self._now.append((t_ns, high, target))

    def take(self, now_ns: int) -> list:
        out = list(self._now)
        self._now.clear()
        return out + self._releases.take(now_ns)

    def next_ns(self) -> int | None:
        return self._releases.next_ns()


class LgpioAlerts:
    """lgpio's alert thread and its one Python callback thread (see the module docstring).

    ``wake``: the kernel's wake-up latency of a normal thread (the C thread on a new event, the
    Python thread on the pipe), an :class:`~pi.emulator.boards.EdgeLatency`. The C thread's
    passes are worked out from the events, not run: a pass when an event arrives, and timeout
    passes ``POLL_NS`` plus up to ``TIMER_SLACK_NS`` after the pass before."""

    lead_ns = 0           # its passes are worked out as the edges come

    def __init__(self, wake, seed: int = 0):
        self.wake = wake
        self._rng = random.Random(seed)
        self._releases = _Releases()
        self._now: deque = deque()
        self._lock = threading.Lock()
        self._pending: list = []          # (t_ns, entry): read by the C thread, not yet emitted
        self._next_timeout: int | None = None
        self._last_pass = 0
        self._last_gt = self._last_lt = 0  # the newest event's stamp, and the pass that read it

    def _pass(self, at_ns: int) -> None:
        """One pass of the C thread at ``at_ns``: emit what is old enough on its estimate of now."""
        self._last_pass = at_ns
        limit = self._last_gt + (at_ns - self._last_lt) - HOLD_NS
        keep, release = [], None
        for t_ns, entry in self._pending:
            if t_ns <= limit:             # into the pipe, in time order: the Python thread wakes
                if release is None:       # once for the lot, then calls each callback in turn
                    release = at_ns + self.wake.draw_ns(self._rng)
                self._releases.push(release, entry)
            else:
                keep.append((t_ns, entry))
        self._pending = keep
        self._next_timeout = at_ns + POLL_NS + int(self._rng.uniform(0, TIMER_SLACK_NS))

    def _timeouts_until(self, t_ns: int) -> None:
        # only passes with something to emit matter (an idle thread's timeouts change nothing)
        while self._pending and self._next_timeout is not None and self._next_timeout <= t_ns:
            self._pass(self._next_timeout)

    def put(self, t_ns: int, high: bool, target) -> None:
        with self._lock:
            if high:
                if not self._releases.add_level(t_ns, high, target):
                    self._now.append((t_ns, high, target))
                return
            # read when the C thread wakes for it; an edge older than its last pass was in the
            # kernel's buffer then, and that pass read it
            arrival = max(t_ns + self.wake.draw_ns(self._rng), self._last_pass)
            self._timeouts_until(arrival - 1)
            self._pending.append((t_ns, self._releases.open_entry(t_ns, target)))
            self._pending.sort(key=lambda e: e[0])
            if t_ns >= self._last_gt:
                self._last_gt, self._last_lt = t_ns, arrival
            self._pass(arrival)

    def take(self, now_ns: int) -> list:
        with self._lock:
            self._timeouts_until(now_ns)
            out = list(self._now)
            self._now.clear()
        return out + self._releases.take(now_ns)

    def next_ns(self) -> int | None:
        """When the ALERT thread should look again: the next hand-over, or the C thread's next
        pass that can emit the oldest event read (a lower bound: later timeouts' slack is
        drawn when they come)."""
        with self._lock:
            nxt = self._releases.next_ns()
            if self._pending and self._next_timeout is not None:
                need = self._pending[0][0] + HOLD_NS + self._last_lt - self._last_gt
                t = self._next_timeout
                if t < need:
                    t += -(-(need - t) // POLL_NS) * POLL_NS
                nxt = t if nxt is None else min(nxt, t)
            return nxt
