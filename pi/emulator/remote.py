"""An emulated board's chips and kernel in a process of their own.

On a Pi the kernel carries the I2C transfers and stamps and queues the GPIO edges without the
Python interpreter. An emulator in the sampler's own process would need the interpreter for
both, and every edge it delivered and every transfer it ran would hold the product's threads
back (or be held back by them): a board harder than a real one, by an amount nobody can say.
So for a modelled board the chips, their ALERT/RDY lines, the delivery model and the bus run
in a child process (the *board process*), and the product talks to it as it talks to a
kernel:

* I2C through :class:`RemoteSMBus`, an ``smbus2.SMBus`` stand-in for LinuxI2C: each I2C_RDWR
  (a prepared ``i2c_rdwr_ioctl_data``, or smbus2's messages) goes down a pipe, runs on the
  emulated bus (which holds it for the bus time, as the adapter does) and comes back;
* edges through :class:`RemoteLineRequest`, a ``gpiod`` LineRequest stand-in: the board
  process writes each event, with the chip's edge time as its timestamp, into a pipe the
  reader waits on with ``select``, as gpiod's request waits on its file;
* or, for the old path (``edges="gpiozero"``), through a thread here that stands for lgpio's
  one Python callback thread: it reads the events lgpio's alert thread (modelled in the board
  process) emits, and drives gpiozero mock pins, whose callbacks then run on it;
* control (faults, a chip vanishing, the chips' logs for tests) as messages.

Both processes read the same monotonic clock, so an edge's time means the same on both sides,
and a transfer starts when the product issued it (its stamp), not when the board process got
to it. The pipes and this machine's wake-ups (25-60 µs each) must not make the board slower
than the one modelled, so neither side waits on the other for time that the model sets:

* a transfer is answered as soon as the board has worked it out, with the time the modelled
  adapter would let the caller go (the transfer's end, plus a kernel wake-up drawn from the
  board's figures, as a Pi's completion interrupt wakes the caller); the caller's side holds
  it until then;
* an edge the chip can foretell (a continuous-mode conversion-ready pulse) is announced
  ``ANNOUNCE_NS`` ahead with its release time (its time plus the kernel's wake-up), and the
  line request holds it until then.

Measured before this (board process answering at the modelled end, edges sent at release):
transfers returned ~90 µs after the model's end and edges reached the reader ~120 µs after
their release (median), which cost a real Pi 4 nothing and the emulated one a tenth of its
frames. The caller's waits sleep to a learnt margin before the time and spin the rest
(:class:`_Until`). The board's threads run under SCHED_FIFO above the reader, where allowed,
as a kernel's interrupt handling is above every user thread.
"""

from __future__ import annotations

import ctypes
import errno
import heapq
import importlib
import multiprocessing as mp
import os
import select
import struct
import sys
import threading
import time

from analysis.errors import InsoleError
from pi.realtime import ignore_stop_signals

from .boards import emulator_work

I2C_M_RD = 0x0001
START_TIMEOUT_S = 30.0
HUB_SPIN_S = 60e-6       # lgpio's path: the board's ALERT thread spins the last 60 µs of each wait (a wake-up here: 25-60 µs)
ANNOUNCE_NS = 400_000    # the character device's path: a foretold edge goes this far ahead (hand-over here: 50-300 µs)
_EVENT = struct.Struct("<BxHIqq")       # type, offset, line seqno, timestamp ns, release at (ns)
_REPLY = struct.Struct("<hq")           # errno (0: done), release at (monotonic ns)
_MSG = struct.Struct("<BHH")            # address, flags, length
_OP_RDWR, _OP_QUICK, _OP_READ_BYTE = 1, 2, 3
_HEAD = struct.Struct("<qBB")           # issued at (monotonic ns), operation, count or address


class BoardProcessError(InsoleError):
    """The emulated board's process did not start, or has gone."""


