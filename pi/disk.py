"""How long the disk lasts: the free space under a session folder, as time at the rate the
session is writing. The live display shows it and warns before it runs out (issue 11)."""

from __future__ import annotations

import os
import time
from typing import Callable

WARN_S = 600.0         # under this much time left, the screen warns (and headless prints a line)
MEASURE_AFTER_S = 5.0  # the writing rate is known after this long (the header alone says little)


class DiskWatch:
    """Time left on the disk of ``folder`` at the rate ``written()`` (bytes so far) grows."""

    def __init__(self, folder, written: Callable[[], int], clock: Callable[[], float] = time.monotonic,
                 free: Callable[[], int | None] | None = None):
        self.folder, self.written, self.clock = str(folder), written, clock
        if free is not None:              # a disk of a given size (the tests)
            self.free_bytes = free
        self.t0, self.b0 = clock(), written()
        self.warned: set[float] = set()

    def free_bytes(self) -> int | None:
        try:
            st = os.statvfs(self.folder)
        except OSError:
            return None
        return st.f_bavail * st.f_frsize

    def left_s(self) -> float | None:
        """Seconds until the disk is full at the session's average writing rate; None while
        the rate is not known yet (or nothing is written)."""
        elapsed = self.clock() - self.t0
        rate = (self.written() - self.b0) / elapsed if elapsed >= MEASURE_AFTER_S else 0.0
        free = self.free_bytes()
        if free is None or rate <= 0:
            return None
        return free / rate

    def warning(self, left_s: float | None) -> str | None:
        """A one-line warning the first time the time left falls under 10 and under 2 minutes."""
        if left_s is None:
            return None
        crossed = [m for m in (WARN_S, 120.0) if left_s < m and m not in self.warned]
        if not crossed:
            return None
        self.warned.update(crossed)        # one line, even where both marks are crossed at once
        return f"the disk under {self.folder} is full in about {clock_words(left_s)} at this rate"


def clock_words(seconds: float) -> str:
    """``9 days``, ``3 h 10 min``, ``8 min``, ``40 s``: time left, as a person says it."""
    if seconds >= 2 * 86400:
        return f"{int(seconds // 86400)} days"
    if seconds >= 3600:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"
    if seconds >= 60:
        return f"{int(seconds // 60)} min"
    return f"{int(seconds)} s"
