"""The headless boot service: its systemd unit, and ``insole run --wait-for-button`` driven through
gpiozero's MockFactory (the start/stop button pressed, the logging LED and the buzzer read back)."""

import getpass
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from mockpins import press
from pi.cli import main
from pi.realtime import PRIORITY
from pi.service import unit_text

INSOLE = str(Path(sys.executable).with_name("insole"))
START_STOP, MARKER, BUZZER, LED = 5, 6, 13, 19          # hardware/kit-default.toml [gpio]


# ------------------------------------------------------------------------------ the unit ---

def unit_settings(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            out.setdefault(key, []).append(value)
    return out


def test_the_unit_runs_the_button_logger_as_the_user_and_stops_it_cleanly(tmp_path):
    repo = tmp_path / "insole"
    s = unit_settings(unit_text("pi", "/home/pi/insole/sessions", repo=repo))
    assert s["ExecStart"] == [f"{repo}/.venv/bin/insole run --wait-for-button --out /home/pi/insole/sessions"]
    assert s["User"] == ["pi"] and s["WorkingDirectory"] == [str(repo)]
    # SIGTERM to the logger alone (it closes the session and stops its own sampler process)
    assert s["KillSignal"] == ["SIGTERM"] and s["KillMode"] == ["mixed"]
    assert s["LimitRTPRIO"] == [str(PRIORITY)]           # the chips' reader may run real-time
    assert int(s["TimeoutStopSec"][0]) >= 10
    assert s["WantedBy"] == ["multi-user.target"]
    assert s["RestartPreventExitStatus"] == ["2"]          # a kit file mistake is not retried forever
    assert "Environment=GPIOZERO_PIN_FACTORY" not in unit_text("pi", "/d", repo=repo)
    assert "Environment=GPIOZERO_PIN_FACTORY=lgpio" in unit_text("pi", "/d", repo=repo, pin_factory="lgpio")


@pytest.mark.parametrize("user, data, message", [
    ("pi", "sessions", "absolute path"), ("", "/d", "not a user name"), ("a b", "/d", "not a user name"),
    ("pi", "/srv/a\nExecStartPre=/bin/rm -rf /home", "control character"), ("pi", "/srv/a\rb", "control character"),
    ("pi", "/srv/a\x1b[2Jb", "control character"), ("pi\n", "/d", "not a user name")])
def test_the_unit_refuses_what_systemd_would_misread(user, data, message):
    from analysis.errors import UsageError
    with pytest.raises(UsageError, match=message):
        unit_text(user, data)


def test_no_path_can_add_a_line_to_the_unit(tmp_path):
    from analysis.errors import UsageError
    with pytest.raises(UsageError, match="control character"):
        unit_text("pi", "/d", repo="/opt/in\nsole")
    with pytest.raises(UsageError, match="pin factory"):
        unit_text("pi", "/d", pin_factory="lgpio\nExecStartPre=/bin/true")
    p = subprocess.run([sys.executable, "-m", "pi.service", "unit", "--user", "pi", "--data", "/srv/a\nExecStartPre=/bin/true"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and p.stdout == "" and "control character" in p.stderr and "Traceback" not in p.stderr


def fake_repo(base: Path, name: str) -> Path:
    """A repository folder whose .venv/bin/insole exists (systemd-analyze checks the program)."""
    repo = base / name
    (repo / ".venv/bin").mkdir(parents=True)
    exe = repo / ".venv/bin/insole"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    return repo


def verify(unit: str, folder: Path) -> subprocess.CompletedProcess:
    path = folder / "insole.service"
    path.write_text(unit)
    return subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=60)


needs_systemd = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                   reason="systemd-analyze is not installed here (no systemd)")


@needs_systemd
@pytest.mark.parametrize("name", ["insole", "my insole (100% $HOME)"])
def test_the_unit_passes_systemd_analyze_verify(tmp_path, name):
    repo = fake_repo(tmp_path, name)
    p = verify(unit_text(getpass.getuser(), tmp_path / "data dir", repo=repo, pin_factory="lgpio"), tmp_path)
    assert p.returncode == 0 and "insole.service" not in p.stdout + p.stderr, p.stdout + p.stderr


@needs_systemd
def test_systemd_analyze_verify_would_catch_a_path_left_unquoted(tmp_path):
    # the check above can fail: the same unit with the path with a space written bare does
    repo = fake_repo(tmp_path, "my insole")
    unit = unit_text(getpass.getuser(), tmp_path / "data", repo=repo)
    bare = unit.replace(f'"{repo}/.venv/bin/insole"', f"{repo}/.venv/bin/insole")
    assert bare != unit
    assert verify(bare, tmp_path).returncode != 0


def test_python_m_pi_service_prints_the_unit(tmp_path):
    p = subprocess.run([sys.executable, "-m", "pi.service", "unit", "--user", "pi", "--data", "/srv/s",
                        "--pin-factory", "lgpio"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout == unit_text("pi", "/srv/s", pin_factory="lgpio")
    p = subprocess.run([sys.executable, "-m", "pi.service", "unit", "--user", "pi", "--data", "rel"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and p.stderr.startswith("insole: error: the data folder must be an absolute path")


# ---------------------------------------------------------------------- the button loop ---

@pytest.fixture
def pins():
    factory = MockFactory()
    Device.pin_factory = factory
    yield factory
    Device.pin_factory = None
    factory.reset()


def watch(pins, pin, seconds: float) -> tuple[float, int]:
    """(share of ``seconds`` the pin was high, number of changes), sampled every 5 ms."""
    p = pins.pin(pin)
    samples = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        samples.append(p.state)
        time.sleep(0.005)
    return sum(samples) / len(samples), sum(a != b for a, b in zip(samples, samples[1:]))


def beeps_since(pins, pin, n_states: int) -> list[float]:
    """Lengths (s) of the buzzer's beeps after its first ``n_states`` recorded states."""
    states = pins.pin(pin).states[n_states:]
    # MockPin stamps each state with the time since the previous change
    return [round(b.timestamp, 2) for a, b in zip(states, states[1:]) if a.state and not b.state]


def serve(tmp_path, user, *extra) -> tuple[int, list]:
    """``insole run --wait-for-button`` on the simulated insole in this (the main) thread, while
    ``user`` (a function) presses buttons on another; returns (exit status, what ``user`` saw)."""
    seen: list = []
    done = threading.Event()

    def act():
        try:
            user(seen)
        finally:
            done.set()
            os.kill(os.getpid(), signal.SIGTERM)            # as systemctl stop, or a shutdown
    threading.Thread(target=act, daemon=True).start()
    status = main(["run", "--wait-for-button", "--out", str(tmp_path / "data"), *extra])
    assert done.is_set(), "the logger ended before the user was done"
    return status, seen


def sessions(tmp_path) -> list[dict]:
    folders = sorted((tmp_path / "data").iterdir()) if (tmp_path / "data").exists() else []
    return [json.loads((f / "session.json").read_text()) for f in folders]


def test_the_button_starts_and_stops_sessions_again_and_again_with_the_led_showing_the_state(tmp_path, pins, capsys):
    def user(seen):
        time.sleep(0.5)
        seen.append(("idle", watch(pins, LED, 2.5)))
        press(pins, MARKER)                   # a marker pressed while idle is no session's
        press(pins, START_STOP)
        time.sleep(1.0)
        seen.append(("recording", watch(pins, LED, 1.5)))
        seen.append(("folders while recording", len(list((tmp_path / "data").iterdir()))))
        press(pins, START_STOP)
        time.sleep(1.5)
        seen.append(("after the stop", watch(pins, LED, 2.5)))
        seen.append(("first session closed", "ended_at" in sessions(tmp_path)[0]))
        press(pins, START_STOP)               # a second session, then the system shuts down
        time.sleep(2.5)

    status, seen = serve(tmp_path, user, "--source", "sim")
    assert status == 0
    seen = dict(seen)
    on, changes = seen["idle"]
    assert 0 < on < 0.2 and changes >= 2                     # a short flash every 2 s
    assert seen["recording"] == (1.0, 0)                      # steady on
    on, changes = seen["after the stop"]
    assert 0 < on < 0.2 and changes >= 2                     # idle again
    assert seen["folders while recording"] == 1 and seen["first session closed"]
    metas = sessions(tmp_path)
    assert len(metas) == 2
    assert all("ended_at" in m for m in metas)                # the shutdown closed the second one too
    assert all(m["health"]["frames"] > 300 for m in metas)    # 2.5 s at 200 frames/s, each
    assert [m["markers"] for m in metas] == [[], []]
    assert not pins.pin(LED).state                            # off when the logger ends
    out = capsys.readouterr().out
    assert out.count("insole: waiting for the start/stop button (GPIO 5)") == 2     # at start, after session 1
    assert out.count("session saved to") == 2 and out.rstrip().endswith("insole: stopped")


def test_the_buzzer_confirms_start_and_stop(tmp_path, pins):
    def user(seen):
        time.sleep(0.3)
        n = len(pins.pin(BUZZER).states)
        press(pins, START_STOP)
        time.sleep(1.0)
        seen.append(beeps_since(pins, BUZZER, n))
        n = len(pins.pin(BUZZER).states)
        press(pins, START_STOP)
        time.sleep(1.5)
        seen.append(beeps_since(pins, BUZZER, n))

    # --pattern forefoot: no heel landings, so the landing beeps do not mix in
    status, (start, stop) = serve(tmp_path, user, "--source", "sim", "--pattern", "forefoot")
    assert status == 0
    assert start == [pytest.approx(0.4, abs=0.1)]                               # one long beep
    assert stop == [pytest.approx(0.08, abs=0.05)] * 2                           # two short ones


def test_no_kit_at_a_press_is_an_error_shown_and_the_next_press_tries_again(tmp_path, pins, capsys):
    # no --source: the kit's chips are required (this machine has no I2C bus), never the simulation
    def user(seen):
        time.sleep(0.3)
        press(pins, START_STOP)
        time.sleep(0.8)
        seen.append(watch(pins, LED, 1.0))
        press(pins, START_STOP)
        time.sleep(0.8)

    status, seen = serve(tmp_path, user)
    assert status == 0
    on, changes = seen[0]
    assert changes >= 6                                       # a fast flicker
    assert sessions(tmp_path) == []                           # no session recorded, not even a simulated one
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["insole: error: no insole kit found (no I2C bus here: not a Raspberry Pi); is the kit "
                   "plugged in? (`insole check` tests it)"] * 2


def test_a_kit_without_a_start_stop_button_cannot_wait_for_one(tmp_path, pins):
    kit = tmp_path / "kit.toml"
    text = Path(__file__).resolve().parents[1].joinpath("hardware/kit-default.toml").read_text()
    kit.write_text(text.replace("start_stop_button = 5", "# no button"))
    p = subprocess.run([INSOLE, "run", "--wait-for-button", "--config", str(kit), "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=60, env={**os.environ, "GPIOZERO_PIN_FACTORY": "mock"})
    assert p.returncode == 2
    assert p.stderr == ("insole: error: --wait-for-button needs a start/stop button: kit.toml has no "
                        "start_stop_button in [gpio]\n")


def test_without_gpio_it_says_so(tmp_path):
    # this machine has no GPIO: the service would fail at once (and systemd try again later)
    env = {k: v for k, v in os.environ.items() if k != "GPIOZERO_PIN_FACTORY"}
    p = subprocess.run([INSOLE, "run", "--wait-for-button", "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=60, env=env)
    assert p.returncode == 1
    assert p.stderr.startswith("insole: error: --wait-for-button needs the start/stop button, but ")
    assert len(p.stderr.splitlines()) == 1


def test_sigterm_while_idle_ends_it_at_once(tmp_path):
    p = subprocess.Popen([INSOLE, "run", "--wait-for-button", "--source", "sim", "--out", str(tmp_path / "d")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, "GPIOZERO_PIN_FACTORY": "mock"})
    first = p.stdout.readline()
    assert first.startswith("insole: waiting for the start/stop button")
    started = time.monotonic()
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=20)
    assert p.returncode == 0 and err == "" and out.strip() == "insole: stopped"
    assert time.monotonic() - started < 3
    assert not (tmp_path / "d").exists() or not any((tmp_path / "d").iterdir())


def test_a_stop_before_the_session_begins_leaves_no_empty_session(tmp_path):
    # e.g. the shutdown's SIGTERM comes while the chips are being opened after a press
    from pi.kit import load_kit
    from pi.runtime import RunOptions, log_session, open_run_source
    opts = RunOptions(source="sim", out=tmp_path / "data")
    kit = load_kit()
    src, _ = open_run_source(opts, kit)
    stop = threading.Event()
    stop.set()
    assert log_session(opts, kit, src, None, stop) is None
    assert not (tmp_path / "data").exists()