class RemoteBoard:
    """The board process for ``kit`` on board ``board_name`` (pi.emulator.boards).

    ``edges``: ``chardev`` (events for a line request) or ``gpiozero`` (lgpio's delivery, to
    mock pins on ``pin_factory``); ``inputs_hook``: ``"module:function"`` called there as
    ``function(bus, kit)`` once the chips exist (to drive their inputs, e.g. tagged values);
    ``bus_options`` go to :func:`pi.emulator.build_bus`."""

    def __init__(self, kit, board_name: str, *, edges: str = "chardev", sim_settings=None,
                 bus_options: dict | None = None, inputs_hook: str | None = None, pin_factory=None):
        if edges not in ("chardev", "gpiozero"):
            raise ValueError(f"edges: expected chardev or gpiozero, got {edges!r}")
        self._lgpio = None                  # (close() may run before it is made)
        ctx = mp.get_context("spawn")
        self._i2c, i2c_child = ctx.Pipe(duplex=True)
        #: one pipe of events per ALERT/RDY line, as each line request has a file of its own
        self.pins = [c.alert_pin for c in kit.chips if c.alert_pin is not None]
        pipes = {pin: ctx.Pipe(duplex=False) for pin in self.pins}
        self._events = {pin: r for pin, (r, _) in pipes.items()}
        events_child = {pin: w for pin, (_, w) in pipes.items()}
        self._ctl, ctl_child = ctx.Pipe(duplex=True)
        self._ctl_lock = threading.Lock()
        self.edges, self.kit = edges, kit
        self._proc = ctx.Process(target=_board_main, name="insole-board",
                                 args=(i2c_child, events_child, ctl_child, kit, board_name, edges, sim_settings,
                                       bus_options or {}, inputs_hook, list(sys.path)), daemon=True)
        self._proc.start()
        for c in (i2c_child, ctl_child, *events_child.values()):
            c.close()
        if not self._ctl.poll(START_TIMEOUT_S):
            self.close()
            raise BoardProcessError(f"the emulated board did not start within {START_TIMEOUT_S:g} s")
        try:
            msg = self._ctl.recv()
        except (EOFError, OSError):
            msg = ("error", "its process ended while starting")
        if msg[0] != "ready":
            self.close()
            raise BoardProcessError(f"the emulated board failed to start: {msg[1]}")
        self.epoch_ns = msg[1]
        self._requests: dict[int, RemoteLineRequest] = {}
        self._lgpio: _LgpioCallbackThread | None = None
        if edges == "gpiozero":
            self._lgpio = _LgpioCallbackThread(self._events, pin_factory)
            self.call("request", self.pins)

    # ---- what the product uses ------------------------------------------------------------
    def smbus(self, ) -> "RemoteSMBus":
        return RemoteSMBus(self._i2c)

    def request_lines(self, offsets) -> "RemoteLineRequest":
        """gpiod.request_lines for falling edges on ``offsets`` (ALERT/RDY lines of the kit)."""
        offsets = tuple(offsets)
        unknown = [o for o in offsets if o not in self._events]
        if unknown:
            raise ValueError(f"no emulated ALERT/RDY line at GPIO {unknown}; the kit's are {self.pins}")
        if any(o in self._requests and not self._requests[o].released for o in offsets):
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY))
        self.call("request", list(offsets))
        req = RemoteLineRequest(self, [self._events[o] for o in offsets], offsets)
        for o in offsets:
            self._requests[o] = req
        return req

    # ---- control ----------------------------------------------------------------------------
    def call(self, op: str, *args):
        """Run ``op`` in the board process (see ``_Control``); returns its answer."""
        with self._ctl_lock:
            try:
                self._ctl.send((op, args))
                ok, value = self._ctl.recv()
            except (EOFError, OSError) as e:
                raise BoardProcessError(f"the emulated board has gone ({type(e).__name__})") from None
        if not ok:
            raise BoardProcessError(value)
        return value

    def vanish(self, address: int, duration_s: float, **kw) -> None:
        self.call("vanish", address, duration_s, kw)

    def cut_alert(self, address: int, duration_s: float, **kw) -> None:
        self.call("cut_alert", address, duration_s, kw)

    def fail_next(self, n: int = 1) -> None:
        self.call("fail_next", n)

    def conversions(self, address: int) -> list[tuple]:
        """The chip's conversion log: (seq, t_start_ns, t_end_ns, mux, fs_v, volts, value)."""
        return self.call("conversions", address)

    def stats(self) -> dict:
        return self.call("stats")

    def close(self) -> None:
        if self._lgpio is not None:
            self._lgpio.stop()
        try:
            if self._proc.is_alive():
                try:
                    with self._ctl_lock:
                        self._ctl.send(("close", ()))
                except (OSError, ValueError):
                    pass
                self._proc.join(3.0)
            if self._proc.is_alive():
                self._proc.kill()            # it ignores SIGTERM (ignore_stop_signals)
                self._proc.join(2.0)
        finally:
            for c in (self._i2c, self._ctl, *self._events.values()):
                c.close()


