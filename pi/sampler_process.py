"""The sampler in a process of its own, for the chips.

Why a process: reading the chips in continuous mode has a deadline of under a millisecond per
ALERT/RDY pulse (the read and the next input's write must land before the next conversion ends,
pi/sources/ads_ready.py). In one interpreter, the display drawing a frame or the analysis of a
20 ms block holds the GIL long enough to miss that window now and then: the frame is dropped
(never mislabelled), but frames are lost. In a child process the pulses have an interpreter to
themselves; bench/hardware.py measures both ways.

The child opens the source (so the bus and the GPIO lines belong to it), runs the ordinary
:class:`pi.sampler.Sampler`, and sends each chunk of frames, with the health counters, missing
chips and gaps, down a pipe. :class:`RemoteSource` stands in for the source in the parent
(layout, rate, ``describe()`` for session.json); :class:`SamplerProcess` stands in for the
sampler (same ``start``/``stop``/``join``/``health``/``missing``/``gaps``), and feeds the same
queue the processor reads. The child ignores Ctrl-C: the parent stops it, so the last frames
always arrive before the session closes.
"""

from __future__ import annotations

import gc
import importlib
import multiprocessing as mp
import signal
import threading
import time

from analysis.errors import InsoleError, SessionError
from pi.sampler import END
from pi.sources.base import FrameSource

START_TIMEOUT_S = 60.0     # opening the chips in the child (imports, set-up, rate measurement)
STATUS_EVERY_S = 0.2       # health sent this often when no frames come


class RemoteSource(FrameSource):
    """A source opened in a child process by ``module:function(**options)``."""

    remote = True

    def __init__(self, opener: str, options: dict):
        module, func = opener.split(":")
        ctx = mp.get_context("spawn")          # a fresh interpreter: no threads or locks inherited
        self._conn, child = ctx.Pipe(duplex=True)
        # not a daemon: an emulated board's chips run in a process of the child's own
        # (pi.emulator.remote), and a daemon may have none. It still ends with this one: it
        # stops when the pipe closes, and close() ends it
        self._proc = ctx.Process(target=_child_main, args=(child, module, func, options),
                                 name="insole-sampler", daemon=False)
        self._proc.start()
        child.close()
        if not self._conn.poll(START_TIMEOUT_S):
            self.close()
            raise SessionError(f"the sampler process did not start within {START_TIMEOUT_S:g} s")
        try:
            msg = self._conn.recv()
        except EOFError:
            self.close()
            raise SessionError("the sampler process ended while opening the source") from None
        if msg[0] == "error":
            _, kind, text, is_insole = msg
            self.close()
            raise (InsoleError(text) if is_insole else SessionError(f"opening the source failed ({kind}: {text})"))
        info = msg[1]
        self.kind = info["kind"]
        self.layout = info["layout"]
        self.rate_hz = info["rate_hz"]
        self.pace_hz = info["pace_hz"]
        self.integer_values = info["integer_values"]
        self._describe = info["describe"]
        self.sampler_started = False

    def describe(self) -> dict:
        return dict(self._describe, sampler="process")

    def sampler(self, sink, duration_s: float | None = None) -> "SamplerProcess":
        return SamplerProcess(self, sink, duration_s)

    def close(self) -> None:
        try:
            if self._proc.is_alive():
                try:
                    self._conn.send(("stop",))
                except (OSError, ValueError):
                    pass
                self._proc.join(5.0)
            if self._proc.is_alive():
                self._proc.kill()            # it ignores SIGTERM (ignore_stop_signals)
                self._proc.join(2.0)
        finally:
            self._conn.close()


