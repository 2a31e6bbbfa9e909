"""A whole emulated kit: the chips of a kit configuration on one emulated bus, their analog
inputs driven by the simulated runner.

:class:`RunnerInputs` runs a :class:`pi.simulator.SimulatedRunner` against the wall clock: the
input voltage of a sensor at ``t_s`` (seconds since ``epoch_ns``) is its stored value in the
runner's frame at ``t_s`` turned back into volts, V = counts × fs_v / 2**15 (counts are the
16-bit register value; the runner made them from newtons with
``analysis.calibration.fsr_divider_counts`` and the kit's calibrations, plus its noise and
drift). So an ADS1115 that converts at a frame's time returns exactly the runner's counts, and an
ADS1015 the same to 12 bits. Inputs no sensor is wired to read 0 V.

:func:`build_bus` builds everything from a :class:`pi.kit.Kit`::

    bus = build_bus(kit)                        # chips at the kit's addresses, sim-driven inputs
    ads = ADS1115(bus, address=0x48)            # the real driver, unchanged
    bus.chip(0x48).conversions                  # what each conversion really converted
"""

from __future__ import annotations

import threading
import time
from typing import Callable

import numpy as np

from pi.simulator import SimSettings, SimulatedRunner

from .ads1x15 import CHIP_TYPES
from .alert import ChipAlertPin
from .bus import EmulatedI2C

_CHUNK_S = 0.1             # runner frames read at a time, s
_KEEP_S = 2.0               # frames kept behind the newest, s (chips may lag a little)
_AHEAD_S = 0.3              # frames made ready ahead of the clock, s
_IDLE_S = 1.0               # the read-ahead thread stops after this long unasked, s


class RunnerInputs:
    """Sensor voltages from a simulated runner, on the real clock.

    ``kit``: a :class:`pi.kit.Kit` (sensors, their chips and inputs, each chip's full scale);
    ``settings``: the runner's :class:`SimSettings`; ``rate_hz``: the runner's frame rate (higher
    than the chips' conversion rate, so neighbouring conversions see their own frames);
    ``interpolate``: linear between frames instead of the nearest frame; ``epoch_ns``: the clock
    time of the runner's t = 0. ``runner`` is public (its ``truth_until`` gives the true landings,
    on the runner's time axis: seconds since ``epoch_ns``; all of them with ``keep_truth``, else
    those of the last :data:`SimulatedRunner.TRUTH_KEPT_S`).
    """

    def __init__(self, kit, settings: SimSettings | None = None, *, rate_hz: float = 1000.0,
                 interpolate: bool = False, epoch_ns: int | None = None,
                 clock: Callable[[], int] = time.monotonic_ns, keep_truth: bool = False):
        settings = settings or SimSettings(body_mass_kg=kit.body_mass_kg or 70.0)
        self.kit, self.rate_hz, self.interpolate = kit, float(rate_hz), interpolate
        self.epoch_ns = clock() if epoch_ns is None else int(epoch_ns)
        # the truth of only the last half minute unless asked (a long emulated run grew with it)
        self.runner = SimulatedRunner(kit.layout, self.rate_hz, settings, keep_truth=keep_truth)
        self._volts_per_count = np.array([kit.chip(s.chip).fs_v / 32768.0 for s in kit.layout])
        self._column = {(s.chip, s.input): i for i, s in enumerate(kit.layout)}
        self._frames = np.zeros((0, len(kit.layout)))
        self._k0 = 0                         # frame index of self._frames[0]
        self._lock = threading.Lock()        # the frames
        self._gen = threading.Lock()         # the runner (one reader at a time)
        self._clock = clock
        self._last_use = 0.0
        self._ahead: threading.Thread | None = None

    def _generate(self, upto: int) -> None:
        """Read the runner until frame ``upto`` is in hand (outside the frames' lock)."""
        with self._gen:
            with self._lock:
                have = self._k0 + len(self._frames)
            while have <= upto:
                n = min(max(upto - have + 1, int(_CHUNK_S * self.rate_hz), 1), int(_KEEP_S * self.rate_hz))
                _, counts = self.runner.read(n)
                with self._lock:
                    frames = np.vstack([self._frames, counts * self._volts_per_count])
                    keep = int(_KEEP_S * self.rate_hz) + len(counts)
                    drop = max(len(frames) - keep, 0)
                    self._frames, self._k0 = frames[drop:], self._k0 + drop
                    have = self._k0 + len(self._frames)

    def _run_ahead(self) -> None:
        """Keep ``_AHEAD_S`` of frames ready, so the chips (whose ALERT/RDY thread asks for them)
        never wait for the runner; ends when nobody has asked for a while."""
        while time.monotonic() - self._last_use < _IDLE_S:
            now_s = (self._clock() - self.epoch_ns) / 1e9
            self._generate(int((now_s + _AHEAD_S) * self.rate_hz))
            time.sleep(_CHUNK_S / 2)
        self._ahead = None

    def _frame_volts(self, k: int) -> np.ndarray:
        """All sensors' volts in frame ``k``; called with the frames' lock held."""
        if k >= self._k0 + len(self._frames):            # not ready yet: make it now
            self._lock.release()
            try:
                self._generate(k)
            finally:
                self._lock.acquire()
        return self._frames[max(k - self._k0, 0)]

    def volts(self, column: int, t_s: float) -> float:
        """The input voltage of sensor ``column`` (layout order) at ``t_s`` s after the epoch, V."""
        u = max(t_s, 0.0) * self.rate_hz
        self._last_use = time.monotonic()
        if self._ahead is None and self._clock is time.monotonic_ns:
            self._ahead = threading.Thread(target=self._run_ahead, name="runner-ahead", daemon=True)
            self._ahead.start()
        with self._lock:
            if not self.interpolate:
                return float(self._frame_volts(int(u + 0.5))[column])
            k = int(u)
            a, b = self._frame_volts(k)[column], self._frame_volts(k + 1)[column]
            return float(a + (b - a) * (u - k))

    def input(self, chip_name: str, index: int) -> Callable[[float], float]:
        """The ``volts(t_s)`` callable for input ``index`` of the chip named ``chip_name``."""
        column = self._column.get((chip_name, index))
        if column is None:
            return lambda t_s: 0.0
        return lambda t_s: self.volts(column, t_s)

    def counts(self, column: int, t_s: float) -> float:
        """The runner's stored value (16-bit counts) behind ``volts`` at ``t_s``."""
        return self.volts(column, t_s) / self._volts_per_count[column]


