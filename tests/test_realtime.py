"""Real-time scheduling of the thread that reads the chips (pi/realtime.py), and what it is for:
a reader that loses neither labels nor more than a frame when its thread is held up."""

import os
import threading
import time

import numpy as np
import pytest
from gpiozero.pins.mock import MockFactory

from pi import realtime
from pi.emulator import build_bus
from pi.kit import load_kit
from pi.sources import ads_ready
from pi.sources.ads import AdsSource

from test_ads_source import _paced_frames, _paced_labels_right, _tagged_inputs

#: every test here times this machine's sampling: run apart (`pytest -m realtime`, its own CI step)
pytestmark = pytest.mark.realtime

linux_only = pytest.mark.skipif(not hasattr(os, "sched_setscheduler"), reason="Linux scheduling")


def _in_new_thread(fn):
    out = {}
    t = threading.Thread(target=lambda: out.update(result=fn()))
    t.start()
    t.join()
    return out["result"]


@linux_only
def test_promote_gives_the_calling_thread_fifo_where_allowed_and_changes_nothing_where_not():
    allowed, how = realtime.available()

    def promote_and_look():
        first = realtime.promote()
        return first, realtime.promote(), realtime.policy_of_this_thread()
    first, again, policy = _in_new_thread(promote_and_look)
    assert first == again
    assert first or not allowed or realtime.refused, how          # refused only with a reason
    assert policy == (f"fifo {realtime.PRIORITY}" if first else "normal")
    assert realtime.policy_of_this_thread() == "normal"           # only the thread that asked


@linux_only
def test_without_permission_the_reason_names_the_limit(monkeypatch):
    import resource
    monkeypatch.setattr(resource, "getrlimit", lambda which: (0, 0))
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(realtime, "_has_cap_sys_nice", lambda: False)
    allowed, how = realtime.available()
    assert not allowed and "RLIMIT_RTPRIO is 0" in how and "LimitRTPRIO" in how
    monkeypatch.setattr(resource, "getrlimit", lambda which: (99, 99))
    assert realtime.available() == (True, "RLIMIT_RTPRIO 99")


@linux_only
def test_the_alert_callbacks_run_on_one_thread_promoted_when_allowed_and_the_session_says_so():
    kit = load_kit()
    pins = MockFactory()
    bus = build_bus(kit, pin_factory=pins)
    threads = [t for t in threading.enumerate() if t.name == "alert-thread"]
    assert len(threads) == 1                              # every chip's ALERT/RDY on one thread, as lgpio
    src = AdsSource(kit, bus, pin_factory=pins)
    try:
        _paced_frames(src, 20)
        policy = os.sched_getscheduler(threads[0].native_id)
        allowed, _ = realtime.available()
        assert policy == os.SCHED_FIFO or not allowed or realtime.refused
        # the session records what the thread really got
        assert src.describe()["realtime"].startswith("SCHED_FIFO" if policy == os.SCHED_FIFO else "normal")
        assert src.callback_cpu_s() > 0
    finally:
        src.close()
        bus.deinit()
    deadline = time.monotonic() + 1.0
    while threads[0].is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not threads[0].is_alive()                      # no chip left to drive: the thread ends


def test_a_callback_held_up_for_3_ms_costs_at_most_three_frames_and_no_label(monkeypatch):
    """A pulse handled after the next one is skipped (its result is gone): the backlog clears
    at the next pulse instead of every late callback reading a newer result than it thinks."""
    kit = load_kit()
    pins = MockFactory()
    bus = build_bus(kit, pin_factory=pins, bus_hz=400_000)
    _tagged_inputs(bus, kit)
    calls = {"n": 0, "stall_at": None}
    on_edge = ads_ready.ChipStream._on_edge

    def stalling(self, ticks):
        calls["n"] += 1
        if calls["n"] == calls["stall_at"]:
            calls["at"] = time.monotonic_ns()
            time.sleep(0.003)                             # the thread held up, as by a busy core
        on_edge(self, ticks)
    monkeypatch.setattr(ads_ready.ChipStream, "_on_edge", stalling)
    src = AdsSource(kit, bus, pin_factory=pins)
    try:
        while src.read_paced(0.001)[0]:                   # frames from the start-up
            pass
        calls["stall_at"] = calls["n"] + 600              # in the middle of the frames below
        stamps, rows = _paced_frames(src, 400)
        stale = sum(s.stale for s in src.reader.streams)
    finally:
        src.close()
        bus.deinit()
    assert "at" in calls and stale >= 2                   # both chips' pulses queued behind the stall
    stamps = np.array(stamps)
    period_ns = 1e9 / src.rate_hz
    k = np.searchsorted(stamps, calls["at"])              # the frames either side of the stall
    near = stamps[max(k - 3, 0):k + 3]
    lost = int(np.sum(np.round(np.diff(near) / period_ns) - 1))
    # 3 ms is 0.65 of a frame, but it can end a frame on each chip and the next on one of
    # them (the chips run ~1/3 conversion apart, and a frame needs both chips' cycles)
    assert 1 <= lost <= 4, f"{lost} frames lost around the stall"   # (4: a stray late pulse nearby)
    _paced_labels_right(src, bus, stamps, np.array(rows))


