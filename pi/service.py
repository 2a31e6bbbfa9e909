"""The headless logger as a boot service: sessions started and stopped by the kit's button.

``insole run --wait-for-button`` (what the systemd unit runs) waits idle until the start/stop
button is pressed, logs a session until it is pressed again (or ``--duration`` passes), saves
it, and waits for the next press, for as long as the Pi is on. The logging LED shows the state
(:data:`pi.feedback.LED_PATTERNS`: a short flash every 2 s idle, steady while recording, a fast
flicker when a session could not start or ended in an error) and the buzzer confirms each press
(:data:`pi.feedback.CUES`). A session that cannot start (the kit unplugged: with no ``--source``
the chips are required, never the simulated insole) or fails is reported on one line and the
logger waits for the next press, so the runner can fix the cable and press again.

SIGTERM (``systemctl stop``, and the system shutting down), SIGINT and SIGHUP end the logger
cleanly: a session being recorded is closed (flushed, fsynced, ``session.json`` final) first.

:func:`unit_text` writes the systemd unit that ``setup.sh --service`` installs; run
``python -m pi.service unit --user NAME --data DIR`` to see it.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from urllib.parse import quote

from analysis.errors import InsoleError, UsageError
from pi.realtime import PRIORITY

REPO = Path(__file__).resolve().parents[1]
UNIT_NAME = "insole.service"
#: seconds systemd waits for a clean stop before killing: closing a session takes ~1 s (the
#: sampler process is given 5 s to end, pi/sampler_process.py), so this is ample and still
#: short enough not to hold up a shutdown much if something hangs
STOP_TIMEOUT_S = 30


def serve(opts, kit) -> int:
    """``insole run --wait-for-button``: see the module docstring. Returns 0 when stopped by a
    signal; raises when the kit has no usable start/stop button."""
    from pi.common import report_error
    from pi.feedback import open_kit_io
    from pi.runtime import log_session, open_run_source, stop_on_signals

    wake = threading.Event()             # the start/stop button was pressed, or a signal came
    shutdown = threading.Event()
    kit_io, problem = open_kit_io(kit, on_start_stop=wake.set)
    if kit_io is None or kit_io.start_stop is None:
        if kit_io is not None:
            kit_io.close()
        if "start_stop_button" not in kit.gpio:
            raise UsageError(f"--wait-for-button needs a start/stop button: {kit.path.name} has no "
                             f"start_stop_button in [gpio]")
        raise InsoleError(f"--wait-for-button needs the start/stop button, but "
                          f"{problem or 'there is no GPIO on this machine'}")

    def on_signal():
        shutdown.set()
        wake.set()

    out = Path(opts.out).resolve()
    waiting = (f"insole: waiting for the start/stop button (GPIO {kit.gpio['start_stop_button']}); "
               f"sessions go under {out}")
    state = "idle"
    try:
        with stop_on_signals(on_signal):
            while True:
                kit_io.show(state)
                print(waiting, flush=True)
                while not wake.wait(0.5):
                    pass
                if shutdown.is_set():
                    break
                wake.clear()
                kit_io.cue("start")
                try:
                    src, notice = open_run_source(opts, kit, fallback_to_sim=False)
                    # the next press (or a signal) sets ``wake``: that stops the session
                    log_session(opts, kit, src, notice, wake, kit_io, headless=True)
                    state, cue = "idle", "stop"
                except Exception as e:           # one line in the journal; the next press retries
                    report_error(e)
                    state, cue = "error", "error"
                if shutdown.is_set():
                    break
                kit_io.cue(cue)
                wake.clear()
    finally:
        kit_io.show("off")
        kit_io.close()
    print("insole: stopped", flush=True)
    return 0


# ------------------------------------------------------------------------------ the unit ---

def _unit_escape(text: str) -> str:
    """``text`` with systemd's specifier (``%``) escaped, for any unit setting."""
    return text.replace("%", "%%")


