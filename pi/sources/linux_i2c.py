"""The Pi's I2C bus through Linux i2c-dev (``/dev/i2c-N``) and smbus2, with the busio.I2C interface.

Blinka's ``board.I2C()`` only opens ``/dev/i2c-1``, but ``import board`` on a Raspberry Pi first
needs a pin library (current Blinka imports ``gpiod`` there without declaring it); when that
import fails there is no bus at all. :class:`LinuxI2C` is the bus alone: what adafruit_ads1x15
(through adafruit_bus_device) and :class:`pi.sources.ads.AdsSource` use, and nothing else.

* ``writeto``: one I2C_RDWR write message; an empty write (adafruit_bus_device's probe for a
  chip) is an SMBus quick write, as ``i2cdetect`` sends one;
* ``readfrom_into``: one read message;
* ``writeto_then_readfrom``: one I2C_RDWR ioctl with a write and a read message, so the read
  follows a repeated start (no stop between them, nobody else's transfer in between);
* ``scan``: a one-byte read at each address 0x08-0x77, as ``i2cdetect -r``. An ADS1x15 answers
  both a read and a quick write; a read changes no chip's state (it returns a byte of the
  register the pointer is at), where a quick write is a write to every address on the bus,
  which ``i2cdetect``'s manual warns can corrupt some EEPROMs (Blinka tries the quick write
  first, then a read). An address a kernel driver has claimed (``i2cdetect``'s ``UU``, e.g.
  after ``dtoverlay=ads1115``) is reported present: a chip is there, and opening it then fails
  with "Device or resource busy", which names the cause;
* ``try_lock``/``unlock``: a real lock (non-blocking, as busio's), shared by every thread of the
  process (the sampler and the ALERT/RDY callbacks); ``unlock`` of a free bus does nothing, as
  in Blinka and the emulated bus.

Errors stay the ``OSError`` the kernel raises: on the Pi (i2c-bcm2835) ``EREMOTEIO`` ("Remote
I/O error") when nobody acknowledges, ``EIO``/``ETIMEDOUT`` on a disturbed bus; AdsSource counts
and retries them. ``smbus``: any object with smbus2's ``i2c_rdwr``, ``write_quick``,
``read_byte`` and ``close`` (tests pass a fake one); by default ``smbus2.SMBus(bus)``.
"""

from __future__ import annotations

import errno
import threading

SCAN_FIRST, SCAN_LAST = 0x08, 0x77      # the 7-bit addresses devices may use (i2cdetect's range)


