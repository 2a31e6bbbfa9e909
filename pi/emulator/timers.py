"""Precise sleeps for the emulator's own threads and for callers of its bus.

Linux lets a sleeping thread wake up to its *timer slack* late (50 µs by default) so that
wake-ups can be merged. An emulated I2C transaction lasts 100–500 µs and an ADS1115 conversion
1.16 ms, so that slack is a large error; at 1 µs a sleep ends within the machine's wake-up
latency (~25 µs measured here). The setting is per thread (``prctl(PR_SET_TIMERSLACK)``), so it
touches no thread the emulator is not running code on. Elsewhere than Linux it does nothing.
"""

from __future__ import annotations

import ctypes
import sys
import threading

_PR_SET_TIMERSLACK = 29
_SLACK_NS = 1_000
_done = threading.local()


def precise_timers() -> None:
    """Ask for 1 µs timer slack on the calling thread (once per thread; Linux only)."""
    if getattr(_done, "set", False):
        return
    _done.set = True
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_TIMERSLACK, _SLACK_NS, 0, 0, 0)
    except (OSError, AttributeError):
        pass
