"""An emulated I2C bus with the busio.I2C interface, carrying emulated ADS1x15 chips.

Any driver written against busio.I2C (adafruit_ads1x15 through adafruit_bus_device included)
runs on it unchanged: ``try_lock``/``unlock``, ``writeto``, ``readfrom_into``,
``writeto_then_readfrom``, ``scan``, ``deinit`` and the context manager.

Errors are raised as Linux i2c-dev raises them through Blinka on a Raspberry Pi: an address
nobody acknowledges gives ``OSError(errno.EREMOTEIO)`` ("[Errno 121] Remote I/O error", what
the Pi's i2c-bcm2835 driver returns on a NACK; pass ``nack_errno=errno.ENXIO`` or ``ENODEV`` to
imitate other adapters), and an injected transient fault ``OSError(errno.EIO)``. A failed
transaction does not reach the chip. Address 0x00 is the general call: the byte 0x06 resets
every chip. As in CircuitPython (stricter than Blinka), a transfer by a thread that does not
hold the lock raises RuntimeError, so a driver that forgets to lock is caught.

Bus time (``bus_hz``, e.g. 100_000 or 400_000; None = instant) charges each transaction its
bit count: start + 9 bits per byte (address included) + stop, + a repeated start between the
write and the read of ``writeto_then_readfrom`` (a config write 38 bits, pointer + 2-byte read
48). Transactions queue on the modelled bus: each starts when the bus is free and the caller
has issued it, and holds the bus for its bit time. A write reaches the chip at its end, and the
caller is held until then (sleeping, never spinning: see :mod:`.timers`), so nobody believes a
write done before the chip has it. A read takes the register's value as it starts (a register
pointer it writes first applies at once) and returns as soon as it has started; the bus stays
busy to its end, so the caller's next transaction waits for that. A read-then-write, what every
ADS1x15 reader does, thus costs its caller one sleep, not two (a sleep is ~20 µs of CPU on a VM),
and a read never returns data newer than the moment it was issued.

Fault injection: ``fault_rate`` (a share of transactions failing with EIO, from ``seed``),
``fail_next(n)`` (the next n fail), and ``vanish(address, duration_s)`` (a chip that stops
answering, then returns). ``stats`` counts transactions, NACKs and injected faults.
"""

from __future__ import annotations

import errno
import os
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .timers import precise_timers

GENERAL_CALL = 0x00
_RESET = 0x06


@dataclass
class BusStats:
    """What the bus has carried: ``transactions`` (all, failed ones included), ``nacks`` per
    address, ``faults`` injected (EIO), ``busy_s`` modelled bus time."""

    transactions: int = 0
    faults: int = 0
    nacks: dict[int, int] = field(default_factory=dict)
    busy_s: float = 0.0


