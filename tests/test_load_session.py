"""analysis.load_session: the notebook API, on simulated sessions whose landings are known."""

import io
import re

from pathlib import Path

import numpy as np
import pytest

from analysis import load_session
from analysis.errors import SessionError, UsageError
from analysis.samples_csv import SamplesRead, _parse_block, _parse_clean
from analysis.session import read_session
from offline_sessions import drill, set_meta, simulated, truth_strikes


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    d = tmp_path_factory.mktemp("load")
    fw = simulated(d / "fw", 60, pattern="mixed", seed=1)
    bw = simulated(d / "bw", 40, pattern="forefoot", direction="backward", seed=2)
    return {"fw": fw, "bw": bw, "drill": drill(d / "drill", [("warm-up", fw), ("backward", bw), ("forward again", fw)])}


def test_landings_and_forces_are_those_simulated(sessions):
    s = load_session(sessions["fw"])
    truth = truth_strikes(sessions["fw"])
    found = s.summary["strike_counts"]
    assert sum(found.values()) == sum(truth.values())
    for k in truth:
        assert abs(found[k] - truth[k]) <= 0.05 * sum(truth.values())
    assert s.t_s.shape == (len(s.t_s),) and s.forces_n.shape == (len(s.t_s), 8)
    assert s.names[0] == "L_heel" and s.feet == ["left", "right"]
    # the simulator's peak is 2.2-2.8 body weights (70 kg): the forces are newtons, calibrated
    peak_bw = np.median([l.peak_force_n for l in s.landings]) / (70 * 9.80665)
    assert 2.1 < peak_bw < 2.9
    assert s.foot_force("left").max() == pytest.approx(s.forces_n[:, :4].sum(axis=1).max())


def test_table_has_one_row_per_landing(sessions):
    s = load_session(sessions["bw"])
    t = s.table()
    assert set(t) >= {"foot", "t_on_s", "strike", "strike_index", "contact_ms", "flight_ms"}
    assert all(len(v) == len(s.landings) for v in t.values())
    assert (t["strike"] == "forefoot").mean() > 0.95
    import pandas as pd
    assert len(pd.DataFrame(t)) == len(s.landings)


def test_detection_parameters_can_be_overridden_by_name(sessions):
    assert load_session(sessions["fw"], min_contact_ms=400).landings == []   # contacts are ~250 ms
    with pytest.raises(UsageError, match="unknown detection parameter 'on_floor'"):
        load_session(sessions["fw"], on_floor=30)
    with pytest.raises(UsageError, match=r"detection parameter on_floor_n: expected a number \(0 or more\), got '30'"):
        load_session(sessions["fw"], on_floor_n="30")


def test_segments_follow_the_markers(sessions):
    s = load_session(sessions["drill"])
    parts = s.segments()
    assert [p.label for p in parts] == ["start", "backward", "forward again"]
    assert sum(len(p.landings) for p in parts) == len(s.landings)
    back = s.segment("backward")
    assert back.t_s[0] == pytest.approx(60.0, abs=0.01) and back.t_s[-1] < 100.0
    assert back.summary["forefoot_pct"] > 95 and parts[0].summary["forefoot_pct"] < 60
    assert s.segment(1).label == "backward"
    with pytest.raises(UsageError, match="no segment labelled 'sprint'; its segments: 'start', 'backward', 'forward again'"):
        s.segment("sprint")


def test_a_session_without_a_mass_gives_newtons_only(sessions, tmp_path):
    import shutil
    folder = tmp_path / "nomass"
    shutil.copytree(sessions["bw"], folder)
    set_meta(folder, subject={"body_mass_kg": None})
    s = load_session(folder)
    assert s.body_mass_kg is None and s.landings
    assert all(l.peak_force_bw is None and l.loading_rate_bw_s is None for l in s.landings)


