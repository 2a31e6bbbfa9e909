"""An emulated GPIO character device (``/dev/gpiochipN``) with the part of the ``gpiod`` v2 API
the chips' reader uses: lines requested for edge events, and the events, each stamped with
the time the emulated chip drove the edge (as the kernel stamps a real edge in its interrupt
handler, on CLOCK_MONOTONIC: ``time.monotonic_ns``).

gpiod 2.x (libgpiod's official bindings) as mirrored here, from its source (gpiod 2.5.0):
``gpiod.request_lines(path, config={offsets: LineSettings(...)}, consumer=...)`` returns a
``LineRequest`` with ``wait_edge_events(timeout)`` (True when events are ready, False on the
timeout; seconds), ``read_edge_events(max_events=None)`` (up to 64 by default; blocks when none
is queued), ``get_value(offset)``, ``offsets``, ``fd``, ``release()`` and the context manager.
An ``EdgeEvent`` has ``event_type``, ``timestamp_ns``, ``line_offset``, ``global_seqno`` and
``line_seqno``. The kernel keeps 16 events per line by default and drops the oldest when full;
so does this (``dropped`` counts them).

The emulated chips drive a line with ``line.set_level(high, t_ns)`` (through their ALERT
driver, which hands each change over when the board's delivery model says):
``EmulatedGpioChip.line(n)``. A line with no request (or whose edge is not asked for) records
nothing, as on a Pi.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from .boards import emulator_work

RISING_EDGE, FALLING_EDGE = 1, 2      # gpiod.EdgeEvent.Type values
KERNEL_BUFFER = 16                    # events kept per line (the kernel's default, 16 × lines)
READ_MAX = 64                         # read_edge_events' default


@dataclass(frozen=True, slots=True)
class EdgeEvent:
    event_type: int
    timestamp_ns: int
    line_offset: int
    global_seqno: int
    line_seqno: int


class _Line:
    def __init__(self, chip: "EmulatedGpioChip", offset: int):
        self.chip, self.offset = chip, offset
        self.level = True                  # pulled up
        self.seqno = 0

    def set_level(self, high: bool, t_ns: int) -> None:
        if high == self.level:
            return
        self.level = high
        req = self.chip._requests.get(self.offset)
        if req is not None:
            req._edge(self, high, t_ns)


class EmulatedGpioChip:
    """The GPIO controller of the 40-pin header (``label`` as the kernel names it:
    ``pinctrl-bcm2711`` on a Pi 4, ``pinctrl-rp1`` on a Pi 5)."""

    def __init__(self, label: str = "pinctrl-bcm2711", path: str = "/dev/gpiochip0", num_lines: int = 54):
        self.label, self.path, self.num_lines = label, path, num_lines
        self._lines: dict[int, _Line] = {}
        self._requests: dict[int, EmulatedLineRequest] = {}
        self._lock = threading.Lock()

    def line(self, offset: int) -> _Line:
        """The line at ``offset`` (the BCM GPIO number), for a chip's ALERT/RDY to drive."""
        if not 0 <= offset < self.num_lines:
            raise ValueError(f"offset {offset} out of range for {self.path} ({self.num_lines} lines)")
        with self._lock:
            return self._lines.setdefault(offset, _Line(self, offset))

    def request_lines(self, offsets, *, edge: str = "falling", consumer: str | None = None,
                      buffer: int = KERNEL_BUFFER) -> "EmulatedLineRequest":
        """Request ``offsets`` as inputs with edge events (``edge``: falling, rising or both);
        OSError(EBUSY) if one is taken, as the kernel answers."""
        import errno
        import os
        offsets = tuple(offsets)
        with self._lock:
            taken = [o for o in offsets if o in self._requests]
            if taken:
                raise OSError(errno.EBUSY, os.strerror(errno.EBUSY))
        for o in offsets:
            self.line(o)
        req = EmulatedLineRequest(self, offsets, edge, consumer, buffer)
        with self._lock:
            for o in offsets:
                self._requests[o] = req
        return req

    def _release(self, req: "EmulatedLineRequest") -> None:
        with self._lock:
            for o in req.offsets:
                if self._requests.get(o) is req:
                    del self._requests[o]


class EmulatedLineRequest:
    """gpiod's ``LineRequest`` for edge events, on an :class:`EmulatedGpioChip`."""

    def __init__(self, chip: EmulatedGpioChip, offsets: tuple, edge: str, consumer, buffer: int):
        if edge not in ("falling", "rising", "both"):
            raise ValueError(f"edge: expected falling, rising or both, got {edge!r}")
        self.chip, self.offsets, self.consumer = chip, offsets, consumer
        self._want = {"falling": (False,), "rising": (True,), "both": (False, True)}[edge]
        self._buffer = buffer * len(offsets)
        self._events: deque[EdgeEvent] = deque()
        self._ready = threading.Condition()
        self._seqno = 0
        self._released = False
        self.dropped = 0

    @property
    def fd(self) -> int:
        return -1                        # no file: wait with wait_edge_events

    def _edge(self, line: _Line, high: bool, t_ns: int) -> None:
        if high not in self._want or self._released:
            return
        with self._ready:
            self._seqno += 1
            line.seqno += 1
            if len(self._events) >= self._buffer:
                self._events.popleft()
                self.dropped += 1
            self._events.append(EdgeEvent(RISING_EDGE if high else FALLING_EDGE, t_ns, line.offset,
                                          self._seqno, line.seqno))
            self._ready.notify_all()

    @emulator_work
    def wait_edge_events(self, timeout: float | None = None) -> bool:
        self._check()
        with self._ready:
            return self._ready.wait_for(lambda: self._events or self._released, timeout) and bool(self._events)

    @emulator_work
    def read_edge_events(self, max_events: int | None = None) -> list[EdgeEvent]:
        self._check()
        n = READ_MAX if max_events is None else max_events
        with self._ready:
            self._ready.wait_for(lambda: self._events or self._released)
            out = []
            while self._events and len(out) < n:
                out.append(self._events.popleft())
            return out

    def get_value(self, offset: int) -> bool:
        """The line's level (True: high), as gpiod's ``get_value`` (``Value.ACTIVE``)."""
        return self.chip.line(offset).level

    def release(self) -> None:
        if not self._released:
            self._released = True
            self.chip._release(self)
            with self._ready:
                self._ready.notify_all()

    def _check(self) -> None:
        if self._released:
            raise RuntimeError("the line request has been released")    # gpiod's RequestReleasedError

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.release()