class RemoteSMBus:
    """What LinuxI2C uses of ``smbus2.SMBus``, carried to the board process. Its CPU here is
    the emulator's (``emulator_work``): on a Pi this is the kernel's ioctl."""

    fd = -1

    def __init__(self, conn):
        self._conn = conn
        self._lock = threading.Lock()        # the kernel serialises one adapter's transfers
        self._until = _Until()

    def _exchange(self, op: int, arg: int, body: bytes = b"") -> bytes:
        with self._lock:
            try:
                # stamped as it is issued: the transfer starts then, not when the board gets it
                self._conn.send_bytes(_HEAD.pack(time.monotonic_ns(), op, arg) + body)
                reply = self._conn.recv_bytes()
            except (EOFError, OSError):
                raise OSError(errno.ENODEV, "the emulated board has gone") from None
            code, release = _REPLY.unpack_from(reply)
            self._until.wait(release)        # the modelled adapter lets the caller go then
        if code:
            raise OSError(code, os.strerror(code))
        return reply

    def _rdwr(self, msgs) -> None:
        parts = []
        for m in msgs:
            parts.append(_MSG.pack(m.addr, m.flags, m.len))
            if not m.flags & I2C_M_RD:
                parts.append(ctypes.string_at(m.buf, m.len))
        reply = self._exchange(_OP_RDWR, len(msgs), b"".join(parts))
        at = _REPLY.size
        for m in msgs:
            if m.flags & I2C_M_RD:
                ctypes.memmove(m.buf, reply[at:at + m.len], m.len)
                at += m.len

    @emulator_work
    def ioctl_rdwr(self, data) -> None:
        """``ioctl(fd, I2C_RDWR, data)`` with a prepared ``smbus2.i2c_rdwr_ioctl_data``."""
        self._rdwr([data.msgs[i] for i in range(data.nmsgs)])

    @emulator_work
    def i2c_rdwr(self, *msgs) -> None:
        self._rdwr(msgs)

    @emulator_work
    def write_quick(self, address: int) -> None:
        self._exchange(_OP_QUICK, address)

    @emulator_work
    def read_byte(self, address: int) -> int:
        return self._exchange(_OP_READ_BYTE, address)[_REPLY.size]

    def close(self) -> None:
        pass


def _read_events(fds, timeout_s: float) -> list[tuple]:
    """The events waiting on the line pipes ``fds``, waiting up to ``timeout_s`` for one. Each
    is one write of ``_EVENT.size`` bytes (whole: under PIPE_BUF), read raw, many at once: the
    Connection's framing and selectors cost the reading thread ~15 µs of Python per look."""
    out = []
    for fd in select.select(fds, [], [], timeout_s)[0]:
        data = os.read(fd, _EVENT.size * 256)
        if not data:
            raise EOFError("the emulated board has gone")
        out += _EVENT.iter_unpack(data)
    return out