class SamplerProcess:
    """The parent's view of the sampler running in the child (see :class:`pi.sampler.Sampler`)."""

    def __init__(self, source: RemoteSource, sink, duration_s: float | None = None):
        self.source, self.sink, self.duration_s = source, sink, duration_s
        self.pace_hz = source.pace_hz
        self.error: BaseException | None = None
        self.ended = threading.Event()
        self.started = False
        self.missing: list[str] = []
        self.gaps: list[dict] = []
        self._health = {"frames": 0, "late_frames": 0, "skipped_frames": 0, "bus_errors": 0}
        self._achieved: float | None = None
        self._average: float | None = None
        #: the child's CPU seconds so far, as of ``at`` (its time.monotonic()): ``reading`` (the
        #: sampler thread and the chips' callbacks), ``handoff`` (sending frames here), ``process``
        self.cpu: dict | None = None
        self.final_source: dict | None = None     # the source's describe() at the end
        self._thread = threading.Thread(target=self._forward, name="insole-sampler-pipe", daemon=True)

    def start(self) -> None:
        self.source._conn.send(("go", self.duration_s))
        self._thread.start()
        self.started = True

    def stop(self) -> None:
        try:
            self.source._conn.send(("stop",))
        except (OSError, ValueError):
            pass

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def health(self) -> dict:
        return dict(self._health)

    def achieved_hz(self, window_s: float = 2.0) -> float | None:
        return self._achieved

    def average_hz(self) -> float | None:
        return self._average

    def _status(self, status: dict) -> None:
        self._health = status["health"]
        self.missing = status["missing"]
        self.gaps.extend(status["new_gaps"])
        self._achieved = status["achieved_hz"]
        self._average = status["average_hz"]
        self.cpu = status.get("cpu")

    def _forward(self) -> None:
        conn = self.source._conn
        try:
            while True:
                msg = conn.recv()
                if msg[0] == "chunk":
                    self._status(msg[3])
                    self.sink.put((msg[1], msg[2]))
                elif msg[0] == "status":
                    self._status(msg[1])
                elif msg[0] == "end":
                    self._status(msg[1])
                    if msg[1].get("source"):
                        self.final_source = dict(msg[1]["source"], sampler="process")
                    if msg[2] is not None:
                        kind, text, is_insole = msg[2]
                        self.error = InsoleError(text) if is_insole else SessionError(f"sampling failed ({kind}: {text})")
                    break
        except (EOFError, OSError) as e:
            self.error = SessionError(f"the sampler process ended unexpectedly ({type(e).__name__})")
        finally:
            self.sink.put(END)
            self.ended.set()


def _describe(src) -> dict | None:
    try:
        return src.describe()
    except Exception:          # a source that cannot say more at its end: session.json keeps its start
        return None


def _error_tuple(e: BaseException):
    return (type(e).__name__, str(e), isinstance(e, InsoleError))


def _child_main(conn, module: str, func: str, options: dict) -> None:
    import queue

    from pi.realtime import ignore_stop_signals, short_switch_interval
    from pi.sampler import Sampler
    ignore_stop_signals()              # the parent decides when it ends (pi.realtime)
    short_switch_interval()
    try:
        src = getattr(importlib.import_module(module), func)(**options)
    except BaseException as e:
        conn.send(("error", *_error_tuple(e)))
        return
    try:
        conn.send(("ready", {"kind": src.kind, "layout": src.layout, "rate_hz": src.rate_hz,
                             "pace_hz": float(src.pace_hz),
                             "integer_values": src.integer_values, "describe": src.describe()}))
        msg = conn.recv()
        if msg[0] != "go":
            return
        # a full garbage collection walks every object; with the set-up's objects frozen out of
        # its reach it stays short (measured: collections stalled pulses by up to 24 ms before)
        gc.collect()
        gc.freeze()
        q: queue.SimpleQueue = queue.SimpleQueue()
        sampler = Sampler(src, q, duration_s=msg[1])

        def listen():
            try:
                while conn.recv()[0] != "stop":
                    pass
            except (EOFError, OSError):
                pass                                   # the parent is gone: stop too
            sampler.stop()
        threading.Thread(target=listen, name="insole-sampler-control", daemon=True).start()
        sampler.start()
        sent = 0

        def status():
            nonlocal sent
            new = sampler.gaps[sent:]
            sent += len(new)
            callbacks = src.callback_cpu_s()
            cpu = {"reading": (callbacks or 0.0) + (sampler.thread_cpu_s() or 0.0), "handoff": time.thread_time(),
                   "process": time.process_time(), "at": time.monotonic()}
            return {"health": sampler.health(), "missing": list(sampler.missing), "new_gaps": list(new),
                    "achieved_hz": sampler.achieved_hz(), "average_hz": sampler.average_hz(), "cpu": cpu}
        while True:
            try:
                item = q.get(timeout=STATUS_EVERY_S)
            except queue.Empty:               # no frames (a chip gone): the health still goes up
                conn.send(("status", status()))
                continue
            if item is END:
                sampler.join()
                end = dict(status(), source=_describe(src))     # as measured over the session
                conn.send(("end", end, _error_tuple(sampler.error) if sampler.error else None))
                break
            conn.send(("chunk", item[0], item[1], status()))
    except (EOFError, OSError, BrokenPipeError):
        pass
    finally:
        try:
            src.close()
        except Exception:
            pass
