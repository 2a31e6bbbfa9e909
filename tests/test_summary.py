import pytest

from analysis.summary import summarise


def _l(foot, t_on, contact_ms=250.0, strike="forefoot", si=75.0):
    return {"foot": foot, "t_on_s": t_on, "t_off_s": t_on + contact_ms / 1000, "contact_ms": contact_ms,
            "strike": strike, "strike_index": si}


def test_worked_check_cadence_and_flight():
    # gait.md: step interval 0.353 s → 170 steps/min; contact 250 ms → flight 103 ms
    step = 60 / 170
    landings = [_l("left" if k % 2 == 0 else "right", k * step) for k in range(40)]
    s = summarise(landings, ["left", "right"])
    assert s["cadence_spm"] == pytest.approx(170.0, abs=0.1)
    assert s["flight_ms_median"] == pytest.approx(1000 * step - 250, abs=0.2)
    assert s["feet"]["left"]["cadence_spm"] == pytest.approx(170.0, abs=0.1)
    assert s["landings"] == 40 and s["forefoot_pct"] == 100.0


def test_one_foot_cadence_is_twice_its_stride_rate():
    stride = 2 * 60 / 170
    s = summarise([_l("left", k * stride) for k in range(20)], ["left"])
    assert s["cadence_spm"] == pytest.approx(170.0, abs=0.1)
    assert s["flight_ms_median"] == pytest.approx(1000 * stride / 2 - 250, abs=0.2)


def test_counts_and_nulls():
    s = summarise([_l("left", 0.0, strike="rearfoot", si=12.0)], ["left", "right"], {"frames": 9})
    assert s["strike_counts"] == {"forefoot": 0, "midfoot": 0, "rearfoot": 1}
    assert s["cadence_spm"] is None and s["flight_ms_median"] is None
    assert s["feet"]["right"]["landings"] == 0 and s["feet"]["right"]["forefoot_pct"] is None
    assert s["health"] == {"frames": 9}


def test_walking_has_no_flight():
    # stance 60 % of a 1.1 s stride: the other foot is still down at each contact
    landings = []
    for k in range(20):
        landings.append(_l("left", k * 1.1, contact_ms=660.0, strike="rearfoot", si=10))
        landings.append(_l("right", k * 1.1 + 0.55, contact_ms=660.0, strike="rearfoot", si=10))
    s = summarise(landings, ["left", "right"])
    assert s["flight_ms_median"] is None            # not applicable, rather than 0 ms


def test_duty_factor_is_the_share_of_the_stride_on_the_ground():
    # running at 170 steps/min with 250 ms contacts: a stride of 120/170 s, 0.25 s of it down
    step = 60 / 170
    run = summarise([_l("left" if k % 2 == 0 else "right", k * step) for k in range(40)], ["left", "right"])
    assert run["duty_factor"] == pytest.approx(0.25 / (120 / 170), abs=0.005)
    assert run["feet"]["left"]["duty_factor"] == pytest.approx(0.35, abs=0.005)
    # walking: 660 ms stance of a 1.1 s stride
    walk = []
    for k in range(20):
        walk.append(_l("left", k * 1.1, contact_ms=660.0, strike="rearfoot", si=10))
        walk.append(_l("right", k * 1.1 + 0.55, contact_ms=660.0, strike="rearfoot", si=10))
    assert summarise(walk, ["left", "right"])["duty_factor"] == pytest.approx(0.6, abs=0.005)
    assert summarise([_l("left", 0.0)], ["left"])["duty_factor"] is None      # no stride: no cadence


def test_report_has_both_feet_with_one_instrumented():
    s = summarise([{"foot": "left", "t_on_s": 0.0, "t_off_s": 0.25, "contact_ms": 250.0,
                    "strike": "forefoot", "strike_index": 75.0}], ["left"])
    assert set(s["feet"]) == {"left", "right"}
    assert s["feet"]["right"]["landings"] == 0 and s["feet"]["right"]["cadence_spm"] is None
