import pytest

from analysis.contacts import ContactParams, ContactTracker, detect_contacts

from signals import half_sine_steps


def _landings(contacts):
    return [c for c in contacts if not c.partial and c.contact_ms >= ContactParams().min_contact_ms]


def test_every_step_found_with_ms_timing():
    t, v, truth = half_sine_steps(rate_hz=1000.0, noise_n=1.0)
    found = _landings(detect_contacts(t, v, 1000.0))
    assert len(found) == len(truth)
    for c, (on, off) in zip(found, truth):
        # the off-level is ~2.5 % of the peak: a half-sine crosses it ~2 ms in from each end
        assert c.t_on_s == pytest.approx(on, abs=0.003)
        assert c.t_off_s == pytest.approx(off, abs=0.003)


def test_noisy_dip_at_toe_off_gives_one_contact():
    t, v, truth = half_sine_steps(rate_hz=1000.0)
    # a 10 ms bounce to zero in the middle of each late stance
    for on, off in truth:
        gap = (t > off - 0.05) & (t < off - 0.04)
        v[gap] = 0.0
    found = _landings(detect_contacts(t, v, 1000.0))
    assert len(found) == len(truth)


def test_spike_in_the_air_is_not_a_landing():
    t, v, truth = half_sine_steps(rate_hz=1000.0)
    spike_at = int((truth[3][1] + 0.2) * 1000)
    v[spike_at:spike_at + 3, 0] = 400.0               # 3 ms knock on the heel sensor in flight
    found = _landings(detect_contacts(t, v, 1000.0))
    assert len(found) == len(truth)


def test_baseline_drift_is_tracked_in_the_air():
    # every sensor drifts up by 6 N/s: 60 N after 10 s, far above the off-level, yet every
    # contact is still found and timed because the zero is re-estimated in each flight
    t, v, truth = half_sine_steps(rate_hz=500.0, n_steps=14, drift_n_per_s=6.0, noise_n=0.5)
    found = _landings(detect_contacts(t, v, 500.0))
    assert len(found) == len(truth)
    assert found[-1].baseline_n.sum() == pytest.approx(3 * 6.0 * truth[-1][0], rel=0.1)
    assert found[-1].contact_ms == pytest.approx(250.0, abs=8.0)


def test_standing_at_the_start_is_partial():
    t, v, truth = half_sine_steps(rate_hz=1000.0)
    v[: int(0.3 * 1000), 0] += 700.0            # standing on the foot when the recording starts
    contacts = detect_contacts(t, v, 1000.0)
    assert contacts[0].partial and contacts[0].start == 0
    assert len(_landings(contacts)) == len(truth)


def test_streaming_matches_batch_for_any_block_size():
    t, v, truth = half_sine_steps(rate_hz=500.0, n_steps=12, noise_n=2.0, drift_n_per_s=2.0, seed=3)
    batch = detect_contacts(t, v, 500.0)
    for block in (1, 7, 500, len(t)):
        tr = ContactTracker(3, 500.0)
        got = []
        for a in range(0, len(t), block):
            got += tr.push(t[a:a + block], v[a:a + block])
        got += tr.finish()
        assert [(c.start, c.detect, c.end, c.partial) for c in got] == \
               [(c.start, c.detect, c.end, c.partial) for c in batch]
        assert [c.t_on_s for c in got] == [c.t_on_s for c in batch]
        assert [c.t_off_s for c in got] == [c.t_off_s for c in batch]
