import json
import os

import numpy as np
import pytest

from analysis.errors import SessionError
from analysis.session import SessionWriter, read_session

from signals import three_sensor_layout


def _write(folder, n=100):
    layout = three_sensor_layout()
    w = SessionWriter(folder, {"rate_hz": 100.0, "subject": {"body_mass_kg": None}}, layout)
    t = np.arange(n) / 100.0
    v = np.arange(n * 3).reshape(n, 3)
    w.write_frames(t, v)
    w.write_landing({"foot": "left", "t_on_s": 0.1, "t_off_s": 0.35, "strike": "forefoot",
                     "strike_index": 78.5, "contact_ms": 250.0, "peak_force_bw": None})
    w.close(health={"frames": n, "late_frames": 0, "skipped_frames": 0, "bus_errors": 0})
    return t, v


def test_write_then_read(tmp_path):
    t, v = _write(tmp_path / "s")
    s = read_session(tmp_path / "s")
    assert np.allclose(s.t_s, t) and np.array_equal(s.values, v)
    assert s.layout.names == ("L_heel", "L_mid", "L_fore")
    assert s.landings[0]["strike"] == "forefoot" and s.landings[0]["strike_index"] == 78.5
    assert s.landings[0]["peak_force_bw"] is None
    assert s.meta["format"] == "insole-session/1" and s.meta["health"]["frames"] == 100


def test_samples_have_six_decimals(tmp_path):
    _write(tmp_path / "s", 3)
    lines = (tmp_path / "s" / "samples.csv").read_text().splitlines()
    assert lines[0] == "t_s,L_heel,L_mid,L_fore"
    assert lines[2] == "0.010000,3,4,5"


def test_torn_last_line_is_dropped(tmp_path):
    _write(tmp_path / "s", 50)
    p = tmp_path / "s" / "samples.csv"
    p.write_bytes(p.read_bytes() + b"0.500000,12,3")          # a power cut mid-line
    s = read_session(tmp_path / "s")
    assert len(s.t_s) == 50 and s.torn_lines == 1


@pytest.mark.parametrize("damage, message", [
    (lambda d: os.remove(d / "session.json"), "no session.json"),
    (lambda d: (d / "session.json").write_text("{nope"), "not valid JSON"),
    (lambda d: (d / "samples.csv").write_text("t_s,a,b\n0,1,2\n"), "header should be"),
    (lambda d: (d / "samples.csv").write_text("t_s,L_heel,L_mid,L_fore\n" + "".join(
        f"{t / 100},1,2,3\n" for t in (5, 3, 4, 1, 2, 0, 9, 7, 8, 6))), "out of time order.*first at line 3"),
])
def test_damaged_folders_get_a_one_line_reason(tmp_path, damage, message):
    _write(tmp_path / "s")
    damage(tmp_path / "s")
    with pytest.raises(SessionError, match=message):
        read_session(tmp_path / "s")


def test_missing_folder(tmp_path):
    with pytest.raises(SessionError, match="no such session folder"):
        read_session(tmp_path / "nothing")


def test_refuses_to_overwrite_a_session(tmp_path):
    _write(tmp_path / "s")
    with pytest.raises(SessionError, match="already holds a session"):
        SessionWriter(tmp_path / "s", {}, three_sensor_layout())


def test_flush_policy_makes_rows_visible_within_half_a_second(tmp_path):
    layout = three_sensor_layout()
    w = SessionWriter(tmp_path / "s", {}, layout, flush_s=0.5, fsync_s=2.0)
    w.write_frames(np.array([0.0]), np.array([[1, 2, 3]]))
    w.tick(now=w._last_flush + 0.6)
    assert (tmp_path / "s" / "samples.csv").read_text().count("\n") == 2
    w.close()


def test_a_session_is_readable_by_its_owner_only_unless_asked(tmp_path, monkeypatch):
    import stat
    from pi.cli import main
    old = os.umask(0o022)                              # the usual umask: others could read the files
    try:
        assert main(["simulate", "--out", str(tmp_path / "mine"), "--duration", "2"]) == 0
        monkeypatch.setenv("INSOLE_SESSION_MODE", "750")
        assert main(["simulate", "--out", str(tmp_path / "shared"), "--duration", "2"]) == 0
    finally:
        os.umask(old)
    for name, dir_mode, file_mode in (("mine", 0o700, 0o600), ("shared", 0o750, 0o640)):
        folder = tmp_path / name
        assert stat.S_IMODE(folder.stat().st_mode) == dir_mode, name
        files = list(folder.iterdir())
        assert {"session.json", "samples.csv", "landings.csv"} <= {f.name for f in files}
        for f in files:
            assert stat.S_IMODE(f.stat().st_mode) == file_mode, (name, f.name)
    monkeypatch.setenv("INSOLE_SESSION_MODE", "644")  # the owner must keep the folder
    assert main(["simulate", "--out", str(tmp_path / "bad"), "--duration", "2"]) == 1
    assert not (tmp_path / "bad").exists()


def test_while_logging_every_file_is_fsynced_at_least_every_2_s(tmp_path, monkeypatch):
    # kill -9 keeps the page cache, so only a power cut tests this promise; count the fsyncs
    import analysis.session as session_mod

    class Clock:
        now = 1000.0

        @staticmethod
        def monotonic():
            return Clock.now
    monkeypatch.setattr(session_mod, "time", Clock)
    synced: dict[str, list[float]] = {}
    real_fsync = os.fsync

    def fsync(fd):
        name = os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))
        synced.setdefault(name.removesuffix(".tmp"), []).append(Clock.now)
        real_fsync(fd)
    monkeypatch.setattr(session_mod.os, "fsync", fsync)
    w = SessionWriter(tmp_path / "s", {"rate_hz": 100.0}, three_sensor_layout())
    start = Clock.now
    for i in range(400):                       # 20 s of logging, a batch every 50 ms…
        Clock.now = start + 0.05 * (i + 1)
        if not 100 <= i < 160:                 # …but none for 3 s (a chip gone): the clock still ticks
            w.write_frames(np.array([Clock.now - start]), np.array([[i, i, i]]))
            w.update_meta(health={"frames": i})
        if i % 20 == 0:
            w.write_landing({"foot": "left", "t_on_s": Clock.now - start, "strike": "forefoot"})
        w.tick()
    for name in ("samples.csv", "landings.csv"):
        times = [start] + synced[name]
        assert max(np.diff(times)) <= 2.0 + 0.05, name      # one batch late at most
        assert Clock.now - times[-1] <= 2.0 + 0.05, name
    # session.json is replaced (and fsynced) within 2 s of each change to it
    changed = [start + 0.05 * (i + 1) for i in range(400) if not 100 <= i < 160]
    assert all(any(0 <= t - u <= 2.0 + 0.05 for t in synced["session.json"]) for u in changed[:-40])


def test_the_header_is_on_disk_at_once(tmp_path):
    SessionWriter(tmp_path / "s", {}, three_sensor_layout())       # never flushed or closed
    assert (tmp_path / "s" / "samples.csv").read_text() == "t_s,L_heel,L_mid,L_fore\n"
    assert len(read_session(tmp_path / "s").t_s) == 0


def test_bad_session_json_fields_get_a_reason(tmp_path):
    w = SessionWriter(tmp_path / "s", {}, three_sensor_layout())
    w.close()
    meta = json.loads((tmp_path / "s" / "session.json").read_text())
    meta["subject"] = "nobody"
    (tmp_path / "s" / "session.json").write_text(json.dumps(meta))
    with pytest.raises(SessionError, match="subject must be a JSON object"):
        read_session(tmp_path / "s")
