import numpy as np
import pytest

from analysis.gait import analyse
from analysis.strike import classify

from signals import half_sine_steps, three_sensor_layout
from analysis.layout import region_of


@pytest.mark.parametrize("si, lag, expected", [
    (10.0, 0.0, "rearfoot"), (30.0, None, "rearfoot"),
    (70.0, None, "forefoot"), (90.0, 0.0, "forefoot"),
    (45.0, 0.0, "midfoot"), (45.0, 40.0, "midfoot"),      # clearly mid-foot: the SI decides
    (66.0, 40.0, "forefoot"), (66.0, None, "forefoot"),   # the 5th-metatarsal snap: heel lands late
    (66.0, 2.0, "midfoot"),                               # … or with the heel: a flat landing
])
def test_rule(si, lag, expected):
    assert classify(si, lag) == expected


def _landings(heel_y, fore_y, share, heel_delay_s):
    layout = three_sensor_layout(heel_y=heel_y, fore_y=fore_y)
    t, v, truth = half_sine_steps(share=share, heel_delay_s=heel_delay_s)
    return analyse(t, v, layout, 1000.0), truth


def test_heel_landing_is_rearfoot():
    land, truth = _landings(0.1, 0.75, (0.8, 0.1, 0.1), 0.0)
    assert len(land) == len(truth)
    assert all(l.strike == "rearfoot" for l in land)
    assert land[0].strike_index == pytest.approx(100 * (0.8 * 0.1 + 0.1 * 0.45 + 0.1 * 0.75), abs=0.5)
    assert land[0].first_region == "rearfoot"


def test_forefoot_landing_on_the_5th_metatarsal_line_is_forefoot():
    # only the sensor at y = 0.66 loads first (SI 66, below the 66.7 line); the heel lands 40 ms later
    land, truth = _landings(0.1, 0.66, (0.5, 0.0, 0.5), 0.040)
    assert len(land) == len(truth)
    assert {l.strike for l in land} == {"forefoot"}
    assert land[0].strike_index == pytest.approx(66.0, abs=0.5)
    assert land[0].rear_lag_ms is None      # not loaded within the window


def test_flat_landing_with_the_same_sensors_is_midfoot():
    # heel and forefoot together, the heel carrying 15 %: SI 57.6, inside the snapping band
    land, _ = _landings(0.1, 0.66, (0.15, 0.0, 0.85), 0.0)
    assert land[0].strike_index == pytest.approx(100 * (0.15 * 0.1 + 0.85 * 0.66), abs=0.5)
    assert {l.strike for l in land} == {"midfoot"}


def test_loading_rate_worked_check():
    # shared/notes/gait.md: a linear ramp 0 → 1.8 BW over 30 ms: loading rate 60 BW/s
    from analysis.layout import Layout, Sensor
    mass = 70.0
    bw = mass * 9.80665
    rate = 1000.0
    t = np.arange(int(2.0 * rate)) / rate
    f = np.zeros_like(t)
    on = 0.5
    ramp = (t >= on) & (t < on + 0.030)
    f[ramp] = 1.8 * bw * (t[ramp] - on) / 0.030
    hold = (t >= on + 0.030) & (t < on + 0.25)
    f[hold] = 1.8 * bw * np.exp(-(t[hold] - on - 0.030) * 2)     # falls after the peak
    layout = Layout([Sensor("heel", "left", 0.5, 0.1)])
    land = analyse(t, f[:, None], layout, rate, body_mass_kg=mass)
    assert len(land) == 1
    assert land[0].loading_rate_bw_s == pytest.approx(60.0, rel=0.02)
    assert land[0].peak_force_bw == pytest.approx(1.8, rel=0.01)


def test_a_heel_strike_has_no_made_up_rear_lag():
    # the heel already loaded in the first frame of contact took load at (or before) contact:
    # 0 ms, not the one frame (5 ms) it read before
    from analysis import load_session
    from pi.simulated_session import simulate
    from pi.simulator import SimSettings
    import tempfile
    from pathlib import Path
    folder = Path(tempfile.mkdtemp()) / "heel"
    simulate(folder, 20.0, SimSettings(pattern="rearfoot", seed=4))
    lags = [l.rear_lag_ms for l in load_session(folder).landings]
    assert len(lags) > 40 and sum(1 for x in lags if x == 0.0) > 0.8 * len(lags)


def test_region_boundaries_are_exact():
    assert region_of(1 / 3) == "midfoot" and region_of(2 / 3) == "forefoot"
    assert region_of(0.3333) == "rearfoot"