class LinuxI2C:
    """I2C bus ``bus`` (1: the Pi's header pins 3 and 5) with the busio.I2C interface."""

    def __init__(self, bus: int | str = 1, *, smbus=None):
        from smbus2 import SMBus, i2c_msg
        if smbus is None:
            smbus = SMBus(bus)           # OSError: no /dev/i2c-N, or no permission to open it
        self._msg = i2c_msg
        self.bus = bus
        self._smbus = smbus
        self._lock = threading.Lock()
        self._closed = False

    # ---- the lock ------------------------------------------------------------------------
    def try_lock(self) -> bool:
        """Take the bus if nobody holds it; never waits (callers retry, as with busio)."""
        return self._lock.acquire(blocking=False)

    def unlock(self) -> None:
        if self._lock.locked():
            self._lock.release()

    # ---- transfers -----------------------------------------------------------------------
    def scan(self) -> list[int]:
        """Addresses that acknowledge a one-byte read, in order (see the module notes)."""
        self._check()
        found = []
        for address in range(SCAN_FIRST, SCAN_LAST + 1):
            try:
                self._smbus.read_byte(address)
            except OSError as e:
                if e.errno != errno.EBUSY:           # EBUSY: a kernel driver holds the chip
                    continue
            found.append(address)
        return found

    def writeto(self, address: int, buffer, *, start: int = 0, end: int | None = None,
                stop: bool = True) -> None:
        """Write ``buffer[start:end]`` to ``address`` (``stop`` is accepted and ignored: i2c-dev
        ends every transfer with a stop)."""
        self._check()
        data = bytes(memoryview(buffer)[start:end])
        if not data:
            self._smbus.write_quick(address)         # adafruit_bus_device's probe for a chip
            return
        self._smbus.i2c_rdwr(self._msg.write(address, data))

    def readfrom_into(self, address: int, buffer, *, start: int = 0, end: int | None = None,
                      stop: bool = True) -> None:
        """Read ``len(buffer[start:end])`` bytes from ``address`` into that part of ``buffer``."""
        self._check()
        view = memoryview(buffer)[start:end]
        msg = self._msg.read(address, len(view))
        self._smbus.i2c_rdwr(msg)
        view[:] = bytes(msg)

    def writeto_then_readfrom(self, address: int, buffer_out, buffer_in, *, out_start: int = 0,
                              out_end: int | None = None, in_start: int = 0, in_end: int | None = None,
                              stop: bool = False) -> None:
        """Write ``buffer_out[out_start:out_end]``, then after a repeated start read into
        ``buffer_in[in_start:in_end]``: one I2C_RDWR ioctl, two messages."""
        self._check()
        data = bytes(memoryview(buffer_out)[out_start:out_end])
        view = memoryview(buffer_in)[in_start:in_end]
        read = self._msg.read(address, len(view))
        self._smbus.i2c_rdwr(self._msg.write(address, data), read)
        view[:] = bytes(read)

    def prepare(self, address: int, writes, read: int = 0) -> "PreparedTransfer":
        """One combined transfer built once and made as often as asked: each of ``writes`` (bytes)
        in turn, then a read of ``read`` bytes, joined by repeated starts in one I2C_RDWR
        ioctl. The continuous reader makes one per input (config write, pointer, result read),
        so a conversion costs one system call and no Python to build its messages. It takes
        no lock: the caller holds the bus."""
        self._check()
        return PreparedTransfer(self._smbus, address, writes, read)

    # ---- life ----------------------------------------------------------------------------
    def deinit(self) -> None:
        """Close the bus's file (further transfers raise ValueError); calling it again is harmless."""
        if not self._closed:
            self._closed = True
            self._smbus.close()

    def __enter__(self) -> "LinuxI2C":
        return self

    def __exit__(self, *exc) -> None:
        self.deinit()

    def _check(self) -> None:
        if self._closed:
            raise ValueError("the I2C bus has been deinitialized and can no longer be used")

    def __repr__(self) -> str:
        return f"LinuxI2C({self.bus!r})"


class PreparedTransfer:
    """A combined I2C transfer ready to go (:meth:`LinuxI2C.prepare`): calling it makes the
    transfer and returns the bytes read (``b""`` with no read). Raises the kernel's OSError.

    The kernel's adapter driver decides which combinations it takes: the Pi 0-4's i2c-bcm2835
    only reads in the last message (EOPNOTSUPP otherwise), the Pi 5's i2c-designware wants one
    address throughout; writes first and one read last suits both."""

    __slots__ = ("_ioctl", "_data", "_buffer", "_msgs")

    def __init__(self, smbus, address: int, writes, read: int = 0):
        import ctypes
        from smbus2 import i2c_msg
        from smbus2.smbus2 import I2C_M_RD, I2C_RDWR, i2c_rdwr_ioctl_data
        msgs = [i2c_msg.write(address, bytes(w)) for w in writes]
        self._buffer = None
        if read:
            self._buffer = ctypes.create_string_buffer(read)
            msgs.append(i2c_msg(addr=address, flags=I2C_M_RD, len=read, buf=self._buffer))
        self._msgs = msgs                      # their buffers must live as long as the transfer
        self._data = i2c_rdwr_ioctl_data.create(*msgs)
        ioctl = getattr(smbus, "ioctl_rdwr", None)      # an emulated i2c-dev (pi.emulator.i2cdev)
        if ioctl is None:
            import fcntl
            import functools
            ioctl = functools.partial(fcntl.ioctl, smbus.fd, I2C_RDWR)
        self._ioctl = ioctl

    def __call__(self) -> bytes:
        self._ioctl(self._data)
        return self._buffer.raw if self._buffer is not None else b""