class EmulatedI2C:
    """A stand-in for ``busio.I2C`` / ``board.I2C()`` carrying emulated chips.

    ``chips``: emulated chips (anything with ``address``, ``acks``, ``i2c_write``, ``i2c_read``);
    ``bus_hz``: modelled clock, Hz, or None for no bus time; ``fault_rate``: the share of
    transactions failing with ``fault_errno``; ``clock``/``sleep``: ns clock and sleep in s.
    """

    def __init__(self, chips: Iterable = (), *, bus_hz: float | None = None, fault_rate: float = 0.0,
                 seed: int = 0, nack_errno: int = errno.EREMOTEIO, fault_errno: int = errno.EIO,
                 require_lock: bool = True, clock: Callable[[], int] = time.monotonic_ns,
                 sleep: Callable[[float], None] = time.sleep):
        if bus_hz is not None and not 1_000 <= bus_hz <= 3_400_000:
            raise ValueError(f"bus_hz: expected an I2C clock such as 100000 or 400000 Hz, got {bus_hz!r}")
        self.chips: dict[int, object] = {}
        for chip in chips:
            self.add(chip)
        self.bus_hz = bus_hz
        self.fault_rate = fault_rate
        self.nack_errno, self.fault_errno = nack_errno, fault_errno
        self.require_lock = require_lock
        self.clock, self._sleep = clock, sleep
        self.stats = BusStats()
        self._rng = random.Random(seed)
        self._fail_next = 0
        self._owner: int | None = None
        self._meta = threading.Lock()
        self._free_ns = 0                   # when the modelled bus is next free
        self._closed = False
        #: set by :func:`pi.emulator.build_bus`: the input model, the clock time of its t = 0,
        #: and the kit's chip names → addresses
        self.inputs, self.epoch_ns, self.names = None, None, {}

    @property
    def fault_rate(self) -> float:
        return self._fault_rate

    @fault_rate.setter
    def fault_rate(self, rate: float) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault_rate: expected a share from 0 to 1, got {rate!r}")
        self._fault_rate = float(rate)

    @property
    def frequency(self) -> float | None:
        """The modelled bus clock, Hz (None: transactions take no modelled time)."""
        return self.bus_hz

    # ---- chips and faults ----------------------------------------------------------------
    def add(self, chip) -> None:
        if chip.address in self.chips:
            raise ValueError(f"two chips at address {chip.address:#04x}")
        self.chips[chip.address] = chip

    def chip(self, address: int):
        """The emulated chip at ``address`` (KeyError if none)."""
        return self.chips[address]

    def fail_next(self, n: int = 1) -> None:
        """Make the next ``n`` transactions fail with ``fault_errno`` (counted in ``stats.faults``)."""
        with self._meta:
            self._fail_next += n

    def vanish(self, address: int, duration_s: float, **kw) -> None:
        """The chip at ``address`` stops answering for ``duration_s`` s (see the chip's ``vanish``)."""
        self.chips[address].vanish(duration_s, **kw)

    def cut_alert(self, address: int, duration_s: float, **kw) -> None:
        """The ALERT/RDY wire of the chip at ``address`` is cut for ``duration_s`` s (see the chip's ``cut_alert``)."""
        self.chips[address].cut_alert(duration_s, **kw)

    # ---- busio.I2C -----------------------------------------------------------------------
    def try_lock(self) -> bool:
        """Take the bus if nobody holds it (not re-entrant, as busio's Lockable)."""
        with self._meta:
            if self._owner is not None:
                return False
            self._owner = threading.get_ident()
            return True

    def unlock(self) -> None:
        with self._meta:
            self._owner = None

    def scan(self) -> list[int]:
        """Addresses that acknowledge, in order (as ``i2cdetect`` shows them)."""
        self._check()
        return sorted(a for a, c in self.chips.items() if c.acks(self.clock()))

    def writeto(self, address: int, buffer, *, start: int = 0, end: int | None = None, stop: bool = True) -> None:
        data = bytes(memoryview(buffer)[start:end])
        t0 = self._begin(address)
        t_end = self._transfer(address, t0, 11 + 9 * len(data), general_ok=True)
        if address == GENERAL_CALL:
            if data[:1] == bytes((_RESET,)):
                for chip in self.chips.values():
                    chip.general_call_reset(t_end)
        else:
            self.chips[address].i2c_write(data, t_end)
        self._wait_until(t_end)

    def readfrom_into(self, address: int, buffer, *, start: int = 0, end: int | None = None, stop: bool = True) -> None:
        view = memoryview(buffer)[start:end]
        t0 = self._begin(address)
        self._transfer(address, t0, 11 + 9 * len(view), ack_ns=t0)
        self._wait_until(t0)                                  # a read: see the module docstring
        view[:] = self.chips[address].i2c_read(len(view), t0)

    def writeto_then_readfrom(self, address: int, buffer_out, buffer_in, *, out_start: int = 0,
                              out_end: int | None = None, in_start: int = 0, in_end: int | None = None,
                              stop: bool = False) -> None:
        data = bytes(memoryview(buffer_out)[out_start:out_end])
        view = memoryview(buffer_in)[in_start:in_end]
        t0 = self._begin(address)
        head = 1 + 9 + 9 * len(data) + 1 + 9            # S, address, data, Sr, address
        self._transfer(address, t0, head + 9 * len(view) + 1, ack_ns=t0)
        self._wait_until(t0)                                  # a read: see the module docstring
        chip = self.chips[address]
        chip.i2c_write(data, t0)
        view[:] = chip.i2c_read(len(view), t0)

    def transfer(self, messages, issued_ns: int | None = None) -> list[bytes]:
        """One combined transfer, as Linux's I2C_RDWR ioctl makes it: ``messages`` is a list of
        (address, data: bytes) writes and (address, n: int) reads, joined by repeated starts and
        ended by one stop. Each write reaches its chip at its own end, each read takes the
        register as it starts, and the caller is held to the end of the whole transfer (the
        ioctl returns then). Returns the bytes of each read, in order. A NACK ends the transfer
        at that message (the writes before it were made); an injected fault fails it whole.
        ``issued_ns``: when the caller issued it, if earlier than now (a caller in another
        process: the transfer starts then, as the adapter starts it, not when the message got
        here); never later than now."""
        self._check()
        now = self.clock()
        if issued_ns is not None:
            now = min(now, issued_ns)
        with self._meta:
            self.stats.transactions += 1
            t0 = max(now, self._free_ns) if self.bus_hz else now
            fail = self._fail_next > 0 or (self._fault_rate > 0 and self._rng.random() < self._fault_rate)
            if fail:
                self._fail_next = max(self._fail_next - 1, 0)
                self.stats.faults += 1
        out, bits, t = [], 0, t0
        try:
            for address, what in messages:
                chip = self.chips.get(address)
                if chip is None or not chip.acks(t):
                    bits += 10
                    with self._meta:
                        self.stats.nacks[address] = self.stats.nacks.get(address, 0) + 1
                    raise OSError(self.nack_errno, os.strerror(self.nack_errno))
                read = isinstance(what, int)
                n = what if read else len(what)
                if read and not fail:                     # latched as it starts
                    out.append(chip.i2c_read(n, t))
                msg_bits = 1 + 9 + 9 * n                  # (repeated) start, address, data
                bits += msg_bits
                t += self._bits_ns(msg_bits)
                if not read and not fail:                 # made at its end
                    chip.i2c_write(bytes(what), t)
            bits += 1                                     # the stop
            if fail:
                raise OSError(self.fault_errno, os.strerror(self.fault_errno))
            return out
        finally:
            self._wait_until(self._charge(t0, bits))

    def deinit(self) -> None:
        """Release the bus and stop the chips' ALERT/RDY threads; the chips' logs stay."""
        self._closed = True
        for chip in self.chips.values():
            chip.close()

    def __enter__(self) -> "EmulatedI2C":
        return self

    def __exit__(self, *exc) -> None:
        self.deinit()

    # ---- the transaction path ------------------------------------------------------------
    def _check(self) -> None:
        if self._closed:
            raise ValueError("the I2C bus has been deinitialized and can no longer be used")
        if self.require_lock and self._owner != threading.get_ident():
            raise RuntimeError("I2C transfer without holding the bus lock: call try_lock() first")

    def _bits_ns(self, bits: int) -> int:
        return 0 if self.bus_hz is None else round(bits * 1e9 / self.bus_hz)

    def _begin(self, address: int) -> int:
        """Checks; the transaction's start time on the modelled bus, ns."""
        self._check()
        now = self.clock()
        with self._meta:
            self.stats.transactions += 1
            return max(now, self._free_ns) if self.bus_hz else now

    def _transfer(self, address: int, t0: int, bits: int, general_ok: bool = False, ack_ns: int | None = None) -> int:
        """Address phase, faults and bus time; returns the end time, ns. Raises the OSError the
        Linux driver would: a NACK (nobody at the address), or an injected fault. The general
        call (address 0) is acknowledged by every chip present, for a write only."""
        if address == GENERAL_CALL:
            present = general_ok and any(c.acks(t0) for c in self.chips.values())
        else:
            chip = self.chips.get(address)
            # the address is acknowledged 10 bits in; a read, which latches at its start, asks
            # then (asking later would move the chip past the moment the read returns its data)
            present = chip is not None and chip.acks(t0 + self._bits_ns(10) if ack_ns is None else ack_ns)
        if not present:
            t_end = self._charge(t0, 11)
            with self._meta:
                self.stats.nacks[address] = self.stats.nacks.get(address, 0) + 1
            self._wait_until(t_end)
            raise OSError(self.nack_errno, os.strerror(self.nack_errno))
        t_end = self._charge(t0, bits)
        with self._meta:
            fail = self._fail_next > 0 or (self._fault_rate > 0 and self._rng.random() < self._fault_rate)
            if fail:
                self._fail_next = max(self._fail_next - 1, 0)
                self.stats.faults += 1
        if fail:
            self._wait_until(t_end)
            raise OSError(self.fault_errno, os.strerror(self.fault_errno))
        return t_end

    def _charge(self, t0: int, bits: int) -> int:
        if not self.bus_hz:
            return t0
        t_end = t0 + self._bits_ns(bits)
        with self._meta:
            self._free_ns = t_end
            self.stats.busy_s += bits / self.bus_hz
        return t_end

    def _wait_until(self, t_ns: int) -> None:
        """Return no earlier than ``t_ns`` (a write's modelled end, a read's start), and
        without spinning: the caller sleeps, with 1 µs timer slack, so it returns about one
        thread wake-up (tens of µs) after, as a Pi's I2C driver does after its interrupt."""
        if not self.bus_hz:
            return
        if self.defer_waits:
            self.deferred_ns = max(self.deferred_ns, t_ns)
            return
        if self._sleep is time.sleep:
            precise_timers()
        spin = self.spin_ns
        while (left := t_ns - self.clock()) > spin:
            self._sleep((left - spin) / 1e9)
        while self.clock() < t_ns:        # the rest spun (spin_ns), letting go of the interpreter
            time.sleep(0)

    #: a board process (pi.emulator.remote) answers a transfer as soon as it is worked out and
    #: leaves the wait to the caller's side: the waits are not made, only the latest end kept
    #: (``deferred_ns``, monotonic ns; the caller resets it)
    defer_waits = False
    deferred_ns = 0
    #: the last part of each wait spun, ns (0: all slept). A board process (pi.emulator.remote)
    #: sets it: a sleep here ends one wake-up late (25-60 µs), a transfer on a Pi ends at its
    #: completion interrupt
    spin_ns = 0
