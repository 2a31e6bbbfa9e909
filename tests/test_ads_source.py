"""The ads source, real adafruit driver included, against the emulated chips."""

import numpy as np
import pytest
from gpiozero.pins.mock import MockFactory

from analysis.errors import InsoleError
from pi.emulator import build_bus
from pi.kit import load_kit
from pi.sources import ads_ready
from pi.sources.ads import AdsSource


@pytest.fixture(scope="module")
def kit():
    return load_kit()


def _labels_right(src, bus, values):
    """Every stored value is the one the emulated chip converted from that sensor's input."""
    for chip in src.kit.chips:
        reads = [r for r in bus.chip(chip.address).reads][-len(values) * 4:]
        cols = [i for i, s in enumerate(src.layout) if s.chip == chip.name]
        inputs = [src.layout.sensors[c].input for c in cols]
        expected_inputs = inputs * len(values)
        assert [r.input for r in reads] == expected_inputs
        assert [r.value for r in reads] == values[:, cols].ravel().tolist()


def test_single_shot_reads_every_input_with_the_right_label(kit):
    bus = build_bus(kit)
    src = AdsSource(kit, bus, "single")
    t, values = src.read(150)            # ~1 s: the simulated runner lands from 0.5 s
    assert t is None and values.shape == (150, 8)
    _labels_right(src, bus, values)
    assert values.max() > 1000           # a runner is loading the insole


def test_rate_is_measured_and_kept_below_what_the_chips_allow(kit):
    src = AdsSource(kit, build_bus(kit, bus_hz=400_000), "single")
    # four conversions at 860 SPS per frame: at most 215 frames/s, less with the bus and margins
    assert 60 < src.rate_hz <= min(kit.rate_hz, 0.95 * src.achievable_hz) + 0.1
    assert src.achievable_hz < 215
    offsets = src.input_offsets_s
    assert offsets[0] == 0.0 and offsets[1] > offsets[0] and offsets[4] == 0.0


def test_bus_errors_are_retried_counted_and_labels_stay_right(kit):
    bus = build_bus(kit, fault_rate=0.01, seed=3)
    src = AdsSource(kit, bus, "single")
    _, values = src.read(150)
    assert src.bus_errors > 0
    assert src.bus_errors == bus.stats.faults
    _labels_right(src, bus, values)


def test_a_missing_chip_is_named(kit):
    from dataclasses import replace
    moved = replace(kit, chips=(kit.chips[0], replace(kit.chips[1], address=0x4B)))
    with pytest.raises(InsoleError, match=r"no ADS1115 answers at 0x4b \(chip 'right'\)"):
        AdsSource(moved, build_bus(kit), "single")


def _tagged_inputs(bus, kit):
    """Drive every input with its own level (0.1 + 0.4 × input V) plus a fast saw (0.05 V per
    10 ms, ~400 counts): each result then names its input and, within ~10 ms, its time."""
    for chip in kit.chips:
        for j in range(4):
            bus.chip(chip.address).set_input(j, lambda t, j=j: 0.1 + 0.4 * j + 0.05 * ((t * 100) % 1))


def _paced_labels_right(src, bus, stamps, rows):
    """Every stored value is the result of a conversion of that sensor's input, started where
    the frame's stamp says it was (within the frame)."""
    assert len(rows) > 0
    for chip in src.kit.chips:
        cols = sorted((s.input, i) for i, s in enumerate(src.layout) if s.chip == chip.name)
        period = 1e9 / chip.data_rate
        convs = list(bus.chip(chip.address).conversions)
        starts = np.array([c.t_start_ns for c in convs])
        for stamp, row in zip(stamps, rows):
            for slot, (j, col) in enumerate(cols):
                lo, hi = np.searchsorted(starts, [stamp + (slot - 3) * period, stamp + (slot + 3) * period])
                near = [c for c in convs[lo:hi] if c.value == row[col]]
                assert near, f"{chip.name} input {j}: {row[col]} was not converted near {stamp}"
                assert all(c.input == j for c in near), f"{chip.name}: input {j} holds another input's value"


def _paced_frames(src, n):
    """At least ``n`` frames from a continuous-mode source: (stamps, rows)."""
    stamps, rows = [], []
    while len(rows) < n:
        t, v = src.read_paced(1.0)
        stamps += t
        rows += list(v)
    return stamps, rows


def test_continuous_ready_mode_reaches_the_chip_limit_with_every_label_right(kit):
    pins = MockFactory()
    bus = build_bus(kit, pin_factory=pins)
    _tagged_inputs(bus, kit)
    # asked for: the start-up's step-down probe (tests/test_boards.py) measures this machine, and a
    # busy one would step down, which is not what this test is about
    src = AdsSource(kit, bus, "continuous", pin_factory=pins)
    try:
        assert src.mode == "continuous"
        assert src.rate_hz <= 216                               # 4 inputs at 860 SPS: 215 frames/s
        stamps, rows = _paced_frames(src, 200)
    finally:
        src.close()
        bus.deinit()
    _paced_labels_right(src, bus, stamps, np.array(rows))
    assert src.bus_errors_total == 0
    gaps = np.diff(stamps) / 1e9
    assert np.median(gaps) == pytest.approx(4 / 860, rel=0.02)


