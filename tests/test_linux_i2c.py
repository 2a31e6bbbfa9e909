"""LinuxI2C, the Pi's bus through i2c-dev and smbus2, over a fake SMBus that carries each ioctl
to the emulated chips; and default_bus's choice of bus (or its reason for having none)."""

import ctypes
import errno
import sys
import threading
import time
import types

import numpy as np
import pytest
from gpiozero.pins.mock import MockFactory
from smbus2 import i2c_msg
from smbus2.smbus2 import I2C_M_RD

from analysis.errors import InsoleError
from pi.emulator import build_bus
from pi.kit import load_kit
from pi.sources import ads
from pi.sources.ads import AdsSource, default_bus
from pi.sources.linux_i2c import LinuxI2C
from test_ads_source import _labels_right, _paced_frames, _paced_labels_right, _tagged_inputs


@pytest.fixture(scope="module")
def kit():
    return load_kit()


class FakeSMBus:
    """smbus2.SMBus as i2c-dev answers it, over an emulated bus: each ioctl is one transaction
    there, made holding the emulated bus's lock (two at once fail the test: the caller's lock
    did not keep them apart). ``calls`` records what was asked: ("quick", addr),
    ("read_byte", addr), ("rdwr", ((addr, is_read, len), …))."""

    def __init__(self, emu, busy=()):
        self.emu, self.busy = emu, set(busy)
        self.calls = []
        self.closed = False

    def _on_bus(self, fn, *args):
        assert not self.closed, "a transfer on a closed SMBus"
        assert self.emu.try_lock(), "two transfers on the bus at once"
        try:
            return fn(*args)
        finally:
            self.emu.unlock()

    def _slave(self, addr):      # I2C_SLAVE: EBUSY where a kernel driver has the address
        if addr in self.busy:
            raise OSError(errno.EBUSY, "Device or resource busy")

    def write_quick(self, addr, force=None):
        self.calls.append(("quick", addr))
        self._slave(addr)
        self._on_bus(self.emu.writeto, addr, b"")

    def read_byte(self, addr, force=None):
        self.calls.append(("read_byte", addr))
        self._slave(addr)
        buf = bytearray(1)
        self._on_bus(self.emu.readfrom_into, addr, buf)
        return buf[0]

    def i2c_rdwr(self, *msgs):
        shape = tuple((m.addr, bool(m.flags & I2C_M_RD), m.len) for m in msgs)
        self.calls.append(("rdwr", shape))
        if [r for _, r, _ in shape] == [False]:
            self._on_bus(self.emu.writeto, msgs[0].addr, bytes(msgs[0]))
        elif [r for _, r, _ in shape] == [True]:
            buf = bytearray(msgs[0].len)
            self._on_bus(self.emu.readfrom_into, msgs[0].addr, buf)
            ctypes.memmove(msgs[0].buf, bytes(buf), len(buf))
        elif [r for _, r, _ in shape] == [False, True] and msgs[0].addr == msgs[1].addr:
            buf = bytearray(msgs[1].len)
            self._on_bus(self.emu.writeto_then_readfrom, msgs[0].addr, bytes(msgs[0]), buf)
            ctypes.memmove(msgs[1].buf, bytes(buf), len(buf))
        else:
            raise AssertionError(f"messages the adapter does not send: {shape}")

    def close(self):
        self.closed = True


def test_the_kit_read_through_linux_i2c_has_every_label_right(kit):
    bus = build_bus(kit)
    fake = FakeSMBus(bus)
    src = AdsSource(kit, LinuxI2C(smbus=fake), "single")
    _, values = src.read(150)            # ~1 s: the simulated runner lands from 0.5 s
    _labels_right(src, bus, values)
    assert values.max() > 1000 and src.bus_errors == 0
    # the driver's probe of each chip is a quick write, as i2cdetect's
    assert ("quick", 0x48) in fake.calls and ("quick", 0x49) in fake.calls
    # each register read is one ioctl: pointer write, repeated start, 2-byte read
    assert ("rdwr", ((0x48, False, 1), (0x48, True, 2))) in fake.calls
    assert ("rdwr", ((0x49, False, 3),)) in fake.calls           # a config write: pointer + word
    assert not any(c[0] == "rdwr" and any(n == 0 for _, _, n in c[1]) for c in fake.calls)


def test_continuous_mode_through_linux_i2c_keeps_labels_right_across_threads(kit):
    # the ALERT/RDY callbacks and the reader share the bus: the lock must keep them apart
    pins = MockFactory()
    bus = build_bus(kit, pin_factory=pins)
    _tagged_inputs(bus, kit)
    src = AdsSource(kit, LinuxI2C(smbus=FakeSMBus(bus)), pin_factory=pins)
    try:
        assert src.mode == "continuous"
        stamps, rows = _paced_frames(src, 150)
    finally:
        src.close()
        bus.deinit()
    _paced_labels_right(src, bus, stamps, np.array(rows))
    assert src.bus_errors_total == 0


