"""`insole compare A B`: differences in the direction the simulator made them, with intervals
that exclude zero exactly where it made a real difference."""

import json

import numpy as np
import pytest

from analysis import load_session
from analysis.compare import block_resample, compare
from offline_sessions import drill, simulated
from pi.cli import main


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("compare")
    return {
        "fw": simulated(d / "fw", 90, pattern="mixed", seed=11),
        "bw": simulated(d / "bw", 90, pattern="forefoot", direction="backward", seed=12),
        "fw2": simulated(d / "fw2", 90, pattern="mixed", seed=13),
        "fast": simulated(d / "fast", 90, pattern="mixed", cadence_spm=185.0, seed=14),
        "dir": d,
    }


def _rows(a, b):
    return {r.measure.key: r for r in compare(load_session(a), load_session(b), resamples=1000)}


def test_forward_against_backward(runs):
    r = _rows(runs["fw"], runs["bw"])
    assert r["forefoot_pct"].diff > 40 and r["forefoot_pct"].differs
    assert r["strike_index"].diff > 0 and r["strike_index"].differs
    # COP travels heel → toe forward and toe → heel backward
    assert r["cop_travel_pct"].a > 0 > r["cop_travel_pct"].b and r["cop_travel_pct"].differs
    # the simulator shortens backward contacts by 10 % at the same cadence
    assert r["contact_ms"].diff == pytest.approx(-0.1 * r["contact_ms"].a, abs=6) and r["contact_ms"].differs
    assert r["cadence_spm"].diff == pytest.approx(0, abs=1.5) and not r["cadence_spm"].differs


def test_cadence_as_the_simulator_set_it(runs):
    r = _rows(runs["fw"], runs["fast"])
    assert r["cadence_spm"].diff == pytest.approx(15, abs=2) and r["cadence_spm"].differs
    assert r["cadence_spm"].lo > 10


def test_a_session_against_itself_differs_in_nothing(runs):
    r = _rows(runs["fw"], runs["fw"])
    for row in r.values():
        assert row.diff == 0 and row.lo <= 0 <= row.hi and not row.differs


def test_same_runner_another_day_no_difference_in_strike(runs):
    r = _rows(runs["fw"], runs["fw2"])
    assert not r["cadence_spm"].differs and not r["contact_ms"].differs
    assert abs(r["forefoot_pct"].diff) < 12


def test_block_bootstrap_spread_matches_the_standard_error():
    rng = np.random.default_rng(7)
    ratio = []
    for _ in range(30):                       # independent landings: the textbook standard error
        x = rng.normal(0, 1, 400)
        ratio.append(block_resample(x, 1000, rng).mean(axis=1).std() / (x.std() / np.sqrt(400)))
    assert np.mean(ratio) == pytest.approx(1.0, abs=0.06)


def test_blocks_widen_the_interval_when_landings_drift():
    rng = np.random.default_rng(8)
    x = np.zeros(600)
    for i in range(1, 600):                   # AR(1), phi 0.6: each landing like the one before
        x[i] = 0.6 * x[i - 1] + rng.normal()
    block = block_resample(x, 2000, rng).mean(axis=1).std()
    single = x[rng.integers(0, 600, (2000, 600))].mean(axis=1).std()
    assert block > 1.4 * single


def test_the_command_and_its_page(runs, capsys):
    out = runs["dir"] / "page"
    assert main(["compare", str(runs["fw"]), str(runs["bw"]), "--out", str(out), "--resamples", "500"]) == 0
    printed = capsys.readouterr().out
    assert "forefoot %" in printed and "differs" in printed
    doc = json.loads((out / "compare.json").read_text())
    assert doc["a"]["name"] == "fw" and doc["b"]["name"] == "bw"
    ff = next(m for m in doc["measures"] if m["measure"] == "forefoot_pct")
    assert ff["ci_excludes_zero"] and ff["ci_low"] > 0
    assert {p.name for p in out.iterdir()} == {"compare.html", "compare.json", "compare_differences.png",
                                                "compare_cop.png", "compare_strike_index.png"}
    assert "data:image/png;base64," in (out / "compare.html").read_text()


def test_two_segments_of_one_session(runs, capsys):
    session = drill(runs["dir"] / "drill", [("", runs["fw"]), ("backward", runs["bw"])])
    assert main(["compare", f"{session}:start", f"{session}:backward"]) == 0
    printed = capsys.readouterr().out
    assert "drill:start" in printed and "drill:backward" in printed
    a = load_session(session)
    r = {x.measure.key: x for x in compare(a.segment("start"), a.segment("backward"), resamples=500)}
    assert r["forefoot_pct"].differs and r["cop_travel_pct"].b < 0


@pytest.mark.parametrize("spec, message", [
    (":nosuch", "no segment labelled 'nosuch'; its segments: 'all'"),
    (":", "nothing after the ':'"),
    (":7", "segment 7 does not exist; it has 1 (all)"),
])
def test_bad_segments_are_one_line(runs, capsys, spec, message):
    assert main(["compare", str(runs["fw"]), f"{runs['fw']}{spec}"]) in (1, 2)
    err = capsys.readouterr().err.strip()
    assert err.startswith("insole: error: ") and message in err and "\n" not in err
