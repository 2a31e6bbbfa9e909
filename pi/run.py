"""``insole run``: the live logger's command. It checks what the command line asks for and hands
a :class:`pi.runtime.RunOptions` to the runtime (:mod:`pi.runtime`), or to the boot service's
loop (:mod:`pi.service`) with ``--wait-for-button``; the argparse namespace stops here."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from analysis.errors import UsageError
from pi.kit import load_kit
from pi.realtime import short_switch_interval
from pi.runtime import RunOptions, join_notes, log_session, open_run_source, stop_on_signals


def options_from_args(args, kit) -> RunOptions:
    """The run's options from ``insole run``'s arguments (already checked)."""
    from pi.simulator import settings_from
    return RunOptions(source=args.source, out=Path(args.out), duration_s=args.duration, session=args.session,
                      speed=args.speed, board=getattr(args, "board", None),
                      sampler=getattr(args, "sampler", "process"),
                      sim=settings_from(vars(args), kit.body_mass_kg))


def run_main(args, source=None) -> int:
    """``insole run``; ``source`` replaces the one the arguments name (a source built in Python,
    e.g. an :class:`~pi.sources.ads.AdsSource` on a bus of your own)."""
    # The sampler shares the interpreter with the display and the processor. By default a
    # thread waiting for the GIL may wait 5 ms, a whole frame at 200 frames/s; a short switch
    # interval lets the sampler in on time (measured: bench/sampler_timing.py).
    short_switch_interval()
    kit = load_kit(args.config)
    if args.source != "replay" and args.session:
        raise UsageError("--session only goes with --source replay")
    if args.source != "replay" and args.speed != 1.0:
        raise UsageError("--speed only goes with --source replay (the other sources run at the kit's rate)")
    from pi.simulator import SIM_DEFAULTS
    shaped = [f"--{k}" for k in SIM_DEFAULTS if getattr(args, k, None) is not None]
    if shaped and args.source in ("replay", "ads"):
        raise UsageError(f"{', '.join(shaped)} shape{'s' if len(shaped) == 1 else ''} the simulated runner; "
                         f"--source {args.source} plays {'what was recorded' if args.source == 'replay' else 'the real insole'}")
    if getattr(args, "board", None) is not None and args.source != "emulated":
        raise UsageError("--board only goes with --source emulated (on a Pi the board is the one it runs on)")
    opts = options_from_args(args, kit)
    if getattr(args, "wait_for_button", False):
        if source is not None:
            raise UsageError("--wait-for-button opens its own source for each session")
        from pi.service import serve
        return serve(opts, kit)
    from pi.feedback import open_kit_io
    stop = threading.Event()
    kit_io = None
    try:
        with stop_on_signals(stop.set):
            src, notice = (source, None) if source is not None else open_run_source(opts, kit)
            kit_io, gpio_problem = open_kit_io(kit, on_start_stop=stop.set)
            log_session(opts, kit, src, join_notes(notice, gpio_problem), stop, kit_io,
                        headless=args.headless or not sys.stdout.isatty())
    finally:
        if kit_io is not None:
            kit_io.show("off")
            kit_io.close()
    return 0