def test_the_fast_reader_agrees_with_the_careful_one_and_leaves_bad_blocks_to_it(sessions):
    body = (sessions["fw"] / "samples.csv").read_bytes().split(b"\n", 1)[1]
    count = body.count(b"\n")
    fast = _parse_clean(body, 9, count)
    assert fast is not None
    careful, lines = _parse_block(body + b"not,a,row\n", 2, 9, SamplesRead(Path("x"), [], None, None, None))
    assert np.array_equal(fast, careful) and lines[0] == 2 and lines[-1] == count + 1
    assert _parse_clean(b"0.0,1,2\n0.005,1,\n", 3, 2) is not None     # an empty cell: not sampled
    assert _parse_clean(b"0.0,1,2\n0.005,1,x\n", 3, 2) is None        # not a number
    assert _parse_clean(b"0.0,1,2\n0.005,1\n", 3, 2) is None          # a short row
    assert _parse_clean(b"0.0,1,2\n0.005,1,1e308\n", 3, 2) is None    # no reading is that large


def test_a_bad_cell_is_read_as_not_sampled_and_said_with_its_line(sessions, tmp_path):
    import shutil
    folder = tmp_path / "bad"
    shutil.copytree(sessions["bw"], folder)
    lines = (folder / "samples.csv").read_text().splitlines(keepends=True)
    lines[5] = lines[5].replace(",", ",x", 1)
    (folder / "samples.csv").write_text("".join(lines))
    s = read_session(folder)
    assert len(s.t_s) == len(lines) - 1 and np.isnan(s.values[4, 0]) and np.isfinite(s.values[4, 1:]).all()
    assert any("1 cell held no reading (first at line 6, column L_heel" in n for n in s.notes)


def _copy(src, dst, **meta):
    import shutil
    shutil.copytree(src, dst)
    if meta:
        set_meta(dst, **meta)
    return dst


def test_marker_labels_name_the_parts_even_at_the_first_frame_or_as_digits(sessions, tmp_path):
    s = load_session(_copy(sessions["fw"], tmp_path / "m", markers=[
        {"t_s": 0.0, "label": "warm-up"}, {"t_s": 20.0, "label": "2"}, {"t_s": 40.0, "label": "drill"}]))
    assert [p.label for p in s.segments()] == ["warm-up", "2", "drill"]
    assert s.segment("2").t_s[0] == pytest.approx(20.0)           # the label, before the number
    assert s.segment(2).label == "drill"
    part = s.segment("drill")
    assert [b.label for b in part.segment_bounds()] == ["drill"]   # a part is its own one segment


def test_a_parts_flights_are_timed_within_it(sessions):
    s = load_session(sessions["drill"])
    back = s.segment("backward")
    assert back.landings[0].flight_ms is None                     # none timed across the marker
    flights = [l.flight_ms for l in back.landings if l.flight_ms is not None]
    assert back.summary["flight_ms_median"] == pytest.approx(float(np.median(flights)), abs=0.1)
    # the whole session's landings keep their own flights
    whole = next(l for l in s.landings if l.t_on_s == back.landings[0].t_on_s)
    assert whole.flight_ms is not None


@pytest.mark.parametrize("meta, message", [
    ({"markers": [5]}, "markers[0] must be an object with a number t_s"),
    ({"markers": [{"label": "x"}]}, "markers[0] must be an object with a number t_s"),
    ({"gaps": 5}, "gaps must be a list of objects"),
])
def test_malformed_markers_and_gaps_are_one_line(sessions, tmp_path, meta, message):
    folder = _copy(sessions["bw"], tmp_path / "bad", **meta)
    with pytest.raises(SessionError, match=re.escape(message)):
        load_session(folder)


def test_detection_parameters_take_numpy_numbers_and_refuse_nonsense(sessions):
    s = load_session(sessions["bw"], on_floor_n=np.float32(25), remember=np.int64(6))
    assert s.params.contact.on_floor_n == 25.0 and s.params.contact.remember == 6
    for bad, message in (({"loading_to_frac": 50}, "at most 1"), ({"snap_band_from": 200}, "at most 100"),
                         ({"remember": 1e300}, "at most 1000")):
        with pytest.raises(UsageError, match=message):
            load_session(sessions["bw"], **bad)
    with pytest.raises(UsageError, match="expected a session folder's path"):
        load_session(None)
    with pytest.raises(UsageError, match="expected an analysis.features.GaitParams"):
        load_session(sessions["bw"], params={"on_floor_n": 30})