def _labels_right_under_load(kit, pins, hogs=3, frames=300):
    """Continuous mode on tagged inputs while ``hogs`` busy processes starve its callbacks of a
    core: every frame read must still be labelled right. Returns the source (closed)."""
    import multiprocessing as mp
    bus = build_bus(kit, pin_factory=pins)
    _tagged_inputs(bus, kit)
    spinners = [mp.Process(target=_spin, daemon=True) for _ in range(hogs)]
    try:
        src = AdsSource(kit, bus, "continuous", pin_factory=pins)     # asked for: see above
        assert src.mode == "continuous"
        for h in spinners:
            h.start()
        stamps, rows = _paced_frames(src, frames)
        src.close()
    finally:
        for h in spinners:
            h.terminate()
        bus.deinit()
    _paced_labels_right(src, bus, stamps, np.array(rows))
    return src


def test_continuous_labels_stay_right_on_a_loaded_machine(kit):
    """Pulses handled late (the GPIO thread starved by busy processes) cost frames, not labels."""
    _labels_right_under_load(kit, MockFactory())


def _spin():
    while True:
        pass


def test_a_bus_too_slow_for_continuous_mode_falls_back_to_single_shot_saying_why(kit):
    pins = MockFactory()
    bus = build_bus(kit, pin_factory=pins, bus_hz=100_000)       # a read + write: ~860 µs of bus
    try:
        src = AdsSource(kit, bus, pin_factory=pins)
        assert src.mode == "single" and "set the I2C bus to 400 kHz" in src.notice
        _, values = src.read(20)
        assert values.shape == (20, 8)
        with pytest.raises(InsoleError, match=r"continuous mode needs a read and a write within 942 µs"):
            AdsSource(kit, bus, "continuous", pin_factory=MockFactory())
    finally:
        bus.deinit()


class _BareADS1115Bus:
    """A bus written from the datasheet alone, not pi.emulator: ADS1115s whose conversions finish
    at once, each input holding a fixed code (1000 × chip + 100 × input + 7), reached through
    nothing but the busio.I2C calls."""

    def __init__(self, addresses):
        self.regs = {a: {0: 0, 1: 0x8583, 2: 0x8000, 3: 0x7FFF, "ptr": 0} for a in addresses}
        self.locked = False

    def try_lock(self):
        if self.locked:
            return False
        self.locked = True
        return True

    def unlock(self):
        self.locked = False

    def _chip(self, address):
        if address not in self.regs:
            raise OSError(121, "Remote I/O error")
        return self.regs[address]

    def writeto(self, address, buffer, *, start=0, end=None):
        r, data = self._chip(address), bytes(buffer[start:end])
        if data:
            r["ptr"] = data[0] & 3
        if len(data) == 3:
            word = data[1] << 8 | data[2]
            r[r["ptr"]] = word & 0x7FFF if r["ptr"] == 1 else word
            if r["ptr"] == 1:                              # a conversion of the MUX input, done at once
                mux = (word >> 12) & 7
                r[0] = 1000 * sorted(self.regs).index(address) + 100 * (mux - 4) + 7
                r[1] |= 0x8000

    def readfrom_into(self, address, buffer, *, start=0, end=None):
        r = self._chip(address)
        word = r[r["ptr"]]
        buffer[start:start + 2] = bytes((word >> 8 & 0xFF, word & 0xFF))

    def writeto_then_readfrom(self, address, out, into, *, out_start=0, out_end=None, in_start=0, in_end=None):
        self.writeto(address, out, start=out_start, end=out_end)
        self.readfrom_into(address, into, start=in_start, end=in_end)


def test_the_ads_source_needs_only_the_busio_interface(kit):
    bus = _BareADS1115Bus([0x48, 0x49])
    src = AdsSource(kit, bus, "single")
    _, values = src.read(5)
    expected = [1000 * (s.chip == "right") + 100 * s.input + 7 for s in src.layout]
    assert values.tolist() == [expected] * 5


def test_without_reachable_alert_pins_it_falls_back_to_single_shot(kit, monkeypatch):
    from gpiozero import Device
    monkeypatch.setattr(Device, "pin_factory", None)
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "no-such-factory")
    src = AdsSource(kit, _BareADS1115Bus([0x48, 0x49]))
    assert src.mode == "single" and "cannot watch the ALERT/RDY pins (GPIO 17, 27)" in src.notice
    assert src.read(2)[1].shape == (2, 8)