def test_a_chip_back_from_a_power_cut_rejoins_the_frame_grid_at_once():
    """Three power cuts of one chip, each set up again at another point of the other chip's
    cycle: the other chip's frames go on meanwhile (the gone chip's inputs not sampled), and the
    frames after each return keep the spacing and phase they had (they are stamped on one chip's
    grid, and the returning chip numbers its conversions as the running one does), and its
    cycles pair at once: none lost beyond the time it was gone."""
    kit = load_kit()
    pins = MockFactory()
    bus = build_bus(kit, pin_factory=pins, bus_hz=400_000)
    src = AdsSource(kit, bus, pin_factory=pins)
    right = src.reader.streams[1]
    setup = right.setup

    def setup_later():                                    # the probe lands at another point of the
        time.sleep(2.6 / 860)                             # left chip's cycle (here it would happen
        setup()                                           # to land in step with it)
    right.setup = setup_later
    stamps, rows, unpaired = [], [], []
    try:
        while src.read_paced(0.001)[0]:
            pass
        for _ in range(3):
            bus.vanish(kit.chips[1].address, 0.3, after_s=0.2, power_cycle=True)
            before = src.reader.unpaired
            t_end = time.monotonic() + 1.5
            while time.monotonic() < t_end:
                src.maintain()                            # as the sampler does: sets the chip up again
                t, v = src.read_paced(0.05)
                stamps += t
                rows += [np.asarray(r, dtype=float) for r in v]
            unpaired.append(src.reader.unpaired - before)
    finally:
        src.close()
        bus.deinit()
    stamps, rows = np.array(stamps), np.array(rows)
    period_ns = 1e9 / src.rate_hz
    whole = np.isfinite(rows).all(axis=1)
    right_cols = [i for i, s in enumerate(kit.layout) if s.chip == kit.chips[1].name]
    assert np.isnan(rows[~whole][:, right_cols]).all() and np.isfinite(np.delete(rows, right_cols, axis=1)).all()
    gaps = np.flatnonzero(np.diff(stamps[whole]) > 0.25e9)
    assert len(gaps) == 3                                 # the chip was gone three times
    phase = ((stamps - stamps[0]) / period_ns + 0.5) % 1 - 0.5    # off the first frame's grid, in frames
    # a frame is 4 conversions; the chip may come back up to half a conversion off its old phase
    assert np.all(np.abs(phase) < 1 / 8 + 0.01), ("the frames moved off their grid", src.rate_hz,
                                                  np.flatnonzero(np.abs(phase) >= 1 / 8 + 0.01)[:5], np.flatnonzero(~whole)[:3],
                                                  [s.measured_ns for s in src.reader.streams])
    gone = np.diff(stamps[whole])[gaps] / 1e9
    assert all(0.25 < g < 0.3 + ads_ready.PROBE_S + 0.1 for g in gone), gone    # set up again at the next probe
    # lost: the left chip's cycles before the right one counts as absent, and a few at the edges
    edge = ads_ready.ABSENT_NS / 1e9 * src.rate_hz + 12
    assert all(u <= edge for u in unpaired), (unpaired, edge)
    # and the frames are otherwise whole, through the power cuts too (a stray late pulse on a busy
    # machine aside)
    steps = np.round(np.diff(stamps) / period_ns)
    assert np.sum(steps - 1) <= 3 * edge + 0.03 * len(stamps)


def test_a_reader_held_up_past_the_silence_bound_leaves_a_converting_chip_alone(monkeypatch):
    """The callbacks held up for 100 ms (a garbage collection in a big process, a busy core):
    both chips look silent to the sampler's maintain(), but they still convert with our set-up,
    so neither is set up again, and the frames after the hold keep their grid (before: the
    chips were reset, their numbering restarted, and the frames could move off their grid)."""
    kit = load_kit()
    pins = MockFactory()
    bus = build_bus(kit, pin_factory=pins, bus_hz=400_000)
    calls = {"n": 0}
    on_edge = ads_ready.ChipStream._on_edge

    def holding(self, ticks):
        calls["n"] += 1
        if calls["n"] == calls.get("hold_at"):
            calls["at"] = time.monotonic_ns()
            time.sleep(0.1)                               # over SILENT_PERIODS (58 ms at 860 SPS)
        on_edge(self, ticks)
    monkeypatch.setattr(ads_ready.ChipStream, "_on_edge", holding)
    src = AdsSource(kit, bus, pin_factory=pins)
    calls["hold_at"] = calls["n"] + 400                   # after the start-up, in the run below
    setups = []
    for s in src.reader.streams:
        s.setup = lambda setup=s.setup, s=s: (setups.append(s.name), setup())[1]
    stamps = []
    try:
        t_end = time.monotonic() + 1.2
        silent_seen = False
        while time.monotonic() < t_end:
            missing = src.maintain()                      # as the sampler does, every read
            silent_seen |= bool(missing)
            stamps += src.read_paced(0.005)[0]
    finally:
        src.close()
        bus.deinit()
    assert "at" in calls
    assert setups == [], f"chips set up again: {setups}"
    assert silent_seen                                    # the hold was long enough to look silent
    stamps = np.array(stamps)
    period_ns = 1e9 / src.rate_hz
    phase = ((stamps - stamps[0]) / period_ns + 0.5) % 1 - 0.5
    assert np.all(np.abs(phase) < 0.01), "the frames moved off their grid"
    after = stamps[stamps > calls["at"] + 0.2e9]
    assert len(after) > 0.9 * 0.2 * src.rate_hz            # and they keep coming after it
