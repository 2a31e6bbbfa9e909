"""The `insole` command line as a user meets it (contract 1)."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pi.cli import main

INSOLE = str(Path(sys.executable).with_name("insole"))


def wait_for(folder, pattern: str, timeout_s: float = 20.0, poll_s: float = 0.1) -> None:
    """Until a file matching ``pattern`` is in ``folder`` (a logger has begun its session)."""
    deadline = time.time() + timeout_s
    while time.time() < deadline and not any(folder.glob(pattern)):
        time.sleep(poll_s)


def run(*args, timeout=60, env=None):
    return subprocess.run([INSOLE, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "s1"
    assert main(["simulate", "--out", str(out), "--duration", "30", "--pattern", "forefoot", "--seed", "3"]) == 0
    return out


def test_simulate_writes_a_session_folder(session):
    names = sorted(p.name for p in session.iterdir())
    assert names == ["landings.csv", "samples.csv", "session.json", "truth.csv"]
    meta = json.loads((session / "session.json").read_text())
    assert meta["format"] == "insole-session/1" and meta["rate_hz"] == 200
    assert meta["health"]["frames"] == 6000
    assert len(meta["sensors"]) == 8 and meta["sensors"][0]["calibration"]["model"] == "fsr_divider"


def test_report_json_is_contract_3(session, capsys):
    assert main(["report", str(session), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    for key in ("landings", "strike_counts", "forefoot_pct", "strike_index_median", "cadence_spm",
                "contact_ms_median", "flight_ms_median", "feet", "health"):
        assert key in r
    assert set(r["feet"]) == {"left", "right"}
    assert r["forefoot_pct"] == 100.0                     # a forefoot session
    assert r["cadence_spm"] == pytest.approx(170, rel=0.02)
    assert r["landings"] == r["feet"]["left"]["landings"] + r["feet"]["right"]["landings"]


def test_report_console_summary(session, capsys):
    assert main(["report", str(session)]) == 0
    out = capsys.readouterr().out
    assert "forefoot %" in out and "cadence" in out and "100.0 %" in out


@pytest.mark.parametrize("args, status, message", [
    (["simulate", "--out", "X", "--pattern", "tiptoe"], 2, "invalid choice: 'tiptoe'"),
    (["simulate", "--out", "X", "--cadence", "900"], 2, "must be at most 260"),
    (["simulate", "--out", "X", "--duration", "-3"], 2, "must be above 0"),
    (["simulate", "--out", "X", "--duration", "abc"], 2, "expected a number"),
    (["report", "/no/such/session"], 1, "no such session folder: /no/such/session"),
    (["run", "--source", "replay", "--headless"], 2, "needs --session"),
    (["run", "--source", "ads", "--headless"], 1, "no I2C bus here"),          # not a Pi
    (["run", "--config", "/no/kit.toml", "--headless"], 1, "/no/kit.toml"),
    (["frobnicate"], 2, "invalid choice: 'frobnicate'"),
    (["run", "--speed", "3", "--headless"], 2, "--speed only goes with --source replay"),
    (["run", "--source", "replay", "--session", "X", "--pattern", "forefoot"], 2,
     "--pattern shapes the simulated runner; --source replay plays what was recorded"),
    (["run", "--source", "ads", "--cadence", "180", "--seed", "2"], 2, "--cadence, --seed shape the simulated runner"),
    (["report", "X:"], 2, "nothing after the ':'"),
])
def test_bad_input_gets_one_line_and_no_traceback(tmp_path, args, status, message):
    p = run(*args)
    assert p.returncode == status, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("insole: error: "), p.stderr
    assert message in lines[0]
    assert "Traceback" not in p.stderr + p.stdout


def test_debug_shows_the_traceback():
    p = run("report", "/no/such/session", env={"INSOLE_DEBUG": "1"})
    assert p.returncode == 1 and "Traceback" in p.stderr


def test_simulate_refuses_to_overwrite(session):
    p = run("simulate", "--out", str(session), "--duration", "1")
    assert p.returncode == 1 and "already exists" in p.stderr
    assert (session / "truth.csv").stat().st_size > 0          # nothing lost


def test_headless_run_logs_landings_and_a_session(tmp_path):
    p = run("run", "--source", "sim", "--headless", "--duration", "3", "--out", str(tmp_path), "--pattern", "rearfoot")
    assert p.returncode == 0, p.stderr
    lines = [l for l in p.stdout.splitlines() if " HEEL " in l]
    assert len(lines) >= 5                                      # ~8 landings in 3 s at 170 spm
    folder = next(tmp_path.iterdir())
    r = json.loads(run("report", str(folder), "--json").stdout)
    assert r["strike_counts"]["rearfoot"] == r["landings"] >= 5
    meta = json.loads((folder / "session.json").read_text())
    assert meta["health"]["frames"] >= 550                      # 3 s at 200 frames/s
    # the summary's frame rate is the session's: its frames over its 3 s
    rate = float(p.stdout.split("frames/s (average)", 1)[1].split()[0].split("/")[0])
    assert rate == pytest.approx(meta["health"]["frames"] / 3.0, rel=0.05)


def test_replay_plays_a_session_through_the_pipeline(session, tmp_path):
    p = run("run", "--source", "replay", "--session", str(session), "--speed", "30", "--headless",
            "--out", str(tmp_path))
    assert p.returncode == 0, p.stderr
    folder = next(tmp_path.iterdir())
    # the replay keeps every recorded frame and the recorded subject, not the kit's
    assert json.loads((folder / "session.json").read_text())["health"]["frames"] == 6000
    assert json.loads((folder / "session.json").read_text())["subject"] == \
        json.loads((session / "session.json").read_text())["subject"]
    original = json.loads(run("report", str(session), "--json").stdout)
    replayed = json.loads(run("report", str(folder), "--json").stdout)
    assert replayed["landings"] == original["landings"]
    assert replayed["strike_counts"] == original["strike_counts"]


def _start_logger(tmp_path):
    p = subprocess.Popen([INSOLE, "run", "--source", "sim", "--headless", "--out", str(tmp_path)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(tmp_path, "*")
    time.sleep(4.0)                    # long enough for two fsyncs
    return p


def test_sigterm_stops_cleanly_with_a_summary(tmp_path):
    p = _start_logger(tmp_path)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=20)
    assert p.returncode == 0, err
    assert "session saved to" in out
    folder = next(tmp_path.iterdir())
    meta = json.loads((folder / "session.json").read_text())
    assert meta["health"]["frames"] > 500 and "ended_at" in meta


def test_kill_9_leaves_a_folder_that_report_reads(tmp_path):
    p = _start_logger(tmp_path)
    p.kill()
    p.wait(timeout=10)
    folder = next(tmp_path.iterdir())
    r = run("report", str(folder), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["landings"] >= 5               # ≥ 2 s of running survived


def test_report_on_the_parent_of_sessions_names_one(tmp_path, capsys):
    from pi.cli import main
    assert main(["simulate", "--out", str(tmp_path / "runs" / "a"), "--duration", "2"]) == 0
    capsys.readouterr()
    assert main(["report", str(tmp_path / "runs")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"insole: error: {tmp_path / 'runs'} holds session folders; name one, e.g. {tmp_path / 'runs' / 'a'}"


@pytest.mark.parametrize("command", ["run", "simulate", "report", "check", "calibrate", "import", "compare", "sessions", "drawings"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as e:
        main([command, "--help"])
    assert e.value.code == 0
    assert f"usage: insole {command}" in capsys.readouterr().out


def test_replay_keeps_the_recordings_markers(tmp_path):
    drill = tmp_path / "drill"
    assert main(["simulate", "--out", str(drill), "--duration", "4", "--then", "backward:forefoot:3"]) == 0
    p = run("run", "--source", "replay", "--session", str(drill), "--speed", "20", "--headless",
            "--out", str(tmp_path / "out"))
    assert p.returncode == 0, p.stderr
    folder = next((tmp_path / "out").iterdir())
    markers = json.loads((folder / "session.json").read_text())["markers"]
    recorded = json.loads((drill / "session.json").read_text())["markers"]
    assert markers == recorded and [m["label"] for m in markers] == ["backward-forefoot"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_to_the_whole_process_group_ends_the_run_cleanly(tmp_path, sig):
    # a terminal closed (SIGHUP), `timeout`, `kill -- -PGID`: the sampler, settler and board
    # processes get the signal too; they must leave the stop to the logger
    p = subprocess.Popen([INSOLE, "run", "--source", "emulated", "--board", "ideal", "--headless",
                          "--out", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    wait_for(tmp_path, "*/landings.csv", 60)
    time.sleep(3.0)                    # sampling, the helpers all started
    os.killpg(p.pid, sig)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert "session saved to" in out and "error" not in err
    folder = next(tmp_path.iterdir())
    meta = json.loads((folder / "session.json").read_text())
    rows = (folder / "samples.csv").read_text().count("\n") - 1
    assert "ended_at" in meta and meta["health"]["frames"] == rows > 300


def _run_with_file_limit(limit_bytes, *args):
    # a file-size limit stands in for a full disk: a write past it fails (EFBIG) as at ENOSPC
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    return subprocess.run([INSOLE, *args], capture_output=True, text=True, preexec_fn=limit, timeout=90)


def test_a_disk_full_while_logging_says_how_much_was_saved(tmp_path):
    r = _run_with_file_limit(60_000, "run", "--source", "sim", "--headless", "--duration", "20", "--out", str(tmp_path))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    folder = next(tmp_path.iterdir())
    assert str(folder) in r.stderr
    said = re.search(r"session saved to \S+, (\d+) of its (\d+) frames \(the rest could not be written\)",
                     " ".join(r.stdout.split()))
    assert said, r.stdout
    saved, sampled = int(said[1]), int(said[2])
    rows = (folder / "samples.csv").read_bytes().count(b"\n") - 1
    assert 0 < saved <= rows < sampled                    # never more claimed than is on disk


def test_a_session_folder_deleted_while_logging_is_not_called_saved(tmp_path):
    p = subprocess.Popen([INSOLE, "run", "--source", "sim", "--headless", "--duration", "8", "--out", str(tmp_path)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(tmp_path, "*/samples.csv", poll_s=0.05)
    import shutil
    shutil.rmtree(next(tmp_path.iterdir()))
    out, err = p.communicate(timeout=30)
    out = " ".join(out.split())
    assert "session saved to" not in out and "is gone (removed while logging): nothing of this session is saved" in out


def test_a_full_disk_before_the_start_leaves_no_empty_session(tmp_path):
    r = _run_with_file_limit(1000, "run", "--source", "sim", "--headless", "--duration", "5", "--out", str(tmp_path / "s"))
    assert r.returncode == 1
    assert re.fullmatch(rf"insole: error: cannot start a session in {re.escape(str(tmp_path / 's'))}/\S+: "
                        r"File too large \(is the disk full\?\)\n", r.stderr)
    assert list((tmp_path / "s").iterdir()) == []


def test_heel_is_the_word_for_people_and_rearfoot_the_files(tmp_path, capsys):
    out = tmp_path / "h"
    assert main(["simulate", "--out", str(out), "--duration", "10", "--pattern", "heel"]) == 0
    assert "simulated (heel," in capsys.readouterr().err
    rows = (out / "truth.csv").read_text().splitlines()
    assert rows[1].split(",")[3] == "rearfoot"
    assert main(["report", str(out)]) == 0
    table = capsys.readouterr().out
    assert "│ heel " in table and "rearfoot" not in table and "HEEL" not in table


def test_report_on_a_session_being_recorded_says_so_not_that_it_was_killed(tmp_path, capsys):
    p = subprocess.Popen([INSOLE, "run", "--source", "sim", "--headless", "--duration", "20", "--out", str(tmp_path)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(tmp_path, "*/landings.csv")
        time.sleep(4.0)
        assert main(["report", str(next(tmp_path.iterdir())), "--json"]) == 0
        notes = json.loads(capsys.readouterr().out)["notes"]
        assert any("still being recorded" in n for n in notes) and not any("did not end cleanly" in n for n in notes)
    finally:
        p.terminate()
        p.wait(10)
