"""An emulated ADS1115 / ADS1015: the chip's registers and conversion timing (TI SBAS444, SBAS473).

Registers, as the I2C target sees them (big-endian 16-bit words):

* the pointer (write-only): the first byte of every write; bits 1:0 select 0 conversion,
  1 config, 2 Lo_thresh, 3 Hi_thresh. A 1-byte write only moves the pointer; a 3-byte write
  also writes that register. Reads return the register the pointer selects.
* config: OS[15] MUX[14:12] PGA[11:9] MODE[8] DR[7:5] COMP_MODE[4] COMP_POL[3] COMP_LAT[2]
  COMP_QUE[1:0]; power-on 0x8583. OS reads 1 when idle, 0 while a conversion (or its ~25 µs
  power-up) is under way, and 0 all the time in continuous mode, which never idles.
* conversion: the last completed result, signed; the ADS1015 left-justifies its 12 bits (the low
  4 bits read 0). Results clip at ±full scale (0x7FFF / 0x8000 for the ADS1115).
* Lo_thresh / Hi_thresh: power-on 0x8000 / 0x7FFF; Hi MSB 1 with Lo MSB 0 (and COMP_QUE ≠ 11)
  turns ALERT/RDY into a conversion-ready line.

Timing runs on the real monotonic clock (``time.monotonic_ns``) unless a ``clock`` is given, and
is worked out lazily: every access first completes the conversions that ended since the last one.
A conversion lasts ``(1 + osc_error) / DR`` s (the oscillator is within ±10 % on a real part).
Writing OS=1 in single-shot mode while idle starts one conversion after 25 µs of power-up.
Continuous mode converts back to back; the settings (MUX, PGA, DR) are latched when a conversion
starts, so a config write lets the conversion under way finish with the old ones (a new MUX
shows from the next result on; MODE=1 written then powers down after it). Writing OS=1 while a
conversion is under way has no effect (SBAS444 §9.4.2). The input is sampled at the middle of
the conversion window (the delta-sigma converter averages over it).

Every conversion is logged (:class:`Conversion`, with the MUX it really used), and every read of
the conversion register too (:class:`RegisterRead`, naming the conversion it returned), so a test
can prove which input each sample came from.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from collections.abc import Sequence
from typing import Callable, Iterable

from pi.chips import CHIPS, FS_V_BY_CODE

from .alert import AlertDriver, ComparatorState

POWER_ON_CONFIG = 0x8583
POWER_ON_LO_THRESH = 0x8000
POWER_ON_HI_THRESH = 0x7FFF
STARTUP_NS = 25_000                     # power-up before a single-shot conversion starts, ns
CONVERSION, CONFIG, LO_THRESH, HI_THRESH = range(4)
OS_BIT, MODE_BIT = 0x8000, 0x0100
#: PGA[11:9] → full scale, ±volts (101, 110 and 111 are all ±0.256 V)
FS_V = FS_V_BY_CODE
#: MUX[14:12] → (positive input, negative input or None for GND)
MUX_INPUTS = ((0, 1), (0, 3), (1, 3), (2, 3), (0, None), (1, None), (2, None), (3, None))
_MAX_CATCHUP = 4096                     # conversions computed one by one after a long idle

Input = Callable[[float], float]


@dataclass(frozen=True, slots=True)
class Conversion:
    """One completed conversion. Times are ``time.monotonic_ns`` values (or the chip's clock);
    ``volts`` is the differential input converted, V; ``value`` the conversion register as a
    signed 16-bit number (what the adafruit driver's ``read`` returns)."""

    seq: int
    t_start_ns: int
    t_end_ns: int
    mux: int
    fs_v: float
    volts: float
    value: int

    @property
    def input(self) -> int | None:
        """The single-ended input converted (0-3), or None for a differential MUX setting."""
        pos, neg = MUX_INPUTS[self.mux]
        return pos if neg is None else None


@dataclass(frozen=True, slots=True)
class RegisterRead:
    """One read of the conversion register at ``t_ns``: it returned ``value`` (signed 16-bit),
    the result of conversion ``seq`` (None before the first conversion) made with ``mux``."""

    t_ns: int
    seq: int | None
    mux: int | None
    value: int

    @property
    def input(self) -> int | None:
        if self.mux is None:
            return None
        pos, neg = MUX_INPUTS[self.mux]
        return pos if neg is None else None


class _Log(Sequence):
    """A log kept as plain tuples (which the garbage collector stops tracking, so a long log
    does not lengthen every full collection: the emulator runs beside a reader that must not
    stall), shown as records of ``kind``: ``log[-1].input``, ``list(log)``, slices."""

    def __init__(self, kind, size: int):
        self.kind, self._rows = kind, deque(maxlen=size)

    def append(self, row: tuple) -> None:
        self._rows.append(row)

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self.kind(*r) for r in list(self._rows)[i]]
        return self.kind(*self._rows[i])

    def __iter__(self):
        return (self.kind(*r) for r in list(self._rows))


class _Pending:
    """The conversion under way, with the settings latched at its start."""

    __slots__ = ("start_ns", "end_ns", "mux", "pga", "period_ns")

    def __init__(self, start_ns: int, period_ns: int, mux: int, pga: int):
        self.start_ns, self.end_ns = start_ns, start_ns + period_ns
        self.mux, self.pga, self.period_ns = mux, pga, period_ns


class _Window:
    """A time the chip is off the bus, ``from_ns`` to ``to_ns``; ``power_cycle``: it lost power."""

    __slots__ = ("from_ns", "to_ns", "power_cycle", "off_done")

    def __init__(self, from_ns: int, to_ns: int, power_cycle: bool):
        self.from_ns, self.to_ns, self.power_cycle, self.off_done = from_ns, to_ns, power_cycle, False


def _as_input(source) -> Input:
    if callable(source):
        return source
    if hasattr(source, "volts"):
        return source.volts
    v = float(source)
    return lambda t_s: v


def _signed16(word: int) -> int:
    return word - 0x10000 if word & 0x8000 else word


class EmulatedADS1x15:
    """Register-level model of one ADS1x15. Subclasses set ``type``, ``bits`` and ``rates``.

    ``inputs``: four analog inputs AIN0-AIN3, each a callable ``volts(t_s)`` (``t_s`` = seconds
    since ``epoch_ns``), an object with a ``volts(t_s)`` method, or a constant in volts.
    ``osc_error``: fractional oscillator error, + = slow (0.1 makes every conversion 10 % long).
    ``noise_lsb``: Gaussian noise, SD in LSB of the chip's own resolution (seeded by ``seed``).
    ``alert``: a gpiozero MockPin (driven with drive_low/drive_high), a line of an emulated GPIO
    chip (:mod:`.gpiochip`) or a callable(level: bool), True = high, for the ALERT/RDY line;
    driven from the shared ALERT thread, each change handed over as ``delivery`` says.
    ``clock``: ns clock (monotonic); ``log_size``: conversions and reads kept in the logs.
    """

    type = "ADS1x15"
    bits = 16
    rates: tuple[int, ...] = ()

    def __init__(self, address: int = 0x48, inputs: Iterable = (0.0, 0.0, 0.0, 0.0), *,
                 osc_error: float = 0.0, noise_lsb: float = 0.0, seed: int = 0, alert=None,
                 epoch_ns: int | None = None, clock: Callable[[], int] = time.monotonic_ns,
                 log_size: int = 200_000, name: str | None = None, delivery=None):
        if not 0x48 <= address <= 0x4B:
            raise ValueError(f"address: expected 0x48-0x4B (ADDR pin), got {address:#04x}")
        if not -0.5 < osc_error < 1.0:
            raise ValueError(f"osc_error: expected a fraction such as 0.1 (10 % slow), got {osc_error!r}")
        self.address, self.name = address, name or f"{self.type}@{address:#04x}"
        self.osc_error, self.noise_lsb = float(osc_error), float(noise_lsb)
        self.clock = clock
        self.epoch_ns = clock() if epoch_ns is None else int(epoch_ns)
        self.inputs: list[Input] = [_as_input(s) for s in inputs]
        if len(self.inputs) != 4:
            raise ValueError(f"inputs: expected 4 (AIN0-AIN3), got {len(self.inputs)}")
        self._conversions = _Log(Conversion, log_size)
        self.reads = _Log(RegisterRead, log_size)
        self.skipped_conversions = 0            # not computed one by one after a long idle
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._now_ns = self.epoch_ns
        self._vanish: list[_Window] = []
        self._cut: list[tuple[int, int]] = []     # (from ns, to ns): the ALERT/RDY wire cut
        self._off = False
        self._reset_registers()
        self._alert: AlertDriver | None = None
        if alert is not None:
            self.attach_alert(alert, delivery)

    # ---- state ---------------------------------------------------------------------------
    def _reset_registers(self) -> None:
        self._pointer = CONVERSION
        self._config = POWER_ON_CONFIG & ~OS_BIT
        self._lo, self._hi = POWER_ON_LO_THRESH, POWER_ON_HI_THRESH
        self._conv_reg = 0
        self._last: tuple | None = None      # the last conversion, as logged
        self._cur: _Pending | None = None
        self._seq = 0
        self._comparator = ComparatorState()

    def period_ns(self, config: int | None = None) -> int:
        """Length of one conversion at the config's data rate, ns (oscillator error included)."""
        dr = self.rates[((self._config if config is None else config) >> 5) & 7]
        return round(1e9 * (1.0 + self.osc_error) / dr)

    def _start(self, start_ns: int) -> _Pending:
        cfg = self._config
        return _Pending(start_ns, self.period_ns(cfg), (cfg >> 12) & 7, (cfg >> 9) & 7)

    def _advance(self, t_ns: int) -> int:
        """Bring the chip to ``t_ns`` (never backwards): power events, completed conversions."""
        t = max(t_ns, self._now_ns)
        for w in list(self._vanish):
            if w.power_cycle and not w.off_done and t >= w.from_ns:
                self._run_until(w.from_ns)              # what finished before the power went
                self._off, self._cur, w.off_done = True, None, True
                self._emit_level(w.from_ns, None)
            if t >= w.to_ns:
                self._vanish.remove(w)
                if w.power_cycle:
                    self._run_until(w.to_ns)
                    self._reset_registers()
                    self._off = False
        self._run_until(t)
        self._now_ns = t
        return t

    def _run_until(self, t: int) -> None:
        cur = self._cur
        if cur is not None and not self._config & MODE_BIT and t - cur.end_ns > _MAX_CATCHUP * cur.period_ns:
            n = (t - cur.end_ns) // cur.period_ns - 2           # jump over most of a long idle
            cur.start_ns += n * cur.period_ns
            cur.end_ns += n * cur.period_ns
            self._seq += n
            self.skipped_conversions += n
        while self._cur is not None and self._cur.end_ns <= t:
            done = self._cur
            self._complete(done)
            self._cur = None if self._config & MODE_BIT else self._start(done.end_ns)

    def _complete(self, c: _Pending) -> None:
        t_mid_s = ((c.start_ns + c.end_ns) / 2 - self.epoch_ns) / 1e9
        pos, neg = MUX_INPUTS[c.mux]
        volts = float(self.inputs[pos](t_mid_s)) - (0.0 if neg is None else float(self.inputs[neg](t_mid_s)))
        if not math.isfinite(volts):
            volts = 0.0
        half = 1 << (self.bits - 1)
        x = volts / FS_V[c.pga] * half
        if self.noise_lsb:
            x += self._rng.gauss(0.0, self.noise_lsb)
        code = min(max(math.floor(x + 0.5), -half), half - 1)
        value = code << (16 - self.bits)
        self._seq += 1
        conv = (self._seq, c.start_ns, c.end_ns, c.mux, FS_V[c.pga], volts, value)
        self._last, self._conv_reg = conv, value & 0xFFFF
        self._conversions.append(conv)
        if self._alert is not None:
            for t, active in self._comparator.on_conversion(c.end_ns, value, self._config, self._lo, self._hi):
                self._emit_level(t, active)

    def _emit_level(self, t_ns: int, active: bool | None) -> None:
        """Queue an ALERT/RDY change: asserted, deasserted, or None = released (pull-up)."""
        if self._alert is not None:
            high = True if active is None else active == bool(self._config & 0x0008)
            if any(a <= t_ns < b for a, b in self._cut):
                high = True                     # the wire is cut: the pull-up holds the line high
            self._alert.queue(t_ns, high)

    # ---- the I2C target (called by the bus) ----------------------------------------------
    def acks(self, t_ns: int) -> bool:
        """Whether the chip answers its address at ``t_ns`` (False while vanished)."""
        with self._lock:
            self._advance(t_ns)
            return not any(w.from_ns <= t_ns < w.to_ns for w in self._vanish)

    def i2c_write(self, data: bytes, t_ns: int) -> None:
        """A write transaction that ended at ``t_ns``: pointer, then optionally a register."""
        if not data:
            return                              # a quick write (probe): address ACK only
        with self._lock:
            t = self._advance(t_ns)
            self._pointer = data[0] & 3
            if len(data) < 3:
                return                          # one data byte is not a register write
            word = data[1] << 8 | data[2]
            cur = self._cur
            if self._pointer == CONFIG:
                self._write_config(word, t)
            elif self._pointer == LO_THRESH:
                self._lo = word
            elif self._pointer == HI_THRESH:
                self._hi = word
            if self._alert is not None and self._cur is not cur:
                self._alert.poke()              # a conversion started: the next edge moved

    def _write_config(self, word: int, t: int) -> None:
        self._config = word & ~OS_BIT
        if word & MODE_BIT:
            if word & OS_BIT and self._cur is None:
                self._cur = self._start(t + STARTUP_NS)
                if self._comparator.ready_mode(self._config, self._lo, self._hi):
                    self._emit_level(t, False)  # RDY deasserts while the conversion runs
        elif self._cur is None:
            self._cur = self._start(t + STARTUP_NS)
        if word & 3 == 3:
            self._comparator.reset()
            self._emit_level(t, None)           # comparator off: the line is released

    def i2c_read(self, n: int, t_ns: int) -> bytes:
        """A read of ``n`` bytes at ``t_ns`` from the register the pointer selects."""
        with self._lock:
            t = self._advance(t_ns)
            p = self._pointer
            if p == CONVERSION:
                word = self._conv_reg
                last = self._last
                self.reads.append((t, last[0] if last else None, last[3] if last else None, _signed16(word)))
                if self._comparator.on_read(self._config, self._lo, self._hi):
                    self._emit_level(t, False)  # a latched alert clears on reading the data
            elif p == CONFIG:
                word = self._config | (OS_BIT if self._cur is None else 0)
            else:
                word = self._lo if p == LO_THRESH else self._hi
            pair = bytes((word >> 8, word & 0xFF))
            return (pair * (n // 2 + 1))[:n]

    def general_call_reset(self, t_ns: int) -> None:
        """The I2C general-call reset (address 0x00, byte 0x06): back to power-on state."""
        with self._lock:
            self._advance(t_ns)
            self._reset_registers()
            self._emit_level(t_ns, None)

    # ---- for tests and the tools ---------------------------------------------------------
    def register(self, pointer: int) -> int:
        """A register's value now, as a read would return it (without logging a read)."""
        with self._lock:
            self._advance(self.clock())
            return {CONVERSION: self._conv_reg, CONFIG: self._config | (OS_BIT if self._cur is None else 0),
                    LO_THRESH: self._lo, HI_THRESH: self._hi}[pointer & 3]

    @property
    def powered(self) -> bool:
        """False while a power-cycling :meth:`vanish` has the chip switched off."""
        with self._lock:
            self._advance(self.clock())
            return not self._off

    def set_input(self, index: int, source) -> None:
        """Drive AIN``index`` from a callable ``volts(t_s)``, a ``.volts`` object or a constant."""
        with self._lock:
            self.inputs[index] = _as_input(source)

    def vanish(self, duration_s: float, *, after_s: float = 0.0, power_cycle: bool = False) -> None:
        """Stop answering the address for ``duration_s`` s, starting ``after_s`` s from now. With
        ``power_cycle`` the chip also loses power: it stops converting and returns in its
        power-on state (config 0x8583, single-shot, idle); otherwise only the bus link is lost."""
        with self._lock:
            t0 = self._advance(self.clock()) + round(after_s * 1e9)
            self._vanish.append(_Window(t0, t0 + round(duration_s * 1e9), bool(power_cycle)))
            if self._alert is not None:
                self._alert.poke()

    def cut_alert(self, duration_s: float, *, after_s: float = 0.0) -> None:
        """Cut the ALERT/RDY wire for ``duration_s`` s from ``after_s`` s from now: the chip
        converts and answers on the bus as ever, but no pulse reaches the Pi (the line stays
        high on its pull-up): a loose ALERT/RDY wire."""
        with self._lock:
            t0 = self._advance(self.clock()) + round(after_s * 1e9)
            self._cut.append((t0, t0 + round(duration_s * 1e9)))

    @property
    def conversions(self) -> Sequence[Conversion]:
        """Every conversion completed up to now, oldest first (the last ``log_size``)."""
        with self._lock:
            self._advance(self.clock())
            return self._conversions

    def log_since(self, t_ns: int) -> list[Conversion]:
        """The conversions that ended at or after ``t_ns``, up to now."""
        with self._lock:
            self._advance(self.clock())
            return [c for c in self._conversions if c.t_end_ns >= t_ns]

    def next_event_ns(self) -> int | None:
        """When the next conversion ends or a vanish window opens or closes (for the ALERT thread)."""
        with self._lock:
            times = [self._cur.end_ns] if self._cur is not None else []
            times += [t for w in self._vanish for t in (w.from_ns, w.to_ns) if t > self._now_ns]
            return min(times) if times else None

    def upcoming_edge(self) -> tuple[int, bool] | None:
        """The ALERT/RDY change the conversion under way makes when it ends, as (time ns, level
        high?), or None when there is none to foretell: only a continuous-mode conversion-ready
        pulse is, as nothing the bus can do moves the end of a conversion under way (a config
        write applies from the next one), while a power cut before then would. For a delivery
        model that hands an edge over ahead of its time, with its release time attached
        (:class:`pi.emulator.delivery.KernelEvents` ``ahead_ns``)."""
        with self._lock:
            cur = self._cur
            if (cur is None or self._alert is None or self._config & MODE_BIT or cur.end_ns <= self._now_ns
                    or not self._comparator.ready_mode(self._config, self._lo, self._hi)):
                return None
            if any(w.power_cycle and not w.off_done and w.from_ns <= cur.end_ns for w in self._vanish):
                return None
            if any(a <= cur.end_ns < b for a, b in self._cut):
                return None                     # no pulse through a cut wire
            return cur.end_ns, bool(self._config & 0x0008)     # the active level: low unless COMP_POL

    def attach_alert(self, pin, delivery=None) -> None:
        """Drive ALERT/RDY onto ``pin`` (a gpiozero MockPin, a line of an emulated GPIO chip or a
        callable(level: bool)); ``delivery``: when each change is handed over
        (:mod:`pi.emulator.delivery`; None: at once)."""
        with self._lock:
            if self._alert is not None:
                self._alert.close()
            self._alert = AlertDriver(self, pin, delivery)
        self._alert.start()

    def close(self) -> None:
        """Stop the ALERT/RDY thread, if any. The logs stay readable."""
        if self._alert is not None:
            self._alert.close()


class EmulatedADS1115(EmulatedADS1x15):
    """The 16-bit ADS1115: DR[7:5] → 8 … 860 samples/s (pi.chips)."""

    type = "ADS1115"
    bits = CHIPS[type].bits
    rates = CHIPS[type].rates_by_code


class EmulatedADS1015(EmulatedADS1x15):
    """The 12-bit ADS1015 (result left-justified): DR → 128 … 3300 samples/s (pi.chips)."""

    type = "ADS1015"
    bits = CHIPS[type].bits
    rates = CHIPS[type].rates_by_code


CHIP_TYPES = {"ADS1115": EmulatedADS1115, "ADS1015": EmulatedADS1015}
