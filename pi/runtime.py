"""The live logger's runtime: one session from a frame source to its folder (``insole run``'s
command, :mod:`pi.run`, and the boot service, :mod:`pi.service`, both drive it).

Three threads, none waiting on another:

* the **sampler** (:mod:`pi.sampler`) reads frames on absolute deadlines (or at the chips' own
  pace) and drops them in a queue; for the chips it runs in a child process
  (:mod:`pi.sampler_process`, measured in bench/hardware.py) and a thread forwards its frames;
* the **processor** takes them off the queue, writes the session, runs the streaming gait
  core and publishes a fresh :class:`pi.snapshot.Snapshot` every 0.1 s (one reference swap);
* the **display** (rich, its own thread, ≤ 10 Hz) draws whatever snapshot is current; in
  ``--headless`` mode the processor prints one line per landing instead.

The main thread only waits: for the duration, the end of a replay, Ctrl-C or SIGTERM. Then the
sampler stops, the queue drains, the session is closed (flushed, fsynced, session.json final)
and a summary is printed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import os
import queue
import signal
import sys
import threading
import time
from pathlib import Path

from analysis.errors import InsoleError, SessionError
from analysis.session import SessionWriter
from pi.common import DEFAULT_OUT
from pi.disk import DiskWatch
from pi.pipeline import Pipeline, session_meta, utc_now_iso
from pi.sampler import END, Sampler
from pi.snapshot import Health

SNAPSHOT_EVERY_S = 0.1


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """What a run is asked for (the command line's choices, checked): ``source`` a registry name
    (None: the kit's chips, else the simulated insole), ``out`` the folder sessions go under,
    ``duration_s`` (None: until stopped), ``session`` and ``speed`` for a replay, ``board`` an
    emulated board's profile, ``sampler`` "process" (the chips read in a process of their own)
    or "thread", ``sim`` the simulated runner with its body mass (for the sim and emulated
    sources; None: the defaults, with the kit's body mass)."""

    source: str | None = None
    out: Path = Path(DEFAULT_OUT)
    duration_s: float | None = None
    session: str | None = None
    speed: float = 1.0
    board: str | None = None
    sampler: str = "process"
    sim: object = None          # pi.simulator.SimSettings


def find_kit(kit, open_bus=None) -> str | None:
    """None when the kit's chips answer on the I2C bus (``open_bus()``, default the Pi's bus:
    ``pi.sources.ads.default_bus``); otherwise why no kit is here (the run then uses the simulated
    insole). A kit found with a chip missing is an error: logging one foot while the user expects
    two would lose a session."""
    from pi.sources.ads import default_bus
    from pi.sources.linux_i2c import LinuxI2C
    from pi.wizard import scan
    try:
        i2c = (open_bus or default_bus)()
    except InsoleError as e:
        reason = getattr(e, "reason", None)
        return f"no insole kit found (no I2C bus here: {reason})" if reason else f"no insole kit found ({e})"
    try:
        found = scan(i2c)
    except InsoleError as e:
        return f"no insole kit found ({e})"
    finally:
        if isinstance(i2c, LinuxI2C):   # the source opens its own (Blinka's board.I2C() is one shared object)
            i2c.deinit()
    present = [c for c in kit.chips if c.address in found]
    if not present:
        where = ", ".join(f"0x{c.address:02X}" for c in kit.chips)
        return f"no insole kit found (no chip answers at {where})"
    missing = [c for c in kit.chips if c not in present]
    if missing:
        raise InsoleError(f"insole kit found, but chip {', '.join(repr(c.name) for c in missing)} does not answer "
                          f"at {', '.join(f'0x{c.address:02X}' for c in missing)}: run `insole check`")
    return None


def open_run_source(opts: RunOptions, kit, fallback_to_sim: bool = True):
    """The source asked for, or when none was asked for, the kit's chips; with no kit found, the
    simulated insole (or, ``fallback_to_sim`` False, an error saying why: a logger started by a
    button must not record a simulation the runner never sees)."""
    from pi.sources import open_source
    notice = None
    name = opts.source
    if name is None:
        reason = find_kit(kit)
        if reason and not fallback_to_sim:
            raise InsoleError(f"{reason}; is the kit plugged in? (`insole check` tests it)")
        if reason:
            name, notice = "sim", f"{reason}: running on the simulated insole"
        else:
            name = "ads"
    if name == "sim":
        from pi.sources.sim import SimSource
        src = SimSource(kit.layout, kit.rate_hz, _sim(opts, kit), keep_truth=False)
    elif name in ("ads", "emulated") and opts.sampler == "process":
        from pi.sampler_process import RemoteSource
        from pi.sources import REGISTRY
        module, func = REGISTRY[name]
        options = {"kit": kit, "board": opts.board}
        if name == "emulated":           # the emulated chips' inputs come from the simulated runner
            options["sim_settings"] = _sim(opts, kit)
        src = RemoteSource(f"{module}:{func}", options)
    else:
        src = open_source(name, kit=kit, session=opts.session, speed=opts.speed, board=opts.board)
    return src, notice


def _sim(opts: RunOptions, kit):
    """The simulated runner asked for, or the defaults with the kit's body mass."""
    from pi.simulator import settings_from
    return opts.sim if opts.sim is not None else settings_from({}, kit.body_mass_kg)


def new_session_folder(parent: Path) -> Path:
    stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
    folder = parent / stamp
    n = 1
    while folder.exists():
        n += 1
        folder = parent / f"{stamp}_{n}"
    return folder


class _Processor(threading.Thread):
    def __init__(self, q, pipe: Pipeline, publish, kit_io=None, recorded_markers=None):
        super().__init__(name="insole-processor", daemon=True)
        self.q, self.pipe, self.publish, self.kit_io = q, pipe, publish, kit_io
        self.recorded_markers = recorded_markers     # a replay's: (t_s, label) up to a time
        self.error: BaseException | None = None

    def run(self) -> None:
        last = 0.0
        try:
            while True:
                try:
                    item = self.q.get(timeout=SNAPSHOT_EVERY_S)
                except queue.Empty:              # no frames (a chip gone): the screen still says so
                    self.publish()
                    last = time.monotonic()
                    continue
                if item is END:
                    break
                self.pipe.process(*item)
                if self.recorded_markers is not None:    # a replay keeps the recording's markers
                    for t_mark, label in self.recorded_markers(self.pipe.last_t_s):
                        self.pipe.writer.add_marker(t_mark, label)
                if self.kit_io is not None:          # marker presses, stamped with the newest frame
                    for label in self.kit_io.take_markers():
                        self.pipe.writer.add_marker(self.pipe.last_t_s, label)
                now = time.monotonic()
                if now - last >= SNAPSHOT_EVERY_S:
                    self.publish()
                    last = now
        except BaseException as e:          # e.g. the disk is full: stop the run, keep what is written
            self.error = e


def join_notes(*notes: str | None) -> str | None:
    """The notes that are there, joined with "; " (None when there are none)."""
    return "; ".join(n for n in notes if n) or None


@contextlib.contextmanager
def stop_on_signals(callback):
    """Ctrl-C, a kill (SIGTERM: also systemd stopping the service) or the terminal closing
    (SIGHUP: an SSH session dropped) call ``callback`` instead of ending the process, until the
    block ends: a run stops cleanly, and a second Ctrl-C cannot cut its summary short."""
    def on_signal(signum, frame):
        callback()
    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def log_session(opts: RunOptions, kit, src, notice: str | None, stop: threading.Event, kit_io=None,
                headless: bool = False) -> Path | None:
    """Log one session from ``src`` (which it closes) under ``opts.out`` until ``stop`` is set,
    ``opts.duration_s`` has passed or the source ends; returns its folder (None when ``stop`` was
    already set: no empty session is made). The session is closed (flushed, fsynced,
    session.json final) and a summary printed whatever happened; an error is raised after that."""
    try:
        if stop.is_set():
            raise _Cancelled
        mode_notice = (src.describe() or {}).get("mode_notice")
        notice = join_notes(notice, mode_notice)     # e.g. the chips fell back to single-shot, and why
        # a replay analyses like its recording: the subject is the recorded one, not the kit's
        body_mass = src.body_mass_kg(kit.body_mass_kg)
        folder = new_session_folder(Path(opts.out))
        meta = session_meta(src, utc_now_iso(), body_mass, str(kit.path))
        writer = SessionWriter(folder, meta, src.layout, integer_values=src.integer_values)
    except BaseException as e:           # no session begun: the source must not be left running
        src.close()
        if isinstance(e, _Cancelled):
            return None
        raise

    printer = None
    if headless:
        from pi.display import headless_line

        def printer(landing, foot_view):
            print(headless_line(landing, foot_view), flush=True)
        print(f"insole: logging to {folder} ({src.kind}, {src.rate_hz:g} frames/s, kit {kit.path.name})"
              + (f"; {notice}" if notice else ""), flush=True)

    pipe = Pipeline(src.layout, src.rate_hz, body_mass, writer, on_landing=printer,
                    on_verdict=(lambda v: kit_io.verdict(v.foot, v.strike)) if kit_io else None)
    q: queue.SimpleQueue = queue.SimpleQueue()
    if src.remote:                         # the chips: sampled in a process of their own
        sampler = src.sampler(q, duration_s=opts.duration_s)
    else:
        sampler = Sampler(src, q, duration_s=opts.duration_s)
    started = time.monotonic()
    current = {"snap": None}

    def health(stopping=False) -> Health:
        h = sampler.health()
        # measured against the pace asked for (a replay at 4x runs at four times the recording)
        return Health(rate_hz_nominal=sampler.pace_hz, rate_hz_achieved=sampler.achieved_hz(),
                      rate_hz_average=sampler.average_hz(),
                      chips_missing=tuple(sampler.missing), **h)

    disk = DiskWatch(folder, lambda: writer.bytes_written)

    def publish(stopping=False):
        """Called on the processor thread (which owns the writer), and once at the end."""
        left = disk.left_s()
        replay = None
        played = src.progress()
        if played is not None:           # a recording: its time, how far through it is, the speed
            t0, length, speed = played
            replay = (max(0.0, pipe.last_t_s - t0) if pipe.frames else 0.0, length, speed)
        current["snap"] = dataclasses.replace(
            pipe.snapshot(src.kind, str(folder), time.monotonic() - started, health(), notice=notice,
                          stopping=stopping), disk_left_s=left, replay=replay)
        warning = disk.warning(left)
        if warning and headless:         # the screen shows it in red; a log says it once
            print(f"insole: warning: {warning}", flush=True)
        writer.update_meta(health=sampler.health(), gaps=list(sampler.gaps))   # on disk at the next fsync

    publish()
    proc = _Processor(q, pipe, publish, kit_io, src.markers_until)
    if kit_io is not None:
        kit_io.take_markers()           # presses before the session began are not its markers
        kit_io.show("recording")
    display = None
    errors: list[BaseException] = []
    try:
        if not headless:
            from pi.display import LiveDisplay
            display = LiveDisplay(lambda: current["snap"])
            display.start()
        gc.collect()                    # then keep the set-up's objects out of later collections:
        gc.freeze()                     # each stays short, and the sampler thread is not held up
        proc.start()
        sampler.start()
        while not stop.is_set() and not sampler.ended.is_set() and proc.is_alive():
            stop.wait(0.2)
    except BaseException as e:          # e.g. the terminal cannot be drawn on: still save the run
        errors.append(e)
    # Each step of the shutdown runs even if one before it failed, so that the session is
    # closed and the terminal restored whatever happened; the first error is reported after
    # the summary.
    def close_session():
        pipe.finish()
        publish(stopping=True)
        final = {}
        source_now = sampler.final_source or src.describe()
        if source_now:                  # as measured over the session (edge latency, CPU, …)
            final["source"] = source_now
        writer.close(health=sampler.health(), gaps=list(sampler.gaps), ended_at=utc_now_iso(),
                     duration_s=round(pipe.last_t_s - pipe.first_t_s, 6), **final)

    for step in (sampler.stop,
                 lambda: sampler.join() if sampler.started else None,
                 lambda: proc.join() if proc.is_alive() or proc.ident else None,
                 src.close,                          # the chips stop converting
                 close_session,
                 lambda: display.stop() if display is not None else None,
                 gc.unfreeze):                  # the next session (--wait-for-button) may free them
        try:
            step()
        except BaseException as e:
            errors.append(e)
    h = sampler.health()
    errors += [e for e in (proc.error, sampler.error) if e is not None]
    try:
        _final_summary(current["snap"], pipe.summary(h), folder, writer.frames_saved if folder.is_dir() else 0)
    except BaseException as e:
        errors.append(e)
    if errors:
        error = errors[0]
        if isinstance(error, InsoleError):
            raise error
        raise SessionError(f"logging stopped early ({type(error).__name__}: {error}); "
                           f"what was recorded is in {folder}") from error
    return folder


class _Cancelled(Exception):
    """Stopped before the session began."""


def _final_summary(snap, figures: dict, folder: Path, saved: int) -> None:
    """The end-of-run table, and where the session is; ``saved``: the frames written out to its
    samples.csv (fewer than sampled after a full disk, 0 when the folder was deleted)."""
    from rich.console import Console
    from pi.display import summary_renderable
    console = Console()
    console.print(summary_renderable(snap, figures, saved=saved))
    if not folder.is_dir():
        console.print(f"[bold red]the session folder {folder} is gone (removed while logging): "
                      "nothing of this session is saved[/bold red]", soft_wrap=True)
        return
    # the hint names the command as it was run, so it works without an activated venv too
    prog = sys.argv[0] if os.sep in sys.argv[0] else "insole"
    sampled = snap.health.frames if snap is not None else saved
    if saved < sampled:
        console.print(f"session saved to [bold]{folder}[/bold], [bold red]{saved} of its {sampled} frames "
                      "(the rest could not be written)[/bold red]", soft_wrap=True)
    else:
        console.print(f"session saved to [bold]{folder}[/bold]", soft_wrap=True)
    console.print(f"analyse it: {prog} report {folder}", soft_wrap=True)
