"""The live (streaming) and offline (batch) gait core give the same landings on the same data."""

import math

import numpy as np
import pytest

from analysis.gait import Landing, StreamingGait, Verdict, analyse
from pi.kit import load_kit
from pi.simulator import SimSettings, SimulatedRunner
from signals import half_sine_steps, three_sensor_layout

FIELDS = ("t_on_s", "t_off_s", "contact_ms", "strike_index", "rear_lag_ms", "peak_force_n",
          "peak_force_bw", "loading_rate_bw_s")


def _stream(t, v, layout, rate, mass, block):
    g = StreamingGait(layout, rate, mass)
    events, emitted_at_s = [], {}
    for a in range(0, len(t), block):
        for e in g.push(t[a:a + block], v[a:a + block]):
            events.append(e)
            emitted_at_s[id(e)] = float(t[min(a + block, len(t)) - 1])   # when the caller had it
    events += g.finish()
    return events, emitted_at_s


def _same(a: Landing, b: Landing):
    assert (a.foot, a.strike, a.first_region) == (b.foot, b.strike, b.first_region)
    for f in FIELDS:
        x, y = getattr(a, f), getattr(b, f)
        if x is None or y is None:
            assert x is y is None, f
        else:
            assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9), (f, x, y)
    assert a.cop_path.shape == b.cop_path.shape
    assert np.allclose(a.cop_path, b.cop_path)


@pytest.fixture(scope="module")
def kit():
    return load_kit()


@pytest.mark.parametrize("pattern,direction", [("mixed", "forward"), ("forefoot", "backward"),
                                               ("rearfoot", "forward"), ("midfoot", "backward")])
@pytest.mark.parametrize("block", [1, 5, 1000])
def test_stream_equals_batch(kit, pattern, direction, block):
    rate = kit.rate_hz
    runner = SimulatedRunner(kit.layout, rate, SimSettings(pattern=pattern, direction=direction, seed=7))
    t, v = runner.read(int(20 * rate))
    batch = analyse(t, v, kit.layout, rate, 70.0)
    events, emitted_at_s = _stream(t, v, kit.layout, rate, 70.0, block)
    live = sorted((e for e in events if isinstance(e, Landing)), key=lambda l: l.t_on_s)
    assert len(batch) > 40
    assert len(live) == len(batch)
    for a, b in zip(live, batch):
        _same(a, b)
    # every landing got its verdict first, within 50 ms of contact, and the verdict held
    verdicts = {(e.foot, e.t_on_s): e for e in events if isinstance(e, Verdict)}
    for l in live:
        vd = verdicts[(l.foot, l.t_on_s)]
        assert vd.strike == l.strike and vd.strike_index == pytest.approx(l.strike_index)
        # within 50 ms, once the first second (the zero and noise warm-up) has passed
        if block == 1 and l.t_on_s > 1.0:
            assert emitted_at_s[id(vd)] - l.t_on_s <= 0.050


@pytest.mark.parametrize("feet", ["both", "left"])
def test_flight_time_is_the_same_live_and_offline(kit, tmp_path, feet):
    from analysis.session import read_session
    from pi.simulated_session import simulate
    simulate(tmp_path / "s", 30.0, SimSettings(feet=feet, seed=4), kit)
    s = read_session(tmp_path / "s")
    batch = analyse(s.t_s, s.values, s.layout, s.rate_hz, s.body_mass_kg)
    live = [row["flight_ms"] for row in s.landings]
    assert len(live) == len(batch) > 40
    assert sum(v is not None for v in live) >= len(live) - 2
    for a, b in zip(live, [l.flight_ms for l in batch]):
        assert (a is None and b is None) or a == pytest.approx(b, abs=1e-3)
    # simulated running at 170 spm with ~250 ms contacts: ~100 ms of flight
    assert 60 < np.median([v for v in live if v is not None]) < 160


def test_a_missing_reading_in_the_first_second_loses_nothing():
    t, v, truth = half_sine_steps(rate_hz=500.0, n_steps=12, noise_n=1.0)
    v[120, 1] = np.nan                                  # 0.24 s: inside the warm-up
    v[int(3.3 * 500), 2] = np.nan                       # and one inside a contact
    layout = three_sensor_layout()
    batch = analyse(t, v, layout, 500.0)
    assert len(batch) == len(truth)
    g = StreamingGait(layout, 500.0)
    live = [e for a in range(0, len(t), 3) for e in g.push(t[a:a + 3], v[a:a + 3]) if isinstance(e, Landing)]
    assert [(l.strike, round(l.strike_index, 6)) for l in live] == [(l.strike, round(l.strike_index, 6)) for l in batch]


def test_a_knock_in_the_air_gets_no_verdict():
    t, v, truth = half_sine_steps(rate_hz=1000.0, n_steps=6)
    knock = int((truth[2][1] + 0.2) * 1000)
    v[knock:knock + 30, 0] = 300.0                       # 30 ms, shorter than a landing
    for block in (1, 10, 5000):
        g = StreamingGait(three_sensor_layout(), 1000.0)
        events = [e for a in range(0, len(t), block) for e in g.push(t[a:a + block], v[a:a + block])]
        events += g.finish()
        verdicts = [e for e in events if isinstance(e, Verdict)]
        landings = [e for e in events if isinstance(e, Landing)]
        assert len(landings) == len(truth) and len(verdicts) == len(landings), block


def test_an_empty_block_is_fine():
    assert StreamingGait(three_sensor_layout(), 100.0).push(np.zeros(0), np.zeros((0, 3))) == []
