"""The live display: what a runner reads on the screen, and a display thread that never gets in
the way. Screens are rendered to a colourless recording console and checked as text."""

from __future__ import annotations

import io
import math
import threading
import time

from rich.console import Console

from pi.display import (LiveDisplay, big_text, foot_grid, headless_line, render, summary_renderable)
from pi.snapshot import FootView, Health, LandingView, Snapshot

# Row 0 of the block letters, spelled out here so a change of font is a visible test failure.
FOREFOOT_ROW0 = "█████  ███  ████  █████ █████  ███   ███  █████"
HEEL_ROW0 = "█   █ █████ █████ █"
MIDFOOT_ROW0 = "█   █ ███ ████  █████  ███   ███  █████"


def sensors(prefix: str):
    return ((f"{prefix}_heel", 0.50, 0.10), (f"{prefix}_midlat", 0.85, 0.45),
            (f"{prefix}_mt5", 0.85, 0.66), (f"{prefix}_mt1", 0.25, 0.72))


def make_snapshot(strike="forefoot", si=78.0, rate_achieved=399.2, notice=None, landing=True,
                  rate_average=397.4) -> Snapshot:
    left = FootView("left", sensors("L"), cop_path=((0.80, 0.70), (0.75, 0.60), (0.70, 0.50)),
                    last_strike=strike, last_strike_index=si, landings=206, forefoot_pct_last20=95.0,
                    forefoot_pct_session=94.7, cadence_spm=171.2, contact_ms=231.0)
    right = FootView("right", sensors("R"), cop_path=(), last_strike="midfoot", last_strike_index=45.0,
                     landings=205, forefoot_pct_last20=85.0, forefoot_pct_session=88.3,
                     cadence_spm=168.8, contact_ms=244.0)
    recent = tuple(LandingView("left", s, 50.0, 10.0 + i, i + 1)
                   for i, s in enumerate(["forefoot", "midfoot", "rearfoot", "forefoot"]))
    return Snapshot(source="sim", session_dir="sessions/run-042", elapsed_s=201.4,
                    health=Health(frames=80000, late_frames=3, skipped_frames=1, bus_errors=0,
                                  rate_hz_nominal=400.0, rate_hz_achieved=rate_achieved,
                                  rate_hz_average=rate_average),
                    feet=(left, right),
                    last_landing=LandingView("left", strike, si, 200.9, 411) if landing else None,
                    landings=411, forefoot_pct_last20=90.0, forefoot_pct_session=91.5,
                    notice=notice, recent=recent if landing else ())