class _Until:
    """Waits for a monotonic time on this machine, ending on it rather than one wake-up after:
    it sleeps to ``late_ns`` before the time (learnt: how late this thread's sleeps end, 25-60
    µs here) and spins the rest, a few µs when the margin is right. A Pi's kernel would wake the
    thread at the time itself, give or take its own latency, which the board's model draws."""

    LEARN = 16                       # sleeps the learnt lateness is averaged over
    MOST_LATE_NS = 300_000

    def __init__(self):
        self.late_ns = 50_000

    def wait(self, t_ns: int, fds=()) -> bool:
        """Until ``t_ns`` (monotonic ns), or (True) until one of ``fds`` is readable first."""
        now = time.monotonic_ns()
        if t_ns - now > self.late_ns:
            target = t_ns - self.late_ns
            if fds:
                if select.select(fds, [], [], (target - now) / 1e9)[0]:
                    return True
            else:
                time.sleep((target - now) / 1e9)
            over = time.monotonic_ns() - target
            self.late_ns = min(max(self.late_ns + (over - self.late_ns) // self.LEARN, 0), self.MOST_LATE_NS)
        while time.monotonic_ns() < t_ns:
            pass
        return False


class RemoteLineRequest:
    """gpiod's LineRequest for edge events, its events written by the board process (a pipe
    per line; waiting on all of them, as on one request's file). Each event carries when the
    modelled kernel makes it readable; one sent ahead of then is held until then."""

    def __init__(self, board: RemoteBoard, conns: list, offsets: tuple):
        self._board, self._conns, self.offsets = board, conns, offsets
        self._fds = [c.fileno() for c in conns]
        self.released = False
        self._seqno = 0
        self._held: list = []         # events read from the pipes, by release time
        self._until = _Until()
        #: (ns from the edge to its modelled release, ns from then to being read here), for
        #: the emulator's own delivery overhead (the last events)
        from collections import deque
        self.handed_over: deque = deque(maxlen=4096)

    def _take_pipes(self) -> None:
        for ev in _read_events(self._fds, 0):
            heapq.heappush(self._held, (ev[4], ev[3], ev))

    @emulator_work
    def wait_edge_events(self, timeout: float | None = None) -> bool:
        if self.released:
            raise RuntimeError("the line request has been released")
        end = None if timeout is None else time.monotonic_ns() + int(timeout * 1e9)
        while True:
            self._take_pipes()
            now = time.monotonic_ns()
            if self._held and self._held[0][0] <= now:
                return True
            if end is not None and now >= end:
                return False
            t = self._held[0][0] if self._held else None
            if t is not None and (end is None or t <= end):
                self._until.wait(t, self._fds)          # until its release, or another event comes
            else:
                wait_s = None if end is None else (end - now) / 1e9
                select.select(self._fds, [], [], wait_s)

    @emulator_work
    def read_edge_events(self, max_events: int | None = None) -> list:
        """The events released, oldest first (waiting for one if none is)."""
        from .gpiochip import EdgeEvent
        n = 64 if max_events is None else max_events
        self.wait_edge_events(None)
        out = []
        now = time.monotonic_ns()
        held = self._held
        ready = []
        while held and held[0][0] <= now and len(ready) < n:
            ready.append(heapq.heappop(held)[2])
        ready.sort(key=lambda e: e[3])
        for kind, offset, line_seq, ts, release in ready:
            self._seqno += 1
            out.append(EdgeEvent(kind, ts, offset, self._seqno, line_seq))
            self.handed_over.append((release - ts, now - release))
        return out

    def release(self) -> None:
        if not self.released:
            self.released = True
            try:
                self._board.call("release", list(self.offsets))
            except BoardProcessError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class _LgpioCallbackThread:
    """lgpio's one Python thread (``lgpio_extra.py``'s ``_callback_thread``): it reads what the
    alert thread emits and calls every callback in turn. Here it drives gpiozero mock pins
    (:class:`~pi.emulator.alert.ChipAlertPin`, each edge stamped with the chip's time), whose
    callbacks then run on it, as gpiozero's lgpio factory's do."""

    def __init__(self, conns: dict, pin_factory):
        from .simulated import _alert_pin
        self._conns = list(conns.values())
        self._pins = {pin: _alert_pin(pin_factory, pin) for pin in conns}
        for p in self._pins.values():
            p.drive_high()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="lgpio-callbacks", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from .alert import PULSE_NS
        fds = [c.fileno() for c in self._conns]
        try:
            while not self._stop:
                events = _read_events(fds, 0.1)
                for _, offset, _, ts, _ in sorted(events, key=lambda e: e[3]):     # in time order, as lgpio sorts
                    pin = self._pins.get(offset)
                    if pin is not None:
                        pin.drive_at(False, ts / 1e9)
                        pin.drive_at(True, (ts + PULSE_NS) / 1e9)
        except (EOFError, OSError):
            pass

    def stop(self) -> None:
        self._stop = True
        self._thread.join(1.0)


# ---- the board process ----------------------------------------------------------------------
class _PipeRequest:
    """The board process's side of a line request: each edge asked for goes down the pipe."""

    def __init__(self, conn):
        self._conn, self._lock = conn, threading.Lock()
        self._fd = conn.fileno()
        self.active = True

    def _edge(self, line, high: bool, t_ns: int) -> None:
        from .alert import release_ns
        if high or not self.active:
            return
        line.seqno += 1
        release = release_ns() or time.monotonic_ns()      # announced ahead, or readable now
        try:
            with self._lock:
                os.write(self._fd, _EVENT.pack(2, line.offset, line.seqno & 0xFFFFFFFF, t_ns, release))
        except (OSError, ValueError):
            self.active = False


def _board_main(i2c_conn, events_conns, ctl, kit, board_name, edges, sim_settings, bus_options,
                inputs_hook, path) -> None:
    ignore_stop_signals()              # the parent decides when it ends (pi.realtime)
    for p in reversed(path):
        if p not in sys.path:
            sys.path.insert(0, p)
    try:
        from pi import realtime
        from . import alert, boards
        from .delivery import KernelEvents, LgpioAlerts
        from .gpiochip import EmulatedGpioChip
        from .i2cdev import EmulatedSMBus
        from .simulated import build_bus
        realtime.short_switch_interval()
        # the board's threads stand for its kernel (interrupts, the I2C driver), which no user
        # thread holds up: above the reader (measured: a transfer answered up to 1.9 ms late at
        # normal priority, 0.76 ms under SCHED_FIFO)
        alert.KERNEL_PRIORITY = realtime.PRIORITY + 5
        b = boards.board(board_name)
        gpio = EmulatedGpioChip(b.gpio_label)
        if edges == "chardev":
            delivery = KernelEvents(b.kernel_wake, ahead_ns=ANNOUNCE_NS)
        else:            # lgpio's hand-overs are worked out here: they must leave on time
            alert.SPIN_S = HUB_SPIN_S
            delivery = LgpioAlerts(b.lgpio_wake)
        opts = dict(bus_options)
        opts.setdefault("bus_hz", b.i2c_hz)
        bus = build_bus(kit, sim_settings=sim_settings, gpio_chip=gpio, delivery=delivery, **opts)
        bus.defer_waits = True              # the caller's side waits (see the module docstring)
        if inputs_hook:
            module, func = inputs_hook.split(":")
            getattr(importlib.import_module(module), func)(bus, kit)
        dev = EmulatedSMBus(bus, b.i2c_driver)
    except BaseException as e:
        ctl.send(("error", f"{type(e).__name__}: {e}"))
        return
    requests = {pin: _PipeRequest(c) for pin, c in events_conns.items()}
    threading.Thread(target=_serve_i2c, args=(i2c_conn, dev, bus, b.kernel_wake), name="board-i2c", daemon=True).start()
    ctl.send(("ready", bus.epoch_ns))
    try:
        while True:
            op, args = ctl.recv()
            if op == "close":
                break
            try:
                ctl.send((True, _control(op, args, bus, gpio, requests)))
            except Exception as e:
                ctl.send((False, f"{type(e).__name__}: {e}"))
    except (EOFError, OSError):
        pass
    finally:
        for r in requests.values():
            r.active = False
        bus.deinit()


def _control(op, args, bus, gpio, requests):
    if op == "request":
        for o in args[0]:
            gpio.line(o)
            requests[o].active = True
            gpio._requests[o] = requests[o]
        return None
    if op == "release":
        for o in args[0]:
            requests[o].active = False
            gpio._requests.pop(o, None)
        return None
    if op in ("vanish", "cut_alert"):
        address, duration_s, kw = args
        getattr(bus, op)(address, duration_s, **kw)
        return None
    if op == "fail_next":
        bus.fail_next(args[0])
        return None
    if op == "fault_rate":
        bus.fault_rate = args[0]
        return None
    if op == "conversions":
        return [tuple(c.__getattribute__(f) for f in ("seq", "t_start_ns", "t_end_ns", "mux", "fs_v", "volts", "value"))
                for c in bus.chip(args[0]).conversions]
    if op == "stats":
        s = bus.stats
        return {"transactions": s.transactions, "faults": s.faults, "nacks": dict(s.nacks), "busy_s": s.busy_s}
    raise ValueError(f"unknown board operation {op!r}")


def _serve_i2c(conn, dev, bus, wake) -> None:
    """The adapter: one transfer at a time, worked out at once and answered with the time the
    caller may go (the transfer's end, plus the kernel's wake-up ``wake`` drawn per transfer)."""
    import random
    from pi import realtime
    from .alert import KERNEL_PRIORITY
    if KERNEL_PRIORITY is not None:
        realtime.promote(KERNEL_PRIORITY)
    rng = random.Random(7)
    try:
        while True:
            req = conn.recv_bytes()
            issued, op, arg = _HEAD.unpack_from(req)
            bus.deferred_ns = 0
            code, data = 0, b""
            try:
                if op == _OP_RDWR:
                    at, msgs = _HEAD.size, []
                    for _ in range(arg):
                        addr, flags, length = _MSG.unpack_from(req, at)
                        at += _MSG.size
                        if flags & I2C_M_RD:
                            msgs.append((addr, flags, length, None))
                        else:
                            msgs.append((addr, flags, length, req[at:at + length]))
                            at += length
                    dev._check_rules([(a, f, n) for a, f, n, _ in msgs])
                    data = b"".join(dev._transfer([(a, n if f & I2C_M_RD else d) for a, f, n, d in msgs], issued))
                elif op == _OP_QUICK:
                    dev._transfer([(arg, b"")], issued)
                else:
                    data = dev._transfer([(arg, 1)], issued)[0]
            except OSError as e:
                code = e.errno or errno.EIO
            release = bus.deferred_ns + wake.draw_ns(rng) if bus.deferred_ns else 0
            conn.send_bytes(_REPLY.pack(code, release) + data)
    except (EOFError, OSError):
        pass
