"""Real-time scheduling for the one thread that must never be late: the one reading the chips.

In continuous mode each ADS1x15 result is overwritten ~1.16 ms after it is ready (860 SPS), so
the ALERT/RDY callback must run within about 0.8 ms of every pulse. Under Linux's normal
scheduler a waking thread can wait a millisecond or more for a core held by another process (the
live display, a compression job, the desktop). Measured here (2 cores, a thread sleeping
100 µs 7,500 times a second): wake-ups more than 0.8 ms late came 2-4 times a second under the
normal policy and 0-0.2 times a second under SCHED_FIFO, each costing a frame.

So the reading thread asks for SCHED_FIFO at :data:`PRIORITY` (under the kernel's interrupt
threads, which run at 50). Linux allows it to root, to a process with CAP_SYS_NICE, and to one
whose RLIMIT_RTPRIO is at least the priority (the systemd unit sets ``LimitRTPRIO``; see
:func:`pi.service.unit_text`). Where it is not allowed the thread stays as it was and the logger
works as before, only more exposed to a busy machine; :func:`available` says why, for the
session's record. The thread sleeps most of the time (a callback is ~0.3 ms of every 1.16), so
it cannot starve the rest, and the kernel keeps 5 % of every second for normal threads anyway.
"""

from __future__ import annotations

import os
import threading

PRIORITY = 40
_CAP_SYS_NICE = 23                      # linux/capability.h
#: the longest a thread waiting for the interpreter (the GIL) waits before the holder is asked to
#: let go. Python's default, 5 ms, is a whole frame at 200 frames/s and four conversions at
#: 860 SPS: a reader thread woken on time would still be late (measured: bench/sampler_timing.py;
#: the ALERT/RDY reader lost a frame in ten at 5 ms, one in 400 at 0.5 ms)
SWITCH_INTERVAL_S = 0.0005
_local = threading.local()


def ignore_stop_signals() -> None:
    """In a helper process (the sampler, the settler, an emulated board): ignore Ctrl-C, SIGTERM
    and SIGHUP. A terminal closed, ``timeout`` or ``kill -- -PGID`` signals the whole process
    group; the logger stops its helpers in order so the last frames reach the session, and a
    helper that died first would turn a clean stop into an error. A helper still ends when its
    parent's pipe closes, and is killed (SIGKILL) if it does not."""
    import signal
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)


def short_switch_interval() -> None:
    """Shorten the interpreter's switch interval to :data:`SWITCH_INTERVAL_S` (never lengthen
    it): set by ``insole run``, the sampler process, and a continuous-mode ads source, whose
    callbacks must get the interpreter within a fraction of a conversion."""
    import sys
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))


def available(priority: int = PRIORITY) -> tuple[bool, str]:
    """Whether this process may put a thread under SCHED_FIFO at ``priority``, and how (or why
    not), without changing anything."""
    if not hasattr(os, "sched_setscheduler"):
        return False, "not Linux"
    import resource
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_RTPRIO)
    except (AttributeError, ValueError, OSError):
        soft = 0
    if soft == resource.RLIM_INFINITY or soft >= priority:
        return True, f"RLIMIT_RTPRIO {soft}"
    if _has_cap_sys_nice():
        return True, "CAP_SYS_NICE" if os.geteuid() else "root"
    return False, ("not permitted: run as the service (LimitRTPRIO) or raise the rtprio limit "
                   f"(RLIMIT_RTPRIO is {soft}, {priority} needed)")


def _has_cap_sys_nice() -> bool:
    """Whether this process holds CAP_SYS_NICE (root in a container often does not)."""
    try:
        with open("/proc/self/status") as f:
            eff = next(int(line.split()[1], 16) for line in f if line.startswith("CapEff:"))
        return bool(eff >> _CAP_SYS_NICE & 1)
    except (OSError, StopIteration, ValueError, IndexError):
        return os.geteuid() == 0


#: why the last refused promotion was refused (for the session's record)
refused: str | None = None


def promote(priority: int = PRIORITY) -> bool:
    """Put the calling thread under SCHED_FIFO at ``priority`` (once per thread; later calls
    return the first answer). False, changing nothing, where it is not allowed."""
    global refused
    done = getattr(_local, "promoted", None)
    if done is not None:
        return done
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))   # 0: this thread
        _local.promoted = True
    except (AttributeError, OSError) as e:
        _local.promoted = False
        refused = getattr(e, "strerror", None) or str(e)
    return _local.promoted


def describe(promoted: bool | None, priority: int = PRIORITY) -> str:
    """For session.json: how the reading thread ran. ``promoted``: what :func:`promote` said on
    it (None: not asked yet, so what :func:`available` expects)."""
    ok, how = available(priority)
    if promoted:
        return f"SCHED_FIFO {priority} ({how})"
    if promoted is None:
        return f"SCHED_FIFO {priority} expected ({how})" if ok else f"normal ({how})"
    return f"normal (SCHED_FIFO refused: {refused or how})"


def policy_of_this_thread() -> str:
    """'fifo N' or 'normal': the calling thread's scheduling (for tests and the record)."""
    try:
        if os.sched_getscheduler(0) == os.SCHED_FIFO:
            return f"fifo {os.sched_getparam(0).sched_priority}"
    except (AttributeError, OSError):
        pass
    return "normal"
