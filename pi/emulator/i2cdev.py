"""An emulated Linux i2c-dev (``/dev/i2c-1``) for :class:`pi.sources.linux_i2c.LinuxI2C`: the
product's own bus code, smbus2's message structures included, runs against the emulated chips
as it does against the kernel on a Pi.

:class:`EmulatedSMBus` has what LinuxI2C uses of ``smbus2.SMBus``: ``i2c_rdwr(*msgs)`` (smbus2's
``i2c_msg`` structures), ``ioctl_rdwr(data)`` (a prepared ``i2c_rdwr_ioctl_data``, what LinuxI2C
passes to ``ioctl(fd, I2C_RDWR, …)`` on a Pi), ``write_quick``, ``read_byte`` and ``close``.
Each I2C_RDWR is one combined transfer on the emulated bus (:meth:`EmulatedI2C.transfer`).

The kernel's adapter driver decides which combinations of messages it accepts, and the model
keeps its rules (``driver``):

* ``bcm2835`` (Pi Zero to Pi 4, ``drivers/i2c/busses/i2c-bcm2835.c``): repeated starts between
  messages, but every message except the last must be a write ("only one read message
  supported, has to be last"): EOPNOTSUPP otherwise;
* ``designware`` (Pi 5, RP1, ``i2c-designware-master.c``): any order, but every message to one
  address ("invalid target address") and none of zero length: EINVAL otherwise;
* None: anything goes.
"""

from __future__ import annotations

import ctypes
import errno
import os
import threading
import time

from .boards import emulator_work

I2C_M_RD = 0x0001


def _refuse(code: int) -> OSError:
    return OSError(code, os.strerror(code))


class EmulatedSMBus:
    """An ``smbus2.SMBus`` stand-in on an :class:`~pi.emulator.bus.EmulatedI2C`."""

    def __init__(self, bus, driver: str | None = "bcm2835"):
        if driver not in (None, "bcm2835", "designware"):
            raise ValueError(f"driver: expected bcm2835, designware or None, got {driver!r}")
        self.bus, self.driver = bus, driver
        self.fd = -1
        self.transfers = 0
        self._lock = threading.Lock()

    def _check_rules(self, msgs: list[tuple[int, int, int]]) -> None:
        """``msgs``: (address, flags, length) per message, as the driver sees them."""
        if self.driver == "bcm2835":
            if any(flags & I2C_M_RD for _, flags, _ in msgs[:-1]):
                raise _refuse(errno.EOPNOTSUPP)
        elif self.driver == "designware":
            if len({a for a, _, _ in msgs}) > 1 or any(n == 0 for _, _, n in msgs):
                raise _refuse(errno.EINVAL)

    def _run(self, msgs) -> None:
        """Messages as (address, flags, length, pointer to the buffer)."""
        self._check_rules([(a, f, n) for a, f, n, _ in msgs])
        plan = [(a, n if f & I2C_M_RD else ctypes.string_at(buf, n)) for a, f, n, buf in msgs]
        reads = iter(self._transfer(plan))
        self.transfers += 1
        for a, f, n, buf in msgs:
            if f & I2C_M_RD:
                ctypes.memmove(buf, next(reads), n)

    @emulator_work
    def i2c_rdwr(self, *msgs) -> None:
        self._run([(m.addr, m.flags, m.len, m.buf) for m in msgs])

    @emulator_work
    def ioctl_rdwr(self, data) -> None:
        """``ioctl(fd, I2C_RDWR, data)`` with a prepared ``smbus2.i2c_rdwr_ioctl_data``."""
        self._run([(m.addr, m.flags, m.len, m.buf) for m in (data.msgs[i] for i in range(data.nmsgs))])

    @emulator_work
    def write_quick(self, address: int) -> None:
        self._transfer([(address, b"")])

    @emulator_work
    def read_byte(self, address: int) -> int:
        return self._transfer([(address, 1)])[0][0]

    def _transfer(self, plan, issued_ns: int | None = None) -> list[bytes]:
        """The kernel serialises the transfers of one adapter: so does this (the emulated bus
        wants its lock held by the thread that transfers)."""
        with self._lock:
            while not self.bus.try_lock():     # held only by someone using the bus directly
                time.sleep(20e-6)
            try:
                return self.bus.transfer(plan, issued_ns)
            finally:
                self.bus.unlock()

    def close(self) -> None:
        pass
