"""Acceptance of issue 2 on the simulator: every pattern × direction, live and batch, against the
truth. (bench/accuracy.py prints the same figures for 2-minute sessions.)"""

import pytest

from analysis.gait import analyse
from analysis.session import read_session
from analysis.truth import score
from pi.kit import load_kit
from pi.simulated_session import simulate
from pi.simulator import SimSettings

TARGET = {"forefoot": 98.0, "midfoot": 90.0, "rearfoot": 98.0}


@pytest.mark.parametrize("direction", ["forward", "backward"])
@pytest.mark.parametrize("pattern", ["forefoot", "midfoot", "rearfoot", "mixed"])
def test_landings_match_the_truth(tmp_path, pattern, direction):
    folder = tmp_path / "s"
    simulate(folder, 45.0, SimSettings(pattern=pattern, direction=direction, seed=11), load_kit())
    s = read_session(folder)
    batch = analyse(s.t_s, s.values, s.layout, s.rate_hz, s.body_mass_kg)
    for found in (s.landings, batch):                      # live (landings.csv) and offline
        sc = score(found, s.truth, s.layout.feet, s.rate_hz)
        assert sc["true"] >= 120
        assert sc["found_pct"] >= 99.5 and sc["extra_pct"] <= 0.5, sc
        for cls, pct in sc["agree_pct"].items():
            if pct is not None:
                assert pct >= TARGET[cls], (cls, sc)
        assert sc["contact_err_frames_median"] <= 1.0, sc
        assert sc["cadence_err_pct"] <= 1.0, sc


def test_one_foot_session_counts_cadence_as_both_feet(tmp_path):
    folder = tmp_path / "s"
    simulate(folder, 45.0, SimSettings(feet="left", cadence_spm=176.0, seed=2), load_kit())
    s = read_session(folder)
    assert s.layout.feet == ("left",)
    sc = score(s.landings, s.truth, s.layout.feet, s.rate_hz)
    assert sc["cadence_found"] == pytest.approx(176.0, rel=0.01)
    assert sc["found_pct"] >= 99.5