def test_scan_reads_one_byte_per_address_and_finds_the_kit(kit):
    bus = build_bus(kit)
    fake = FakeSMBus(bus)
    i2c = LinuxI2C(smbus=fake)
    assert i2c.scan() == [0x48, 0x49]
    assert {c[0] for c in fake.calls} == {"read_byte"}          # reads only: no chip is written
    assert [c[1] for c in fake.calls] == list(range(0x08, 0x78))
    assert bus.stats.nacks.get(0x4A) == 1
    # an address a kernel driver holds (i2cdetect's UU) is there: opening it will say why not usable
    assert LinuxI2C(smbus=FakeSMBus(bus, busy={0x4A})).scan() == [0x48, 0x49, 0x4A]


def test_an_absent_chip_is_the_kernels_remote_io_error(kit):
    i2c = LinuxI2C(smbus=FakeSMBus(build_bus(kit)))
    for transfer in (lambda: i2c.writeto(0x4B, bytes([1, 0x85, 0x83])),
                     lambda: i2c.readfrom_into(0x4B, bytearray(2)),
                     lambda: i2c.writeto_then_readfrom(0x4B, bytes([0]), bytearray(2)),
                     lambda: i2c.writeto(0x4B, b"")):
        with pytest.raises(OSError) as info:
            transfer()
        assert info.value.errno == errno.EREMOTEIO
    with pytest.raises(InsoleError, match=r"no ADS1115 answers at 0x4b \(chip 'right'\)"):
        from dataclasses import replace
        AdsSource(replace(kit, chips=(kit.chips[0], replace(kit.chips[1], address=0x4B))), i2c, "single")


def test_the_drivers_zero_length_probe_and_buffer_slices(kit):
    from adafruit_bus_device.i2c_device import I2CDevice
    bus = build_bus(kit)
    fake = FakeSMBus(bus)
    i2c = LinuxI2C(smbus=fake)
    I2CDevice(i2c, 0x48)                                          # probes with writeto(0x48, b"")
    assert fake.calls == [("quick", 0x48)]
    with pytest.raises(ValueError, match="No I2C device at address: 0x4a"):
        I2CDevice(i2c, 0x4A)
    # slices: only buffer[start:end] goes out, only buffer_in[in_start:in_end] is filled
    assert i2c.try_lock()
    i2c.writeto(0x48, bytes([9, 1, 0x85, 0x83, 9]), start=1, end=4)      # config: single-shot A0
    back = bytearray(b"\xee" * 4)
    i2c.writeto_then_readfrom(0x48, bytes([7, 1]), back, out_start=1, in_start=1, in_end=3)
    assert back[0] == back[3] == 0xee and (back[1] & 0x7F, back[2]) == (0x05, 0x83)   # bit 15: OS
    part = bytearray(b"\xee" * 3)
    i2c.readfrom_into(0x48, part, start=1)                        # the pointer still at config
    assert part[0] == 0xee and (part[1] & 0x7F, part[2]) == (0x05, 0x83)
    i2c.unlock()


def test_the_lock_is_real_and_never_waits():
    i2c = LinuxI2C(smbus=types.SimpleNamespace(close=lambda: None))
    assert i2c.try_lock()
    other, waited = [], []

    def attempt():
        t0 = time.perf_counter()
        other.append(i2c.try_lock())
        waited.append(time.perf_counter() - t0)
    t = threading.Thread(target=attempt)
    t.start()
    t.join(1.0)
    assert other == [False] and waited[0] < 0.05                   # held: refused at once
    assert not i2c.try_lock()                                     # not re-entrant either
    i2c.unlock()
    t = threading.Thread(target=lambda: other.append(i2c.try_lock()))
    t.start()
    t.join(1.0)
    assert other == [False, True]
    i2c.unlock()
    i2c.unlock()                                                  # a free bus: nothing to do (as Blinka)
    assert i2c.try_lock()


def test_deinit_closes_the_file_once_and_the_bus_refuses_use(kit):
    fake = FakeSMBus(build_bus(kit))
    with LinuxI2C(smbus=fake) as i2c:
        assert i2c.scan() == [0x48, 0x49]
    assert fake.closed
    with pytest.raises(ValueError, match="deinitialized"):
        i2c.writeto(0x48, bytes([1]))
    with pytest.raises(ValueError, match="deinitialized"):
        i2c.scan()
    i2c.deinit()


def test_writes_are_i2c_msgs_smbus2_can_pass_to_the_kernel():
    sent = []
    i2c = LinuxI2C(smbus=types.SimpleNamespace(i2c_rdwr=lambda *m: sent.append(m), close=lambda: None))
    i2c.writeto(0x48, bytearray([1, 2, 3]))
    (msg,), = sent
    assert isinstance(msg, i2c_msg) and msg.addr == 0x48 and not msg.flags & I2C_M_RD and bytes(msg) == b"\1\2\3"


