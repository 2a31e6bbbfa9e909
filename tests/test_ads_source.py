"""The ads source, real adafruit driver included, against the emulated chips."""

import numpy as np
import pytest

from analysis.errors import InsoleError
from pi.emulator import build_bus
from pi.kit import load_kit
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


def test_continuous_ready_mode_reaches_the_chip_limit_with_every_label_right(kit):
    from gpiozero.pins.mock import MockFactory
    pins = MockFactory()
    bus = build_bus(kit, pin_factory=pins)
    src = AdsSource(kit, bus, pin_factory=pins)                 # the kit wires ALERT/RDY: continuous
    try:
        assert src.mode == "continuous"
        assert 190 <= src.rate_hz <= 240                        # 4 inputs at 860 SPS: 215 frames/s
        _, rows = src.read(100)
    finally:
        src.close()
        bus.deinit()
    # every value in column c came from a conversion of that sensor's input, in order
    for c, sensor in enumerate(src.layout):
        chip = next(ch for ch in kit.chips if ch.name == sensor.chip)
        converted = [r.value for r in bus.chip(chip.address).reads if r.input == sensor.input]
        it = iter(converted)
        assert all(any(v == w for w in it) for v in rows[:, c].tolist()), sensor.name
    assert src.bus_errors_total == 0
