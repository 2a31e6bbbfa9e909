"""The sampling loop: frames on absolute deadlines, handed off without ever waiting.

The loop runs on its own thread. Deadline k is ``start + k × period`` (never ``now + period``,
so timing errors do not accumulate). It sleeps until each deadline (an ``Event.wait``, so a stop
request wakes it at once and no core spins), reads one frame, stamps it with
``time.monotonic_ns()`` (unless the source keeps its own clock), and every ``chunk_s`` hands the
frames gathered so far to a ``queue.SimpleQueue`` (a lock-free-for-the-producer, unbounded
hand-off: the loop never waits on the disk, the display or the analysis behind it).

Health: a frame taken more than half a period after its deadline is *late*; when the loop
falls a whole period or more behind, those deadlines are *skipped* (not read late in a burst,
which would bunch frames up) and counted. A source of recorded frames (a replay,
``drops_late_frames = False``) is never skipped: the loop catches up, counting the frames late.

A *paced* source (the chips in continuous mode, their ALERT/RDY pulses setting the pace) stamps
its own frames: the loop collects them, and a break of 1.5 frame periods or more counts the
frames it lost as skipped.

Bus trouble never ends the run. The source retries each transaction; when a chip still does not
answer, the loop notes it as *missing* (shown live, ``missing``), tries it again every
``PROBE_S`` and keeps logging when it is back. Every break in the frames of ``GAP_MIN_S`` or more
is kept in ``gaps`` (start ``t_s``, ``duration_s``, frames lost, and why), which the run saves in
``session.json``.
"""

from __future__ import annotations

import bisect
import queue
import threading
import time
from collections import deque

import numpy as np

from analysis.errors import BusError
from analysis.gait import GAP_MIN_S   # breaks this long are listed in ``gaps`` (the analysis skips them)

END = None        # put on the queue after the last chunk
PROBE_S = 0.25    # a chip that stopped answering is tried again this often


