"""Real insole recordings (PhysioNet gaitpdb, walking): read from shared/data, never committed."""

import numpy as np
import pytest

import gaitpdb
from analysis.gait import analyse

pytestmark = pytest.mark.skipif(not gaitpdb.DATA.exists(),
                                reason=f"the gaitpdb recordings are not at {gaitpdb.DATA}")


def _strides_in_signal(total_n):
    """Strides counted the plain way: rises through 300 N after the foot was unloaded (< 40 N),
    leaving out a first contact that began before the recording and a last one still open."""
    starts, armed = [], False
    for i, v in enumerate(total_n):
        if v < 40:
            armed = True
        elif v > 300 and armed:
            starts.append(i)
            armed = False
    return starts


# The Parkinson's walker shuffles through some turns: the foot drops to ~25 N and reloads
# without leaving the ground. The plain count (re-armed below 40 N) calls that a stride, the
# detector (which needs the foot unloaded to a few % of its peak) does not; neither is wrong.
@pytest.mark.parametrize("name, shuffles", [("GaCo01_01.txt", 0), ("GaPt03_01.txt", 2)])
def test_landings_match_the_strides_in_the_signal(name, shuffles):
    rec = gaitpdb.load(name)
    t, v = rec.t_s, rec.force_n
    landings = analyse(t, v, rec.layout, rec.rate_hz, rec.body_mass_kg)
    for foot, cols in (("left", slice(0, 8)), ("right", slice(8, 16))):
        mine = np.array([l.t_on_s for l in landings if l.foot == foot])
        plain = t[_strides_in_signal(v[:, cols].sum(axis=1))]
        # The recordings start and end with the subject standing (data README): the first step
        # from standing unloads the foot only to ~20 N, so whether it is a landing is not in
        # the signal; compare the walk in between. The plain count rises through 300 N, which a
        # slow walker reaches up to 0.2 s after initial contact.
        inner = plain[(plain > 2.0) & (plain < t[-1] - 2.0)]
        missed = [p for p in inner if not np.any((mine <= p + 0.02) & (mine >= p - 0.4))]
        assert len(missed) <= shuffles, f"{foot}: strides at {missed} s not found"
        walk = mine[(mine > 1.6) & (mine < t[-1] - 2.0)]
        assert abs(len(walk) - len(inner)) <= 1 + shuffles, (foot, len(walk), len(inner))


def test_healthy_walker_lands_on_the_heel():
    rec = gaitpdb.load("GaCo01_01.txt")
    landings = analyse(rec.t_s, rec.force_n, rec.layout, rec.rate_hz, rec.body_mass_kg)
    rear = sum(l.strike == "rearfoot" for l in landings)
    assert len(landings) >= 180                      # ~95 strides per foot (data README)
    assert rear / len(landings) >= 0.90
    stance_ms = np.median([l.contact_ms for l in landings])
    stride_s = np.median(np.diff([l.t_on_s for l in landings if l.foot == "left"]))
    assert 0.55 <= stance_ms / 1000 / stride_s <= 0.70          # walking: stance ~60 % of the stride
