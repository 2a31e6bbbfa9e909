"""`insole compare A B`: differences in the direction the simulator made them, with intervals
that exclude zero exactly where it made a real difference."""

import json

import numpy as np
import pytest

from analysis import load_session
from analysis.compare import block_resample, compare, signed
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
    # the mixed run's heel strikes load hard (~75 BW/s), its forefoot landings do not: the mean
    # shows the forefoot run loading more gently, where a median would have picked a forefoot landing
    assert r["loading_rate_bw_s"].diff < -5 and r["loading_rate_bw_s"].differs


def test_a_difference_that_rounds_to_nothing_has_no_sign():
    assert signed(-0.0004, 1) == "+0.0" and signed(-0.06, 1) == "-0.1" and signed(2.0, 0) == "+2"


def test_cadence_as_the_simulator_set_it(runs):
    r = _rows(runs["fw"], runs["fast"])
    # the same figure as the report's (each foot's 120 / median stride, averaged over the feet)
    assert r["cadence_spm"].b == pytest.approx(load_session(runs["fast"]).summary["cadence_spm"], abs=0.06)
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
    assert doc["a"]["name"] == "fw" and doc["b"]["name"] == "bw" and doc["resamples"] == 500
    ff = next(m for m in doc["measures"] if m["measure"] == "forefoot_pct")
    assert ff["ci_excludes_zero"] and ff["ci_low"] > 0
    assert {p.name for p in out.iterdir()} == {".insole-output", "compare.html", "compare.json", "compare_differences.png",
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
    assert main(["compare", str(runs["fw"]), f"{runs['fw']}{spec}"]) == 2          # bad input: a usage error, all alike
    err = capsys.readouterr().err.strip()
    assert err.startswith("insole: error: ") and message in err and "\n" not in err


def test_a_simulated_drill_is_marked_and_compared_by_segment(runs, capsys):
    folder = runs["dir"] / "sim-drill"
    assert main(["simulate", "--out", str(folder), "--duration", "60", "--then", "backward:forefoot:40",
                 "--then", "forward:30", "--seed", "5"]) == 0
    meta = json.loads((folder / "session.json").read_text())
    # each part ends after the last contact begun in it (none is cut in two): a marker comes at
    # its nominal time or up to a contact later
    assert [m["label"] for m in meta["markers"]] == ["backward-forefoot", "forward-mixed"]
    (m1, m2) = (m["t_s"] for m in meta["markers"])
    assert 60.0 <= m1 < 60.5 and 100.0 <= m2 - (m1 - 60.0) < 100.5
    s = load_session(folder)
    assert 130.0 <= s.t_s[-1] < 131.0
    # every part's landings are exactly those simulated in it (truth.csv runs on the same clock)
    assert len(s.landings) == len(s.truth)
    for part in s.segments():
        truth = [r for r in s.truth if part.t_s[0] <= r["t_on_s"] <= part.t_s[-1]]
        assert len(part.landings) == len(truth)
    back = s.segment("backward-forefoot")
    assert back.summary["forefoot_pct"] == 100.0
    capsys.readouterr()
    assert main(["compare", f"{folder}:0", f"{folder}:backward-forefoot"]) == 0
    assert "sim-drill:start" in capsys.readouterr().out


@pytest.mark.parametrize("then, message", [
    ("backward", "expected DIRECTION:SECONDS or DIRECTION:PATTERN:SECONDS"),
    ("sideways:30", "direction must be one of forward, backward, got 'sideways'"),
    ("backward:tiptoe:30", "pattern must be one of"),
    ("backward:0.5", "seconds must be a number from 1 to 86400, got '0.5'"),
])
def test_bad_drill_parts_are_one_line(tmp_path, capsys, then, message):
    assert main(["simulate", "--out", str(tmp_path / "x"), "--then", then]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("insole: error: --then") and message in err
    assert not (tmp_path / "x").exists()


def test_compare_says_when_the_sessions_are_not_alike(tmp_path, capsys):
    both = tmp_path / "both"
    left = tmp_path / "left"
    assert main(["simulate", "--out", str(both), "--duration", "20", "--seed", "1"]) == 0
    assert main(["simulate", "--out", str(left), "--duration", "20", "--seed", "2", "--feet", "left"]) == 0
    m = json.loads((left / "session.json").read_text())
    m["rate_hz"] = 100.0                                   # as if logged at another rate
    (left / "session.json").write_text(json.dumps(m))
    capsys.readouterr()
    assert main(["compare", str(both), str(left), "--resamples", "100"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "note: the instrumented feet differ: A has left and right, B left" in out
    assert "note: the frame rates differ: A 200, B 100 frames/s" in out
    assert main(["compare", str(both), str(both), "--resamples", "100"]) == 0
    assert "note:" not in capsys.readouterr().out
