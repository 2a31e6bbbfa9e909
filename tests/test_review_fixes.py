"""Behaviour found wanting in review, pinned down."""

import json

import numpy as np
import pytest

from analysis.calibration import validate
from analysis.errors import ConfigError
from analysis.gait import Landing, StreamingGait, Verdict, analyse
from analysis.layout import region_of
from analysis.session import SessionWriter, read_session
from analysis.summary import summarise

from signals import half_sine_steps, three_sensor_layout


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


def test_the_header_is_on_disk_at_once(tmp_path):
    SessionWriter(tmp_path / "s", {}, three_sensor_layout())       # never flushed or closed
    assert (tmp_path / "s" / "samples.csv").read_text() == "t_s,L_heel,L_mid,L_fore\n"
    assert len(read_session(tmp_path / "s").t_s) == 0


def test_calibration_offset_must_be_finite():
    cal = {"model": "fsr_divider", "vcc_v": 3.3, "r_m_ohm": 1e4, "fs_v": 4.096, "bits": 16,
           "n_per_siemens": 4e6, "offset_n": float("nan")}
    with pytest.raises(ConfigError, match="offset_n"):
        validate(cal)


def test_region_boundaries_are_exact():
    assert region_of(1 / 3) == "midfoot" and region_of(2 / 3) == "forefoot"
    assert region_of(0.3333) == "rearfoot"


def test_report_has_both_feet_with_one_instrumented():
    s = summarise([{"foot": "left", "t_on_s": 0.0, "t_off_s": 0.25, "contact_ms": 250.0,
                    "strike": "forefoot", "strike_index": 75.0}], ["left"])
    assert set(s["feet"]) == {"left", "right"}
    assert s["feet"]["right"]["landings"] == 0 and s["feet"]["right"]["cadence_spm"] is None


def test_bad_session_json_fields_get_a_reason(tmp_path):
    w = SessionWriter(tmp_path / "s", {}, three_sensor_layout())
    w.close()
    meta = json.loads((tmp_path / "s" / "session.json").read_text())
    meta["subject"] = "nobody"
    (tmp_path / "s" / "session.json").write_text(json.dumps(meta))
    with pytest.raises(Exception, match="subject must be a JSON object"):
        read_session(tmp_path / "s")


def test_one_frame_calibration_matches_the_vectorised_path():
    from analysis.calibration import Calibrator
    from pi.kit import load_kit
    lin = {"model": "linear", "scale": 0.5, "offset": -3.0}
    cals = [s.calibration for s in load_kit().layout][:3] + [lin]
    c = Calibrator(cals)
    rng = np.random.default_rng(1)
    block = np.column_stack([rng.integers(-50, 33000, (50, 3)), rng.normal(100, 50, 50)])
    block[7, 1] = np.nan
    whole = c(block)
    one = np.vstack([c(block[i:i + 1]) for i in range(len(block))])
    assert np.allclose(whole, one, rtol=1e-12, atol=1e-12)
    assert whole[7, 1] == 0.0 and one[7, 1] == 0.0