def _alert_pin(factory, number: int):
    """The pin a chip drives: a :class:`ChipAlertPin` on a MockFactory (edges stamped with the
    chip's time), whatever the factory gives otherwise."""
    from gpiozero.pins.mock import MockFactory
    if isinstance(factory, MockFactory):
        return factory.pin(number, pin_class=ChipAlertPin)
    return factory.pin(number)


def build_bus(kit, *, inputs: RunnerInputs | None = None, sim_settings: SimSettings | None = None,
              sim_rate_hz: float = 1000.0, bus_hz: float | None = None, fault_rate: float = 0.0,
              seed: int = 0, osc_error: float | dict = 0.0, noise_lsb: float = 0.0, pin_factory=None,
              gpio_chip=None, delivery=None, clock: Callable[[], int] = time.monotonic_ns,
              log_size: int = 200_000, **bus_options) -> EmulatedI2C:
    """The kit's chips (type and address from the kit) on one :class:`EmulatedI2C`.

    The inputs come from ``inputs`` or a new :class:`RunnerInputs` (``sim_settings``,
    ``sim_rate_hz``); ``osc_error`` is one fraction for all chips or a dict chip name → fraction;
    with a gpiozero ``pin_factory`` (e.g. ``MockFactory()``) each chip with an ``alert_pin``
    drives that pin (a :class:`ChipAlertPin` on a MockFactory) as its ALERT/RDY line; with a
    ``gpio_chip`` (:class:`pi.emulator.gpiochip.EmulatedGpioChip`) it drives that chip's line
    instead, for a reader of the character device. ``delivery`` (:mod:`pi.emulator.delivery`,
    one model shared by every chip, as one pin library serves them all) says when each edge is
    handed over; None: at once. ``log_size``: the conversions and reads each chip keeps for
    the tests' label checks (~300 B each). The bus keeps ``inputs``,
    ``epoch_ns`` (clock time of the simulated t = 0) and ``names`` (chip name → address).
    Other options (``require_lock``, ``nack_errno``, …) go to :class:`EmulatedI2C`.
    """
    inputs = inputs or RunnerInputs(kit, sim_settings, rate_hz=sim_rate_hz, clock=clock)
    bus = EmulatedI2C(bus_hz=bus_hz, fault_rate=fault_rate, seed=seed, clock=clock, **bus_options)
    for i, c in enumerate(kit.chips):
        err = osc_error.get(c.name, 0.0) if isinstance(osc_error, dict) else osc_error
        alert = None
        if c.alert_pin is not None:
            if gpio_chip is not None:
                alert = gpio_chip.line(c.alert_pin)
            elif pin_factory is not None:
                alert = _alert_pin(pin_factory, c.alert_pin)
        chip = CHIP_TYPES[c.type](c.address, [inputs.input(c.name, k) for k in range(4)], osc_error=err,
                                  noise_lsb=noise_lsb, seed=seed + 1 + i, alert=alert,
                                  epoch_ns=inputs.epoch_ns, clock=clock, name=c.name, delivery=delivery,
                                  log_size=log_size)
        bus.add(chip)
    bus.inputs, bus.epoch_ns = inputs, inputs.epoch_ns
    bus.names = {c.name: c.address for c in kit.chips}
    return bus