@pytest.mark.parametrize("clock", ["wall", "unknown"])
def test_edges_stamped_by_another_clock_still_label_right(kit, clock):
    """Some GPIO libraries stamp edges with the wall clock, not the one ``ticks()`` reads: the
    reader converts those exactly. A clock it does not know it places by the smallest delay seen
    (and leaves more room before each edge): labels stay right either way."""
    import time

    from pi.emulator.alert import ChipAlertPin

    class OtherClockPin(ChipAlertPin):
        def drive_at(self, high, t_s):
            if clock == "wall":                          # the same instant on the wall clock
                t_s += time.time() - time.monotonic()
            else:
                t_s += 1.23e6                            # some clock of its own
            super().drive_at(high, t_s)

    pins = MockFactory()
    for c in kit.chips:
        pins.pin(c.alert_pin, pin_class=OtherClockPin)
    src = _labels_right_under_load(kit, pins)
    assert src.rate_hz > 150
    assert {s.early_ns for s in src.reader.streams} == {ads_ready.MARGIN_NS + (clock != "wall") * ads_ready.UNSURE_NS}


def _tagged_continuous_run(kit, n, **bus_options):
    """``n`` frames or more in continuous mode from tagged emulated chips on a 400 kHz bus, the
    start-up's frames left out: (source, bus, stamps, rows), both closed (their logs stay)."""
    pins = MockFactory()
    bus = build_bus(kit, pin_factory=pins, bus_hz=400_000, **bus_options)
    _tagged_inputs(bus, kit)
    src = AdsSource(kit, bus, "continuous", pin_factory=pins)          # asked for: see above
    try:
        while src.read_paced(0.001)[0]:
            pass
        stamps, rows = _paced_frames(src, n)
    finally:
        src.close()
        bus.deinit()
    return src, bus, stamps, np.array(rows)


def test_chips_with_different_oscillators_give_evenly_spaced_frames_at_the_slower_pace(kit):
    """Real ADS1115 oscillators differ by up to ±10 %: the frames come at the slower chip's
    pace, stamped on its grid, so they stay evenly spaced; the faster chip's spare cycles are
    left out without a gap."""
    slow = 0.03                                                  # the right chip 3 % slow
    src, bus, stamps, rows = _tagged_continuous_run(kit, 600, osc_error={kit.chips[0].name: 0.0,
                                                                         kit.chips[1].name: slow})
    pace = 860 / 4 / (1 + slow)
    assert src.rate_hz == pytest.approx(pace, rel=0.002)
    intervals = np.diff(stamps) / 1e9
    kept = intervals[intervals < 1.5 / pace]                     # stray lost frames aside
    assert kept.size > 0.97 * intervals.size
    assert np.percentile(np.abs(kept - 1 / pace), 99) < 50e-6    # evenly spaced: within 50 µs
    _paced_labels_right(src, bus, stamps, rows)


def test_a_pin_library_that_stamps_edges_late_gets_single_shot_with_the_reason(kit):
    """RPi.GPIO (and gpiozero's native factory) give an edge the time they got round to it: a
    late callback would look on time, so continuous mode could mislabel; it is not used."""
    class RPiGPIOFactory(MockFactory):        # as gpiozero names it
        pass
    pins = RPiGPIOFactory()
    bus = build_bus(kit, pin_factory=pins)
    try:
        src = AdsSource(kit, bus, pin_factory=pins)
        assert src.mode == "single" and "GPIOZERO_PIN_FACTORY=lgpio" in src.notice
        src.close()
        with pytest.raises(InsoleError, match="edge's time from the kernel"):
            AdsSource(kit, bus, "continuous", pin_factory=RPiGPIOFactory())
    finally:
        bus.deinit()


def test_each_inputs_recorded_offset_is_when_its_conversion_started(kit):
    """session.json's input_offsets_s: every value in a frame was converted starting at the
    frame's stamp plus its input's offset (the second chip's cycle runs at its own phase)."""
    src, bus, stamps, rows = _tagged_continuous_run(kit, 200)
    offsets = src.describe()["input_offsets_s"]
    for chip in kit.chips:
        period = 1e9 / chip.data_rate
        convs = list(bus.chip(chip.address).conversions)
        starts = np.array([c.t_start_ns for c in convs])
        for col, sensor in enumerate(kit.layout):
            if sensor.chip != chip.name:
                continue
            errors = []
            for stamp, row in zip(stamps, rows):
                at = stamp + offsets[sensor.name] * 1e9
                lo, hi = np.searchsorted(starts, [at - 3 * period, at + 3 * period])
                match = [c for c in convs[lo:hi] if c.value == row[col] and c.input == sensor.input]
                assert match, f"{sensor.name}: no conversion near its recorded time"
                errors.append(min(abs(c.t_start_ns - at) for c in match))
            assert np.percentile(errors, 99) < 0.1 * period, f"{sensor.name}: {np.max(errors) / 1e3:.0f} µs off"
