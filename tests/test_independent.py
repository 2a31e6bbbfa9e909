"""The analysis against independently generated sessions (see tests/independent_sessions.py).

The generator follows DESIGN.md contract 2 only (its own layouts, calibrations, force shapes,
COP paths and load spreading), so these tests check that the analysis relies on the contract
and not on one simulator's layout or shapes.  Scoring uses the public API only
(``read_session``, ``analyse``, ``score``) and the ``insole report --json`` command line.

Targets (issue acceptance): agreement with truth ≥ 98 % forefoot and rearfoot, ≥ 90 % midfoot;
≥ 99.5 % of true landings found, ≤ 0.5 % extra (matched within 20 ms); median contact-time
error ≤ 1 frame; cadence within 1 %.  The full table is ``python bench/independent.py``.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.gait import analyse
from analysis.session import read_session
from analysis.truth import score
from independent_sessions import LAYOUTS, layout, strike_of, write_session

ROOT = Path(__file__).resolve().parents[1]
DURATION_S = 40.0

AGREE_TARGET = {"forefoot": 98.0, "midfoot": 90.0, "rearfoot": 98.0}

# (layout, rate, pattern, direction, seed): every layout, both rates, every pattern and direction.
CASES = [
    ("quad4", 200, "rearfoot", "forward", 11),
    ("pairs6", 500, "forefoot", "forward", 12),
    ("grid8", 200, "midfoot", "forward", 13),
    ("asym", 500, "mixed", "backward", 14),
    ("quad4", 500, "mixed", "forward", 15),
    ("grid8", 500, "forefoot", "backward", 16),
    ("asym", 200, "rearfoot", "forward", 17),
    ("pairs6", 200, "midfoot", "backward", 18),
]


def _analyse(folder):
    s = read_session(folder)
    found = analyse(s.t_s, s.values, s.layout, s.rate_hz, s.body_mass_kg)
    return s, found


# ---------------------------------------------------------------------------------------------
# The generator itself (fast; no analysis involved)
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(LAYOUTS))
def test_layouts_are_plausible(name):
    sensors = layout(name)
    for foot in ("left", "right"):
        mine = [s for s in sensors if s.foot == foot]
        assert 4 <= len(mine) <= 8
        assert all(0 <= s.x <= 1 and 0 <= s.y <= 1 for s in mine)
        assert min(s.y for s in mine) < 0.25 and max(s.y for s in mine) > 0.7   # heel and forefoot covered
    assert len({s.name for s in sensors}) == len(sensors)


def test_generated_folder_follows_contract_2(tmp_path):
    info = write_session(tmp_path, pattern="mixed", direction="forward", duration_s=10, rate_hz=200,
                         layout_name="asym", seed=3)
    meta = json.loads((tmp_path / "session.json").read_text())
    for key in ("format", "started_at", "software", "source", "rate_hz", "subject", "sensors", "markers", "health"):
        assert key in meta
    assert meta["format"] == "insole-session/1" and meta["source"]["kind"] == "independent"
    with open(tmp_path / "samples.csv") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["t_s"] + [s["name"] for s in meta["sensors"]]
    assert len(rows) - 1 == meta["health"]["frames"] == 2000
    assert all(len(r[0].split(".")[1]) == 6 for r in rows[1:50])
    with open(tmp_path / "truth.csv") as fh:
        truth = list(csv.DictReader(fh))
    assert len(truth) == len(info["truth"]) > 20
    for r in truth:
        si = float(r["strike_index"])
        assert r["strike"] == strike_of(si)
        assert min(abs(si - 100 / 3), abs(si - 200 / 3)) >= 3.0      # kept away from the class lines
        assert float(r["t_off_s"]) > float(r["t_on_s"])
        assert abs(float(r["contact_ms"]) - 1000 * (float(r["t_off_s"]) - float(r["t_on_s"]))) < 0.01
    # the reader accepts it and the layout survives the trip
    s = read_session(tmp_path)
    assert s.values.shape == (2000, len(meta["sensors"]))
    assert len(s.truth) == len(truth)


# ---------------------------------------------------------------------------------------------
# The analysis against the targets
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lay, rate, pattern, direction, seed", CASES,
                         ids=[f"{c[0]}-{c[1]}Hz-{c[2]}-{c[3]}" for c in CASES])
def test_analysis_meets_targets(tmp_path, lay, rate, pattern, direction, seed):
    folder = tmp_path / f"{lay}_{rate}_{pattern}_{direction}"
    write_session(folder, pattern=pattern, direction=direction, duration_s=DURATION_S, rate_hz=rate,
                  layout_name=lay, seed=seed)
    s, found = _analyse(folder)
    sc = score(found, s.truth, s.layout.feet, s.rate_hz)
    where = f"(session kept in {folder}; score {sc})"
    problems = []
    if sc["found_pct"] < 99.5:
        problems.append(f"found {sc['found_pct']} % < 99.5 %")
    if sc["extra_pct"] > 0.5:
        problems.append(f"extra {sc['extra_pct']} % > 0.5 %")
    for cls, target in AGREE_TARGET.items():
        a = sc["agree_pct"][cls]
        if a is not None and a < target:
            problems.append(f"{cls} agreement {a} % < {target} %")
    if sc["contact_err_frames_median"] is None or sc["contact_err_frames_median"] > 1.0:
        problems.append(f"median contact-time error {sc['contact_err_frames_median']} frames > 1")
    if sc["cadence_err_pct"] is None or sc["cadence_err_pct"] > 1.0:
        problems.append(f"cadence error {sc['cadence_err_pct']} % > 1 %")
    assert not problems, "; ".join(problems) + " " + where


@pytest.mark.parametrize("zero_error_n", [0.0, 5.0, 10.0])
def test_unloaded_reading_above_zero_from_the_start(tmp_path, zero_error_n):
    """A foot whose unloaded sensors read a few newtons each from the first frame (in-shoe
    preload, a calibration zero that is off) must still be analysed: the baseline is the
    reading in the air, whatever it is.  quad4: 4 sensors, so 5 N each is 20 N on the sum."""
    write_session(tmp_path, pattern="rearfoot", direction="forward", duration_s=20, rate_hz=500,
                  layout_name="quad4", seed=3, drift_n=0.0, preload_n=0.0, zero_error_n=zero_error_n)
    s, found = _analyse(tmp_path)
    sc = score(found, s.truth, s.layout.feet, s.rate_hz)
    assert sc["found_pct"] >= 99.5 and sc["extra_pct"] <= 0.5, (sc, tmp_path)


def test_report_command_line_agrees_with_truth(tmp_path):
    """``insole report DIR --json`` (contract 3) on an independent session."""
    write_session(tmp_path, pattern="mixed", direction="forward", duration_s=DURATION_S, rate_hz=500,
                  layout_name="quad4", seed=21)
    exe = ROOT / ".venv" / "bin" / "insole"
    cmd = [str(exe) if exe.exists() else sys.executable, *([] if exe.exists() else ["-m", "pi.cli"]),
           "report", str(tmp_path), "--json"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    s = read_session(tmp_path)
    truth = s.truth
    assert set(rep["feet"]) == {"left", "right"}
    assert abs(rep["landings"] - len(truth)) <= 0.005 * len(truth), (rep["landings"], len(truth), tmp_path)
    true_counts = {c: sum(r["strike"] == c for r in truth) for c in AGREE_TARGET}
    for c, n in true_counts.items():
        assert abs(rep["strike_counts"][c] - n) <= max(1, 0.02 * n), (c, rep["strike_counts"], true_counts, tmp_path)
    sc = score(truth, truth, s.layout.feet, s.rate_hz)
    assert abs(rep["cadence_spm"] - sc["cadence_true"]) <= 0.01 * sc["cadence_true"], (rep["cadence_spm"], sc["cadence_true"])
    true_contact = sorted(r["contact_ms"] for r in truth)[len(truth) // 2]
    assert abs(rep["contact_ms_median"] - true_contact) <= 2 * 1000 / s.rate_hz