class Sampler:
    final_source = None     # a sampler in another process reports its source's describe() at the end

    def __init__(self, source, sink: queue.SimpleQueue, duration_s: float | None = None,
                 chunk_s: float = 0.02):
        self.source = source
        source.partial_frames = True            # frames go on without a chip gone, where it can (its cells empty)
        self.sink = sink
        self.duration_s = duration_s
        self.chunk_s = chunk_s
        self.pace_hz = float(source.pace_hz)
        self.frames = 0
        self.late_frames = 0
        self.skipped_frames = 0
        self.bus_errors = 0
        self.missing: list[str] = []       # chips not answering now
        self.gaps: list[dict] = []
        self._gap_why: set[str] = set()    # chips missing since the last frame
        self._out_since: dict[str, int] = {}   # chip → monotonic_ns it went missing
        self._out_why: dict[str, str] = {}     # chip → why (not answering, or its ALERT/RDY line silent)
        self._out_frames: dict[str, int] = {}  # chip → frames framed without it since
        self._t0 = 0                        # monotonic_ns when sampling began (0: not yet)
        self._end_ns: int | None = None     # monotonic_ns when it ended
        self.error: BaseException | None = None
        self.ended = threading.Event()      # set when the loop has finished (any reason)
        self._stop = threading.Event()
        self._recent = deque(maxlen=512)    # monotonic_ns of recent frames, for the achieved rate
        self._thread = threading.Thread(target=self._run, name="insole-sampler", daemon=True)
        self.started = False

    def start(self) -> None:
        self._thread.start()
        self.started = True

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def achieved_hz(self, window_s: float = 2.0) -> float | None:
        """Frames per second over the last ``window_s`` (None until there are two frames)."""
        recent = list(self._recent)
        if len(recent) < 2:
            return None
        now = max(time.monotonic_ns(), recent[-1])
        cutoff = now - int(window_s * 1e9)
        # the stamps are in time order: a bisection, not a pass over them (this runs every
        # chunk, beside the reading thread, and holds the interpreter while it runs)
        inside = len(recent) - bisect.bisect_left(recent, cutoff)
        if inside < 2:                        # frames have stopped (a chip gone): say so
            return 0.0
        # over the window up to now, so that a stall shows at once; from the first frame early on
        span = (now - max(cutoff, recent[0])) / 1e9
        return inside / span if span > 0 else None

    def average_hz(self) -> float | None:
        """Frames per second since sampling began (to its end once it has ended): the session's
        average, stalls and lost frames included (None before sampling began)."""
        if not self._t0:
            return None
        span = ((self._end_ns or time.monotonic_ns()) - self._t0) / 1e9
        return self.frames / span if span > 0 else None

    def thread_cpu_s(self) -> float | None:
        """CPU seconds the loop's own thread has used so far (None before it starts)."""
        ident = getattr(self, "_ident", None)
        if ident is None:
            return None
        try:
            return time.clock_gettime(time.pthread_getcpuclockid(ident))
        except (AttributeError, OSError, ProcessLookupError):
            return None

    def health(self) -> dict:
        src = self.source
        return {"frames": self.frames, "late_frames": self.late_frames,
                "skipped_frames": self.skipped_frames, "bus_errors": self.bus_errors + src.bus_errors_total}

    def _set_missing(self, names) -> None:
        """The chips missing now; each outage, once over (or at the end), is one of ``gaps``
        with the chip and why, whether frames went on without it or not."""
        now = time.monotonic_ns()
        self.missing = list(names)
        self._gap_why.update(self.missing)
        reasons = getattr(self.source, "missing_reasons", None)
        reasons = reasons() if callable(reasons) else {}
        for n in self.missing:
            self._out_since.setdefault(n, now)
            self._out_frames.setdefault(n, 0)
            self._out_why[n] = reasons.get(n) or self._out_why.get(n) or f"chip {n} not answering"
        for n in [n for n in self._out_since if n not in self.missing]:
            self._chip_gap(n, now)

    def _count_without(self, values) -> None:
        """Count the frames (a row, or rows) framed while a chip is missing, without it (NaN)."""
        if not self._out_since:
            return
        values = np.asarray(values)
        if values.dtype.kind == "f":
            n = int(np.isnan(values).any(axis=-1).sum())
            for name in self._out_frames:
                self._out_frames[name] += n

    def _chip_gap(self, name: str, end_ns: int) -> None:
        start = self._out_since.pop(name)
        # with no frame at all meanwhile (single-shot mode), the gap in the frames says it already
        if end_ns - start >= GAP_MIN_S * 1e9 and self._out_frames.get(name):
            self.gaps.append({"t_s": round(max(0, start - self._t0) / 1e9, 6),
                              "duration_s": round((end_ns - start) / 1e9, 6), "chip": name,
                              "frames_without": self._out_frames.pop(name, 0), "reason": self._out_why.pop(name)})
        else:
            self._out_frames.pop(name, None)
            self._out_why.pop(name, None)

    def _gap(self, prev_ns: int, stamp_ns: int, period_ns: float, skipped: int | None = None) -> None:
        """The frames between ``prev_ns`` and ``stamp_ns`` (monotonic ns) were lost: note the gap
        (and count the frames as skipped unless the caller already has)."""
        lost = max(0, round((stamp_ns - prev_ns) / period_ns) - 1)
        if skipped is None:
            self.skipped_frames += lost
        if (stamp_ns - prev_ns - period_ns) >= GAP_MIN_S * 1e9:
            why = (f"chip {', '.join(sorted(self._gap_why))} not answering" if self._gap_why
                   else "frames lost")
            self.gaps.append({"t_s": round((prev_ns + period_ns - self._t0) / 1e9, 6),
                              "duration_s": round((stamp_ns - prev_ns - period_ns) / 1e9, 6),
                              "frames": lost, "reason": why})
        self._gap_why = set(self.missing)

    def _run(self) -> None:
        self._ident = threading.get_ident()
        try:
            self._loop()
        except BaseException as e:       # reported by the run; the frames so far are kept
            self.error = e
        finally:
            self._end_ns = time.monotonic_ns()
            self.sink.put(END)
            self.ended.set()

    def _loop(self) -> None:
        if getattr(self.source, "paced", False):
            self._loop_paced()
        else:
            self._loop_deadlines()

    def _loop_paced(self) -> None:
        """The source sets the pace and stamps the frames; collect them, note what was lost."""
        src = self.source
        period_ns = 1e9 / self.pace_hz
        chunk_ns = int(self.chunk_s * 1e9)
        t0 = self._t0 = time.monotonic_ns()
        stop_at = t0 + int(self.duration_s * 1e9) if self.duration_s else None
        prev = None
        ts: list[float] = []
        rows: list[np.ndarray] = []
        last_put = t0
        while not self._stop.is_set():
            # one wake-up per chunk, not per frame: the ALERT/RDY callbacks share the
            # interpreter with this thread, and each wake-up here can hold one of them back
            self._stop.wait(self.chunk_s)           # on a stop, the frames queued so far still go in
            stamps, values = src.read_paced(0.0)
            self._set_missing(src.maintain())       # chips that stopped answering are set up again
            now = time.monotonic_ns()
            n = 0
            for stamp, row in zip(stamps, values):
                if stamp < t0:                      # queued before the run began
                    continue
                if stop_at is not None and stamp >= stop_at:
                    self._stop.set()
                    break
                if prev is not None and stamp - prev >= 1.5 * period_ns:
                    self._gap(prev, stamp, period_ns)
                prev = stamp
                ts.append((stamp - t0) / 1e9)
                rows.append(row)
                self._recent.append(stamp)
                n += 1
                self._count_without(row)
            self.frames += n
            if stop_at is not None and now >= stop_at:
                break
            if ts and now - last_put >= chunk_ns:
                self.sink.put((np.array(ts), np.array(rows)))
                ts, rows = [], []
                last_put = now
        self._end_outages(prev, period_ns)           # ended with a chip gone: its gap runs to the end
        if ts:
            self.sink.put((np.array(ts), np.array(rows)))

    def _end_outages(self, prev, period_ns: float, skipped: int | None = None) -> None:
        """At the end of the run: a gap still open runs to the end, and so do chips' outages
        (``skipped``: as for :meth:`_gap`)."""
        if self.missing and prev is not None:
            self._gap(prev, time.monotonic_ns(), period_ns, skipped)
        for name in list(self._out_since):
            self._chip_gap(name, time.monotonic_ns())

    def _loop_deadlines(self) -> None:
        src = self.source
        if src.wants_realtime:                 # chips read on this thread's deadlines
            from pi.realtime import promote
            promote()
        period_ns = int(round(1e9 / self.pace_hz))
        late_ns = period_ns // 2
        chunk_ns = int(self.chunk_s * 1e9)
        own_clock, drops = bool(src.own_clock), bool(src.drops_late_frames)
        t0 = self._t0 = time.monotonic_ns()
        deadline = t0
        stop_at = t0 + int(self.duration_s * 1e9) if self.duration_s else None
        prev = None
        ts: list[float] = []
        rows: list[np.ndarray] = []
        last_put = t0
        wait = self._stop.wait
        while not self._stop.is_set():
            now = time.monotonic_ns()
            if stop_at is not None and deadline >= stop_at:
                break
            if now < deadline:
                if wait((deadline - now) / 1e9):
                    break
                now = time.monotonic_ns()
            behind = now - deadline
            want = 1
            if behind >= period_ns:
                missed = behind // period_ns
                deadline += missed * period_ns
                if drops:
                    self.skipped_frames += missed
                    if own_clock:
                        src.read(missed)      # keep a clocked source in step with the wall clock
                else:                         # recorded frames are never dropped: catch up
                    self.late_frames += missed
                    want += missed
            elif behind > late_ns:
                self.late_frames += 1
            try:
                t, v = src.read(want)
            except BusError as e:             # retried already: a chip is not answering
                self._set_missing(getattr(e, "chips", None) or [getattr(e, "chip", None) or "?"])
                wait(PROBE_S)                 # the deadlines passed meanwhile are skipped, above
                continue
            self._set_missing(src.missing_chips)   # frames go on without a chip gone
            if len(v) == 0:                   # the source has run out (a replay that ended)
                break
            self._count_without(v)
            stamp = time.monotonic_ns()
            if prev is not None and stamp - prev >= 1.5 * period_ns:
                self._gap(prev, stamp, period_ns, skipped=0)     # counted by the deadlines
            prev = stamp
            if own_clock:
                ts.extend(np.asarray(t, dtype=float).tolist())
            else:                             # frames read in one catch-up share its stamp
                ts.extend([(stamp - t0) / 1e9] * len(v))
            rows.extend(v)
            self.frames += len(v)
            self._recent.extend([stamp] * len(v))
            deadline += period_ns
            if stamp - last_put >= chunk_ns:
                self.sink.put((np.array(ts), np.array(rows)))
                ts, rows = [], []
                last_put = stamp
        self._end_outages(prev, period_ns, skipped=0)   # the deadlines counted the frames lost
        if ts:
            self.sink.put((np.array(ts), np.array(rows)))