def _exec_word(word: str, program: bool = False) -> str:
    """One ExecStart= word as systemd reads it back: ``%`` (specifiers) escaped, ``$`` too in
    the arguments (systemd expands variables there, not in the ``program`` path: checked with
    systemd-analyze verify), and quoted (quotes and backslashes escaped) when it holds anything
    but plain path characters, so a repository path with spaces or such characters stays whole."""
    word = _unit_escape(word)
    if not program:
        word = word.replace("$", "$$")
    if word and all(c.isalnum() or c in "/._-+:,=@%$" for c in word):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unit_text(user: str, data_dir: str | Path, repo: str | Path = REPO, pin_factory: str | None = None) -> str:
    """The systemd unit (``insole.service``) that starts the logger at boot as ``user``, in the
    repository ``repo`` (its ``.venv``), saving sessions under ``data_dir`` (absolute paths).
    ``pin_factory`` sets gpiozero's ``GPIOZERO_PIN_FACTORY`` (``lgpio`` on a Pi 5)."""
    repo, data_dir = Path(repo), Path(data_dir)
    for what, path in (("repository", repo), ("data folder", data_dir)):
        if not path.is_absolute():
            raise UsageError(f"the {what} must be an absolute path, got {str(path)!r}")
        # a newline would end the setting and start another (ExecStartPre=…, User=root) in the
        # unit; no escape makes a control character safe there, so none is taken
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in str(path)):
            raise UsageError(f"the {what} path holds a control character (a newline, a tab, …): "
                             f"{str(path)!r}; choose a folder without one")
    if not user or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in user):
        raise UsageError(f"not a user name: {user!r}")
    if pin_factory and not all(c.isalnum() or c in "_-." for c in pin_factory):
        raise UsageError(f"not a gpiozero pin factory name: {pin_factory!r}")
    exec_start = " ".join([_exec_word(str(repo / ".venv" / "bin" / "insole"), program=True)]
                          + [_exec_word(w) for w in ("run", "--wait-for-button", "--out", str(data_dir))])
    env = ["Environment=PYTHONUNBUFFERED=1"]
    if pin_factory:
        env.append(f"Environment=GPIOZERO_PIN_FACTORY={_unit_escape(pin_factory)}")
    return "\n".join([
        "# The insole logger, started at boot: press the kit's start/stop button to start and stop",
        "# each session. Written by setup.sh --service (pi/service.py); setup.sh --remove-service",
        "# removes it. Its output: journalctl -u insole",
        "[Unit]",
        "Description=insole logger (sessions started and stopped by the kit's button)",
        f"Documentation=file://{_unit_escape(quote(str(repo / 'README.md')))}",
        # the clock is set before session folders are named after it, when there is a network
        "After=local-fs.target time-sync.target",
        "",
        "[Service]",
        "Type=simple",
        f"User={user}",
        f"WorkingDirectory={_unit_escape(str(repo))}",
        *env,
        f"ExecStart={exec_start}",
        # lets the thread reading the chips run under SCHED_FIFO (pi/realtime.py) without root
        f"LimitRTPRIO={PRIORITY}",
        # SIGTERM to the logger alone: it closes the session, then stops its sampler process
        # itself (a SIGTERM to that process too would cut off the session's last frames)
        "KillMode=mixed",
        "KillSignal=SIGTERM",
        f"TimeoutStopSec={STOP_TIMEOUT_S}",
        # a crash restarts it; a mistake in the kit file (exit status 2) would only fail again
        "Restart=on-failure",
        "RestartSec=10",
        "RestartPreventExitStatus=2",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    """``python -m pi.service unit --user NAME --data DIR [--pin-factory F]``: print the unit
    (setup.sh --service installs what this prints)."""
    p = argparse.ArgumentParser(prog="python -m pi.service", description="print the systemd unit of the logger")
    sub = p.add_subparsers(dest="command", required=True)
    u = sub.add_parser("unit", help="print insole.service")
    u.add_argument("--user", required=True, help="the user the logger runs as")
    u.add_argument("--data", required=True, metavar="DIR", help="absolute folder the sessions go under")
    u.add_argument("--pin-factory", metavar="NAME", help="GPIOZERO_PIN_FACTORY for the service (lgpio on a Pi 5)")
    args = p.parse_args(argv)
    try:
        sys.stdout.write(unit_text(args.user, args.data, pin_factory=args.pin_factory))
    except UsageError as e:
        print(f"insole: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