def screen(renderable, width=100, height=30) -> str:
    console = Console(width=width, height=height, record=True, color_system=None, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def line_with(text: str, label: str) -> str:
    lines = [ln for ln in text.splitlines() if label in ln]
    assert lines, f"no line with {label!r} in:\n{text}"
    return lines[0]


def figures(text: str, label: str, n: int = 3) -> list[str]:
    """The ``n`` words after ``label`` on its line (the feet may be drawn further right)."""
    return line_with(text, label).split(label, 1)[1].split()[:n]


# ------------------------------------------------------------------------------ verdict ---
def test_verdict_is_drawn_in_block_letters_with_si_foot_and_number():
    text = screen(render(make_snapshot()))
    assert FOREFOOT_ROW0 in text
    assert HEEL_ROW0 not in text
    assert "SI 78" in text and "LEFT foot" in text and "landing #411" in text


def test_each_strike_has_its_own_word():
    assert HEEL_ROW0 in screen(render(make_snapshot(strike="rearfoot", si=12.0)))
    mid = screen(render(make_snapshot(strike="midfoot", si=50.0)))
    assert MIDFOOT_ROW0 in mid and FOREFOOT_ROW0 not in mid and "SI 50" in mid


def test_big_text_is_five_rows_and_scales():
    assert big_text("HEEL").plain.splitlines() == [HEEL_ROW0, "█   █ █     █     █", "█████ ████  ████  █",
                                                  "█   █ █     █     █", "█   █ █████ █████ █████"]
    double = big_text("HEEL", scale=2).plain.splitlines()
    assert len(double) == 10 and double[0].startswith("██      ██")


def test_waiting_before_the_first_landing():
    text = screen(render(make_snapshot(landing=False)))
    assert "waiting for the first landing" in text
    assert FOREFOOT_ROW0 not in text and "SI " not in text


def test_recent_strip_shows_letters_newest_last():
    assert "recent F M H F ← newest" in screen(render(make_snapshot()))


# ------------------------------------------------------------------------------ figures ---
def test_forefoot_percentages_cadence_and_contact_per_foot():
    text = screen(render(make_snapshot()))
    assert figures(text, "forefoot % last 20") == ["95", "85", "90"]
    assert figures(text, "forefoot % session") == ["95", "88", "92"]
    # the "all" cadence is the mean of the feet (contract 3), contact likewise
    assert figures(text, "cadence spm") == ["171", "169", "170"]
    assert figures(text, "contact ms") == ["231", "244", "238"]
    assert figures(text, "landings") == ["206", "205", "411"]


def test_health_line_ok_and_low():
    ok = line_with(screen(render(make_snapshot())), "sampling")
    assert "399.2/400 fps" in ok and "LOW" not in ok
    assert "late 3" in ok and "skipped 1" in ok and "bus errors 0" in ok
    low = line_with(screen(render(make_snapshot(rate_achieved=371.0))), "sampling")
    assert "371.0/400 fps LOW (93 %)" in low


def test_health_flags_growing_counters_against_earlier_health():
    before = Health(frames=79000, late_frames=1, skipped_frames=1, bus_errors=0, rate_hz_nominal=400.0)
    line = line_with(screen(render(make_snapshot(), health_before=before)), "sampling")
    assert "late 3 +2" in line and "skipped 1 +" not in line


def test_status_header_notice_and_hint():
    text = screen(render(make_snapshot(notice="no kit found: using the simulated insole")))
    header = text.splitlines()[0]
    assert "● REC" in header and "03:21" in header and "sessions/run-042" in header
    assert "Ctrl-C to stop" in header
    assert "⚠ no kit found: using the simulated insole" in text


# ----------------------------------------------------------------------------- the feet ---
def test_sensors_at_their_rows_heel_low_metatarsals_high():
    grid = foot_grid(FootView("right", sensors("R")), rows=20, cols=15)
    rows = [r for r, row in enumerate(grid) for ch in row if ch == "◉"]
    assert sorted(rows) == [5, 6, 11, 18]            # mt1 (y .72), mt5 (.66), midlat (.45), heel (.10)


def test_left_foot_is_mirrored_so_big_toes_face_the_middle():
    def col_of(grid, row):
        return next(c for c, ch in enumerate(grid[row]) if ch == "◉")
    one = ((("mt1", 0.25, 0.72),), (("mt5", 0.85, 0.72),))
    right = [col_of(foot_grid(FootView("right", s), 20, 15), 5) for s in one]
    left = [col_of(foot_grid(FootView("left", s), 20, 15), 5) for s in one]
    assert right[0] < right[1]          # right foot: medial (mt1) on the screen's left
    assert left[0] > left[1]            # left foot: medial on the screen's right


def test_cop_first_point_is_marked_distinctly():
    path = ((0.5, 0.75), (0.5, 0.55), (0.5, 0.35), (0.5, 0.15))
    grid = foot_grid(FootView("right", (), cop_path=path), rows=20, cols=15)
    marks = {(r, ch) for r, row in enumerate(grid) for ch in row if ch in "✚•"}
    assert marks == {(5, "✚"), (9, "•"), (13, "•"), (17, "•")}


def test_feet_on_screen_heel_sensor_below_metatarsals_and_touchdown_shown():
    lines = screen(render(make_snapshot())).splitlines()
    sensor_rows = [i for i, ln in enumerate(lines) if "◉" in ln and "sensor" not in ln]
    assert sensor_rows[-1] - sensor_rows[0] >= 12      # heel far below the metatarsal heads
    assert sum(ln.count("✚") for ln in lines) == 2      # left touchdown + the legend
    assert "LEFT" in lines[1] and "RIGHT" in lines[1]


# ------------------------------------------------------------------------------- sizes ---
def test_fits_80x24():
    text = screen(render(make_snapshot(notice="no kit found: using the simulated insole")), 80, 24)
    lines = text.splitlines()
    assert len(lines) == 24 and max(len(ln) for ln in lines) <= 80
    assert FOREFOOT_ROW0 in text and "Ctrl-C to stop" in lines[0]
    assert "sampling" in lines[-2] and "no kit found" in lines[-1]
    assert figures(text, "cadence spm") == ["171", "169", "170"]


def test_uses_double_letters_on_a_large_screen():
    text = screen(render(make_snapshot()), 160, 48)
    assert "".join(ch * 2 for ch in FOREFOOT_ROW0) in text


def test_none_fields_and_empty_feet_do_not_crash():
    bare = Snapshot(source="ads", session_dir="", elapsed_s=float("nan"), health=Health(), feet=(),
                    last_landing=LandingView("left", "unknown", math.nan, math.nan, 1))
    text = screen(render(bare), 80, 24)
    assert "no sensors" in text and "SI —" in text and "—/0 fps" in text and "--:--" in text
    empty = FootView("left", ())
    assert "waiting" in screen(render(Snapshot("sim", "s", 0.0, Health(rate_hz_nominal=100.0), (empty,))))


# ------------------------------------------------------------------- headless, summary ---
def test_headless_line_is_plain_and_fixed():
    foot = FootView("left", (), cadence_spm=171.2, contact_ms=231.0)
    line = headless_line(LandingView("left", "forefoot", 78.3, 12.345, 5), foot)
    assert line == "00:12.345  left   FOREFOOT  SI 78  contact 231 ms  cadence 171 spm"
    line = headless_line(LandingView("right", "rearfoot", 8.0, 754.0, 6), None)
    assert line == "12:34.000  right  HEEL      SI  8  contact --- ms  cadence --- spm"
    assert "\x1b" not in line


def test_summary_with_report_figures():
    report = {"landings": 411, "strike_counts": {"forefoot": 390, "midfoot": 14, "rearfoot": 7},
               "forefoot_pct": 94.9, "strike_index_median": 78.1, "cadence_spm": 170.0,
               "contact_ms_median": 236.0,
               "feet": {"left": {"landings": 206, "strike_counts": {"forefoot": 196, "midfoot": 7, "rearfoot": 3},
                                 "forefoot_pct": 95.1, "strike_index_median": 79.0, "cadence_spm": 171.2,
                                 "contact_ms_median": 231.0}}}
    text = screen(summary_renderable(make_snapshot(), report), width=120)
    ff = line_with(text, "forefoot ")
    assert "196 (95 %)" in ff and "390 (95 %)" in ff
    assert "7 (2 %)" in line_with(text, "heel")
    assert figures(text, "strike index median") == ["79.0", "—", "78.1"]
    # the folder is printed under the table (pi.run): a title this short does not wrap
    assert "insole session summary, 03:21" in line_with(text, "summary")
    assert figures(text, "late / skipped frames") == ["3", "/", "1"]
    assert figures(text, "frames/s (average)", 1) == ["397.4/400"]


def test_summary_from_snapshot_only():
    text = screen(summary_renderable(make_snapshot()), width=120)
    assert figures(text, "landings") == ["206", "205", "411"]
    assert "195 (95 %)" in line_with(text, "forefoot ")        # 94.7 % of 206
    assert "—" in line_with(text, "midfoot")
    assert figures(text, "cadence spm") == ["171.2", "168.8", "170.0"]
    bare = screen(summary_renderable(None))                      # no snapshot: still a table
    assert "insole session summary" in bare and figures(bare, "landings", 1) == ["—"]
    low = screen(summary_renderable(make_snapshot(rate_average=300.0)), width=120)
    assert figures(low, "frames/s (average)", 2) == ["300.0/400", "LOW"]


def test_summary_shows_the_sessions_average_rate_not_the_last_seconds():
    # the live figure is the last ~2 s; a session that lost frames earlier averaged less
    snap = make_snapshot(rate_achieved=399.0, rate_average=350.0)
    text = screen(summary_renderable(snap), width=120)
    assert figures(text, "frames/s (average)", 2) == ["350.0/400", "LOW"]
    assert "399.0" not in text


# ------------------------------------------------------------------------- live thread ---
def quiet_console(**kw) -> Console:
    return Console(width=100, height=30, color_system=None, file=io.StringIO(), **kw)


def test_live_display_starts_stops_fast_and_polls_the_snapshot():
    calls = []
    snap = make_snapshot()

    def get():
        calls.append(time.monotonic())
        return snap
    t0 = time.monotonic()
    with LiveDisplay(get, console=quiet_console(), refresh_hz=10) as display:
        time.sleep(0.5)
    assert time.monotonic() - t0 < 1.0
    assert 3 <= len(calls) <= 7                          # ~10 Hz over 0.5 s
    assert display.errors == 0 and display.frames == len(calls)
    n = len(calls)
    time.sleep(0.25)
    assert len(calls) == n                               # really stopped


def test_refresh_rate_is_capped_at_10_hz():
    calls = []
    with LiveDisplay(lambda: calls.append(1) or None, console=quiet_console(), refresh_hz=100):
        time.sleep(0.5)
    assert len(calls) <= 7


def test_a_raising_get_snapshot_stays_in_the_display_thread():
    def get():
        raise RuntimeError("producer broke")
    with LiveDisplay(get, console=quiet_console()) as display:
        time.sleep(0.3)
    assert display.errors >= 2 and "producer broke" in display.last_error


def test_a_slow_get_snapshot_does_not_hold_up_the_caller():
    release = threading.Event()

    def get():
        release.wait(5.0)
        return make_snapshot()
    t0 = time.monotonic()
    display = LiveDisplay(get, console=quiet_console())
    display.start()
    started = time.monotonic() - t0
    display.stop()
    assert started < 0.1 and time.monotonic() - t0 < 1.0
    release.set()


def test_live_display_draws_on_a_terminal_in_the_alternate_screen():
    console = quiet_console(force_terminal=True)
    with LiveDisplay(make_snapshot, console=console) as display:
        time.sleep(0.3)
    out = console.file.getvalue()
    assert display.screen and display.frames >= 1
    assert "\x1b[?1049h" in out and "\x1b[?1049l" in out     # entered and left the alternate screen
    assert FOREFOOT_ROW0 in out


def test_a_chip_that_stopped_answering_is_shown():
    from dataclasses import replace
    snap = make_snapshot()
    snap = replace(snap, health=replace(snap.health, chips_missing=("right",)))
    text = screen(render(snap))
    assert "CHIP RIGHT NOT ANSWERING" in line_with(text, "sampling")
    assert "NOT ANSWERING" not in screen(render(make_snapshot()))


# ------------------------------------------------------------------- the sampler's rates ---
def test_sampler_average_counts_a_stall_the_recent_rate_has_forgotten():
    import queue

    import numpy as np

    from pi.sampler import Sampler
    from pi.sources.base import FrameSource

    class Stalling(FrameSource):        # 100 frames/s, but the first read takes 1 s
        rate_hz, stalled = 100.0, False

        def read(self, n):
            if not self.stalled:
                self.stalled = True
                time.sleep(1.0)
            return np.zeros(n), np.zeros((n, 2))

    sampler = Sampler(Stalling(), queue.SimpleQueue(), duration_s=3.0)
    assert sampler.average_hz() is None                       # not started
    sampler.start()
    sampler.join(10)
    assert sampler.ended.is_set() and 150 <= sampler.frames <= 205
    assert abs(sampler.average_hz() - sampler.frames / 3.0) < 3             # its frames over its 3 s
    assert sampler.average_hz() < 70 < sampler.achieved_hz()                # the last 2 s ran at ~100


def test_the_path_under_a_foot_is_always_the_landing_its_caption_names():
    # a mixed run: the caption changes ~40 ms after each landing; the path drawn must be that
    # landing's, growing, never the previous landing's ("FOREFOOT 67" over a path from the heel)
    import numpy as np

    from pi.kit import load_kit
    from pi.pipeline import Pipeline
    from pi.simulator import SimSettings, SimulatedRunner

    kit = load_kit()
    runner = SimulatedRunner(kit.layout, kit.rate_hz, SimSettings(pattern="mixed", seed=3,
                                                                  mixed_proportions=(0.5, 0.0, 0.5)))
    pipe = Pipeline(kit.layout, kit.rate_hz, 70.0)
    seen = {"forefoot": 0, "rearfoot": 0}
    growing = 0
    for _ in range(int(30 * kit.rate_hz / 4)):          # 30 s in blocks of 4 frames (20 ms)
        pipe.process(*runner.read(4))
        for foot in ("left", "right"):
            v = pipe.foot_view(foot)
            if v.last_strike not in seen or not v.cop_path:
                continue
            first_y = v.cop_path[0][1]
            if v.last_strike == "forefoot":
                assert first_y > 0.5, (foot, v.last_strike, v.last_strike_index, v.cop_path[:3])
            else:
                assert first_y < 0.35, (foot, v.last_strike, v.last_strike_index, v.cop_path[:3])
            seen[v.last_strike] += 1
            growing += v.in_contact
    assert min(seen.values()) > 100 and growing > 100


def test_the_disk_left_is_shown_as_time_and_warned_before_it_runs_out():
    from dataclasses import replace

    from pi.disk import DiskWatch
    now = {"t": 0.0, "bytes": 0}
    watch = DiskWatch("/x", lambda: now["bytes"], clock=lambda: now["t"], free=lambda: 5_000_000)
    assert watch.left_s() is None                          # no rate yet
    now.update(t=10.0, bytes=100_000)                      # 10 kB/s: 5 MB last 500 s
    left = watch.left_s()
    assert left == 500.0
    assert watch.warning(left) == "the disk under /x is full in about 8 min at this rate"
    assert watch.warning(left) is None                     # said once
    assert "DISK FULL IN 8 MIN" in screen(render(replace(make_snapshot(), disk_left_s=left)))
    plenty = screen(render(replace(make_snapshot(), disk_left_s=7 * 3600 + 600)))
    assert "disk 7 h 10 min left" in plenty and "DISK FULL" not in plenty


def test_a_replay_shows_the_recordings_time_its_progress_and_the_speed():
    from dataclasses import replace
    text = screen(render(replace(make_snapshot(), source="replay", replay=(150.0, 600.0, 4.0))))
    assert "02:30 of 10:00 (25 %) at 4×" in text
    assert "02:30 of" not in screen(render(make_snapshot()))