# -- default_bus ---------------------------------------------------------------------------------
class _SMBusOpened:
    paths = []

    def __init__(self, path):
        self.paths.append(path)

    def close(self):
        pass


def _board(monkeypatch, i2c=None, error=None):
    """A stand-in for Blinka's ``board``: ``I2C()`` returns ``i2c`` or raises ``error``; it
    records whether it was called. ``error`` ImportError at import: the module itself fails."""
    called = []

    def I2C():
        called.append(True)
        if error is not None:
            raise error
        return i2c
    monkeypatch.setitem(sys.modules, "board", types.SimpleNamespace(I2C=I2C))
    return called


@pytest.fixture
def dev(tmp_path, monkeypatch):
    """I2C_DEV points at a file in tmp_path (absent until the test creates it); off a Pi
    unless the test says otherwise; smbus2.SMBus records the paths it is asked to open."""
    path = tmp_path / "i2c-1"
    monkeypatch.setattr(ads, "I2C_DEV", str(path))
    monkeypatch.setattr("pi.feedback.on_raspberry_pi", lambda: False)
    monkeypatch.setattr("smbus2.SMBus", _SMBusOpened)
    _SMBusOpened.paths = []
    return path


def test_a_pi_with_i2c_on_gets_linux_i2c_even_where_blinka_cannot_import(dev, monkeypatch):
    dev.touch()
    monkeypatch.setattr("pi.feedback.on_raspberry_pi", lambda: True)
    called = _board(monkeypatch, error=ImportError("The platform library 'gpiod' was not found"))
    i2c = default_bus()
    assert isinstance(i2c, LinuxI2C) and i2c.bus == str(dev)
    assert _SMBusOpened.paths == [str(dev)] and called == []


def test_a_pi_with_i2c_off_is_told_so_and_blinka_is_not_blamed(dev, monkeypatch):
    monkeypatch.setattr("pi.feedback.on_raspberry_pi", lambda: True)
    called = _board(monkeypatch, error=ImportError("The platform library 'gpiod' was not found"))
    with pytest.raises(InsoleError) as info:
        default_bus()
    assert str(info.value) == (f"no I2C bus here ({dev} missing: is I2C on? sudo raspi-config, Interface "
                               f"Options, I2C (or ./setup.sh), then reboot); to try without a kit: --source emulated")
    assert called == [] and "gpiod" not in str(info.value)


def test_a_bus_that_cannot_be_opened_says_why(dev, monkeypatch):
    dev.touch()
    monkeypatch.setattr("pi.feedback.on_raspberry_pi", lambda: True)

    def denied(path):
        raise PermissionError(errno.EACCES, "Permission denied", path)
    monkeypatch.setattr("smbus2.SMBus", denied)
    _board(monkeypatch, error=ImportError("The platform library 'gpiod' was not found"))
    with pytest.raises(InsoleError) as info:
        default_bus()
    msg = str(info.value)
    assert msg.startswith(f"no I2C bus here (cannot open {dev}: Permission denied: add yourself to the i2c group")
    assert "Blinka's board.I2C() failed too: ImportError: The platform library 'gpiod' was not found" in msg
    assert len(msg.splitlines()) == 1


def test_off_a_pi_blinka_is_tried_and_the_machines_own_buses_left_alone(dev, monkeypatch):
    dev.touch()                          # a laptop with i2c-dev loaded: its buses are not the kit's
    ft232h = object()
    called = _board(monkeypatch, i2c=ft232h)
    assert default_bus() is ft232h and called == [True]
    _board(monkeypatch, error=RuntimeError("no FT232H found"))
    with pytest.raises(InsoleError, match=r"^no I2C bus here \(not a Raspberry Pi; Blinka's board.I2C\(\) "
                                          r"failed too: RuntimeError: no FT232H found\)"):
        default_bus()
    _board(monkeypatch, error=AttributeError("module 'board' has no attribute 'I2C'"))   # a laptop
    with pytest.raises(InsoleError) as info:
        default_bus()
    assert str(info.value) == "no I2C bus here (not a Raspberry Pi); to try without a kit: --source emulated"
    assert info.value.reason == "not a Raspberry Pi"
    assert _SMBusOpened.paths == []


def test_find_kit_keeps_the_reason_and_closes_the_bus_it_scanned(kit, dev, monkeypatch):
    from pi.runtime import find_kit
    monkeypatch.setattr("pi.feedback.on_raspberry_pi", lambda: True)
    assert find_kit(kit) == (f"no insole kit found (no I2C bus here: {dev} missing: is I2C on? sudo raspi-config, "
                             f"Interface Options, I2C (or ./setup.sh), then reboot)")
    fake = FakeSMBus(build_bus(kit))
    assert find_kit(kit, lambda: LinuxI2C(smbus=fake)) is None
    assert fake.closed
