"""The ads source: the kit's ADS1x15 chips, read through adafruit_ads1x15 on any busio.I2C
(on a Pi: :func:`default_bus`, /dev/i2c-1 through smbus2).

The library sets the chips up (it probes each address and knows the gain and data-rate codes)
and converts register words to values; the read loop is ours, because the library's own
single-shot read busy-polls a core at 100 % and its continuous mode reads the wrong input
(shared/notes/hardware.md; reproduced by pi/emulator).

Mode ``single`` (timed single-shot, all chips in parallel): for each input slot, start a
conversion on every chip that uses that input, *sleep* through the conversion time (1/DR plus
10 % oscillator tolerance and the 25 µs wake-up), confirm each chip's OS bit says done (waiting a
little more if not: a slow oscillator must not give a stale result), then read every chip.
A frame is the four slots in turn; ``input_offsets_s`` records when in the frame each sensor's
conversion started.

Build one from a kit and any bus object::

    from pi.kit import load_kit
    from pi.sources.ads import AdsSource
    src = AdsSource(load_kit(), i2c)          # i2c: default_bus() on a Pi, or pi.emulator.build_bus(kit)
    t_s, values = src.read(10)                # 10 frames of ADC counts, in the kit's column order
"""

from __future__ import annotations

import time

import numpy as np

from analysis.errors import BusError, InsoleError
from pi.chips import CHIPS
from pi.sources.base import FrameSource

MODES = ("single", "continuous")
RETRIES = 3                    # a failed transaction is tried this many times more
OS_POLL_S = 50e-6              # wait between OS-bit checks when a conversion runs long
WAKE_S = 25e-6                 # single-shot power-up before a conversion starts (datasheet)
OSC_TOLERANCE = 1.10           # the internal oscillator may run up to 10 % slow
WARMUP_FRAMES = 6              # timed at start-up to set the frame rate
HOLD_PROBE_S = 1.0             # continuous mode is sampled this long at start-up: does the board hold it?
STEP_DOWN_LOSS = 0.05          # more frames lost than this: one data rate lower (acceptance: ≥ 205 of 215)
LOWEST_STEP_SPS = 475          # the lowest data rate stepped down to (118.75 frames/s: above what single-shot
                               # gives at 400 kHz); below it, timed single-shot is as fast and needs less
I2C_CLOCK_WRITES = 8           # writes in the long transfer that times the bus clock
LO_THRESH_ZERO = b"\x02\x00\x00"   # Lo_thresh = 0x0000: what continuous mode sets it to
COMBINED_BITS = 85             # a config write, the pointer back and a result read, joined by repeated starts


#: gpiozero pin factories that stamp an edge when they get round to it, not when it happened: a
#: late callback would then look on time, and its read and write could be placed on the wrong side
#: of the next conversion (a wrong label). lgpio passes the kernel's event time; pigpio its own.
STAMPED_LATE = ("RPiGPIOFactory", "NativeFactory")

I2C_DEV = "/dev/i2c-1"        # the Pi's I2C bus on header pins 3 (SDA) and 5 (SCL), through i2c-dev
NO_BUS_HINT = "to try without a kit: --source emulated"


def default_bus():
    """The Pi's I2C bus: on a Raspberry Pi ``/dev/i2c-1`` through smbus2
    (:class:`~pi.sources.linux_i2c.LinuxI2C`: no Blinka, so no pin library is needed); elsewhere
    Blinka's ``board.I2C()`` (boards it knows, e.g. an FT232H; a laptop's own I2C buses are never
    scanned). Raises InsoleError "no I2C bus here (why)"; ``.reason`` is why."""
    import errno
    import os
    from pi.feedback import on_raspberry_pi
    if on_raspberry_pi():
        if not os.path.exists(I2C_DEV):     # Blinka would open the same missing file: no use trying it
            raise _no_bus(f"{I2C_DEV} missing: is I2C on? sudo raspi-config, Interface Options, I2C "
                          f"(or ./setup.sh), then reboot")
        try:
            from pi.sources.linux_i2c import LinuxI2C
            return LinuxI2C(I2C_DEV)
        except ImportError as e:
            reason = f"{e.name or 'smbus2'} is not installed: ./setup.sh installs it"
        except OSError as e:
            group = (": add yourself to the i2c group (sudo adduser $USER i2c), then log in again"
                     if e.errno in (errno.EACCES, errno.EPERM) else "")
            reason = f"cannot open {I2C_DEV}: {e.strerror or e}{group}"
    else:
        reason = "not a Raspberry Pi"
    try:
        import board
        return board.I2C()
    except Exception as e:     # Blinka missing, a pin library missing, a board it does not know
        # off a Pi, "this machine has no board.I2C" (a laptop) adds nothing to "not a Raspberry Pi"
        if reason == "not a Raspberry Pi" and isinstance(e, (ImportError, AttributeError, NotImplementedError)):
            raise _no_bus(reason) from e
        raise _no_bus(f"{reason}; Blinka's board.I2C() failed too: {type(e).__name__}: {e}") from e


class NoFrames(BusError):
    """Continuous mode gave no frame at all (no pulses, or a board far too slow for the rate)."""


def _no_bus(reason: str) -> InsoleError:
    err = InsoleError(f"no I2C bus here ({reason}); {NO_BUS_HINT}")
    err.reason = reason
    return err


class AdsSource(FrameSource):
    kind = "ads"
    wants_realtime = True      # the thread reading the chips asks for SCHED_FIFO (pi/realtime.py)

    def __init__(self, kit, i2c=None, mode: str | None = None, pin_factory=None, lines=None,
                 cpu_model=None, board: dict | None = None):
        import adafruit_ads1x15
        from adafruit_ads1x15 import ads1x15 as lib

        auto = mode is None
        if auto:              # continuous + ALERT/RDY where every chip has its pin wired
            mode = "continuous" if all(c.alert_pin is not None for c in kit.chips) else "single"
        if mode not in MODES:
            raise InsoleError(f"unknown ads mode {mode!r}; choose one of {', '.join(MODES)}")
        self.mode = mode
        self.kit = kit
        #: an emulated board (pi.emulator.boards): its slower Python and its record; None for real
        self.cpu_model, self.board = cpu_model, board
        self.edges_notice: str | None = None
        self.layout = kit.layout
        self.rate_hz = kit.rate_hz
        self.i2c = i2c if i2c is not None else default_bus()
        self.bus_errors = 0
        self._lib = lib
        cls = {name: getattr(adafruit_ads1x15, t.driver) for name, t in CHIPS.items()}
        self.ads = {}
        for chip in kit.chips:
            for attempt in range(RETRIES + 1):     # the library probes the address: a glitch is no absence
                try:
                    self.ads[chip.name] = cls[chip.type](self.i2c, gain=chip.gain, data_rate=chip.data_rate,
                                                         address=chip.address)
                    break
                except (ValueError, OSError) as e:
                    self.bus_errors += 1
                    if attempt == RETRIES:
                        raise InsoleError(f"no {chip.type} answers at 0x{chip.address:02x} (chip {chip.name!r}): "
                                          f"check its power, SDA/SCL and ADDR wiring ({e})") from e
        # the frame plan: for each input slot, the chips converting it and the columns they fill
        self.plan = []
        self._out = {}
        # partial_frames stays False (FrameSource) unless the sampler asks: the wiring check and
        # the calibration want the error of a chip gone, not frames without it
        for j in range(4):
            jobs = []
            for name, ads in self.ads.items():
                cols = [i for i, s in enumerate(self.layout) if s.chip == name and s.input == j]
                if cols:
                    jobs.append((ads, self._config_word(ads, j), cols[0]))
            if jobs:
                wait = max(OSC_TOLERANCE / ads.data_rate for ads, _, _ in jobs) + WAKE_S
                self.plan.append((jobs, wait))
        # chip names by driver object, and the chips the plan reads: looked up per frame
        self._names = {id(a): n for n, a in self.ads.items()}
        self._used = {self._names[id(j[0])] for jobs, _ in self.plan for j in jobs}
        self.input_offsets_s = self._nominal_offsets()
        self.reader = None
        self.notice: str | None = None
        self.step_down: list[dict] = []
        self.i2c_clock_hz: float | None = None
        if mode == "continuous":
            try:
                if auto:
                    self._continuous_holding(pin_factory, lines)
                else:
                    self._start_continuous(pin_factory, lines)
                return
            except InsoleError as e:
                if not auto:
                    raise
                self.close()              # fall back: slower, but needs neither the pins nor a fast bus
                self.reader, self.mode = None, "single"
                self.notice = f"timed single-shot mode: {e}"
                self.input_offsets_s = self._nominal_offsets()
        # the highest rate that is correct here: time a few frames (bus speed and software
        # overhead differ from Pi to Pi) and keep 5 % in hand, never above the kit's rate
        t0 = time.perf_counter()
        self.read(WARMUP_FRAMES)
        achievable = WARMUP_FRAMES / (time.perf_counter() - t0)
        self.achievable_hz = round(achievable, 1)
        self.rate_hz = min(float(kit.rate_hz), round(0.95 * achievable, 1))

    # -- continuous + ALERT/RDY ---------------------------------------------------------------
    paced = property(lambda self: self.reader is not None)

    def _start_continuous(self, pin_factory, lines, auto_rate: bool = False) -> None:
        from pi.sources.ads_ready import ReadyReader
        missing = [c.name for c in self.kit.chips if c.alert_pin is None]
        if missing:
            raise InsoleError(f"continuous mode needs each chip's ALERT/RDY wired to a GPIO; "
                              f"no alert_pin for chip {', '.join(missing)}")
        self._check_window(auto_rate)
        from pi.realtime import short_switch_interval
        short_switch_interval()          # the callbacks must get the interpreter within ~0.5 ms
        specs, pins = [], []
        for chip in self.kit.chips:
            sensors = sorted((s.input, i) for i, s in enumerate(self.layout) if s.chip == chip.name)
            if sensors:
                specs.append((self.ads[chip.name], self._lib, [j for j, _ in sensors], [i for _, i in sensors],
                              chip.name))
                pins.append(chip.alert_pin)
        if lines is None and pin_factory is None:
            # on a Pi: the kernel's GPIO character device, or gpiozero's callbacks where it
            # cannot be used (they come 0.5 ms late through lgpio: the rate may step down)
            from pi.sources.gpio_lines import NoLines, opener
            try:
                lines = opener()
            except NoLines as e:
                self.edges_notice = f"ALERT/RDY edges through gpiozero: {e}"
        try:
            # the character device's reader settles apart, in a process of its own: beside it, the
            # settling held the interpreter or the reading thread's time (ads_ready.settler_main)
            self.reader = ReadyReader(specs, len(self.layout), pins, pin_factory, lines, self.cpu_model)
        except Exception as e:          # gpiozero: no pin factory here, a pin in use, …
            raise InsoleError(f"cannot watch the ALERT/RDY pins (GPIO {', '.join(map(str, pins))}): "
                              f"{type(e).__name__}: {e}") from e
        factory = type(self.reader.devices[0].pin_factory).__name__ if self.reader.devices else None
        if factory in STAMPED_LATE:
            self.close()
            raise InsoleError(f"continuous mode needs each ALERT/RDY edge's time from the kernel, and gpiozero's "
                              f"{factory} gives the time it got to it: use lgpio (GPIOZERO_PIN_FACTORY=lgpio)")
        self._started_ns = time.monotonic_ns()
        self._cpu_at_start = (self.cpu_model.board_cpu_s() if self.cpu_model is not None
                              else (self.callback_cpu_s() if self.reader is not None else 0.0))
        try:
            self.reader.start()
        except OSError as e:
            self.close()
            if self.reader.request is None and lines is not None:
                raise InsoleError(f"cannot watch the ALERT/RDY pins: {e}") from e
            raise BusError(f"a chip stopped answering while being set up ({e}); check the I2C wiring") from e
        # the chips set the pace: measure it (oscillators differ by up to 10 %)
        stamps = []
        while len(stamps) < WARMUP_FRAMES * 4:
            stamps += self._first_frames(1.0)[0]
        # frames lost to a late pulse show as longer intervals: the typical one is the chips' pace
        self.achievable_hz = round(1e9 / float(np.median(np.diff(stamps))), 1)
        self.rate_hz = self.achievable_hz
        # each chip converts its inputs in order, one per conversion, its cycle starting where the
        # warm-up found it against the chip that stamps the frames (its phase)
        self.input_offsets_s = [0.0] * len(self.layout)
        for stream in self.reader.streams:
            lead_ns = self.reader.lead_ns.get(stream, 0.0)
            for slot, col in enumerate(stream.cols):
                self.input_offsets_s[col] = round((lead_ns + slot * stream.measured_ns) / 1e9, 6)

    def _continuous_holding(self, pin_factory, lines) -> None:
        """Continuous mode at the highest data rate this board holds. Start at the kit's (or a
        lower one the bus clock needs: :meth:`_check_window`), sample ``HOLD_PROBE_S``, and
        where over ``STEP_DOWN_LOSS`` of the frames were lost (a slow board: its edges come
        late, its Python is slow, its bus is slow) start again one data rate lower, down to
        ``LOWEST_STEP_SPS``; below that, raise InsoleError (the caller falls back to
        single-shot). Frames are then lost now and then, never at random because the board is
        too slow. Each try is kept in ``step_down``, and the outcome said in ``notice``."""
        while True:
            try:
                self._start_continuous(pin_factory, lines, auto_rate=True)
                lost = self._probe_loss(HOLD_PROBE_S)
                if lost > STEP_DOWN_LOSS:
                    # once more before giving the rate up: the start-up's own bustle (imports,
                    # the display starting) can cost a second's frames on a board that holds it
                    lost = min(lost, self._probe_loss(HOLD_PROBE_S))
            except NoFrames:                      # so slow that the warm-up saw no frame at all
                self.reader, lost = None, 1.0
            rate = max(a.data_rate for a in self.ads.values())
            self.step_down.append({"data_rate": rate, "frames_per_s": self.rate_hz if self.reader else None,
                                   "lost_pct": round(100 * lost, 1)})
            if lost <= STEP_DOWN_LOSS:
                break
            if self.reader is not None:
                self.reader.close()
                self.reader = None
            lower = [r for r in next(iter(self.ads.values())).rates if LOWEST_STEP_SPS <= r < rate]
            if not lower:
                tried = ", ".join(f"{t['lost_pct']:g} % at {t['data_rate']} SPS" for t in self.step_down
                                  if t.get("lost_pct") is not None)
                raise InsoleError(f"this board cannot hold continuous mode (frames lost: {tried})")
            for a in self.ads.values():
                a.data_rate = lower[-1]
        if len(self.step_down) > 1:
            first = self.step_down[0]
            why = (f"this board lost {first['lost_pct']:g} % of frames" if first.get("lost_pct") is not None
                   else first.get("why", ""))
            self.notice = (f"continuous mode stepped down to {rate} SPS ({self.rate_hz:g} frames/s): at "
                           f"{first['data_rate']} SPS {why}")

    def _probe_loss(self, seconds: float) -> float:
        """The share of frames lost over ``seconds`` of continuous sampling (from the gaps in
        their stamps: the chips' grid says how many should have come)."""
        stamps: list[int] = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.maintain()
            stamps += self.read_paced(0.02)[0]
        if len(stamps) < 2:
            return 1.0
        period_ns = 1e9 / self.rate_hz
        steps = np.round(np.diff(np.asarray(stamps, dtype=np.float64)) / period_ns)
        expected = float(np.sum(np.maximum(steps, 1)))
        return float(np.sum(np.maximum(steps - 1, 0))) / expected

    def _slower_rate_fits(self, ads, transfer_s: float) -> bool:
        """Lower every chip's data rate to the highest whose window leaves half of it for a
        transfer of ``transfer_s``, not below ``LOWEST_STEP_SPS``; False if none does."""
        from pi.sources.ads_ready import read_write_window_s
        fits = [r for r in ads.rates if LOWEST_STEP_SPS <= r < ads.data_rate and transfer_s <= 0.5 * read_write_window_s(r)]
        if not fits:
            return False
        was = ads.data_rate
        for a in self.ads.values():
            a.data_rate = fits[-1]
        self.step_down.append({"data_rate": was, "frames_per_s": None, "lost_pct": None,
                               "why": f"a transfer takes {transfer_s * 1e6:.0f} µs on this bus"})
        return True

    def _check_window(self, auto_rate: bool = False) -> None:
        """Time a read and a write on each chip here, and refuse continuous mode (with the
        reason) when they take over half the window a callback has for them; ``auto_rate``: first
        lower the data rate to one this bus can serve (a slow clock, e.g. a Pi 4's left free)."""
        from pi.sources.ads_ready import POINTER_CONVERSION, read_write_window_s
        prepare = getattr(self.i2c, "prepare", None)
        for name, ads in self.ads.items():
            times = []
            combined = None
            if prepare is not None:
                # the transfer continuous mode makes, in its shape (a register write, the
                # pointer back, the result read: 85 bits), writing Lo_thresh as set-up does
                try:
                    combined = prepare(ads.i2c_device.device_address, (b"\x02\x00\x00", POINTER_CONVERSION), 2)
                except (AttributeError, OSError, TypeError):
                    combined = None
            for _ in range(5):
                t0 = time.perf_counter()
                if combined is not None:
                    self._retry(combined)
                else:
                    self._retry(ads._read_register, 0)
                    self._retry(ads._write_register, 1, self._config_word(ads, 0) & ~self._lib._ADS1X15_CONFIG_OS_SINGLE)
                times.append(time.perf_counter() - t0)
            pair = float(np.median(times))
            if combined is not None and self.i2c_clock_hz is None:
                self.i2c_clock_hz = measure_i2c_hz(self.i2c, ads.i2c_device.device_address)
            if self.i2c_clock_hz:
                # the clock is known: judge by the bus time alone (the software's share is the
                # hold probe's to judge, on the real pulses: _continuous_holding)
                pair = COMBINED_BITS / self.i2c_clock_hz
            window = read_write_window_s(ads.data_rate)
            if pair > 0.5 * window and auto_rate and self._slower_rate_fits(ads, pair):
                continue                          # lowered to a data rate this bus can serve
            if pair > 0.5 * window:
                raise InsoleError(f"continuous mode needs a read and a write within {window * 1e6:.0f} µs of each "
                                  f"conversion at {ads.data_rate} SPS; they take {pair * 1e6:.0f} µs on this bus "
                                  f"(chip {name}): set the I2C bus to 400 kHz or lower data_rate")

    def read_paced(self, timeout_s: float):
        """Continuous mode: the frames completed so far, waiting up to ``timeout_s`` for the
        first. Returns (monotonic ns stamps, (n, n_sensors) counts); both empty if none came."""
        items = self.reader.take(timeout_s)
        if not items:
            return [], np.zeros((0, len(self.layout)), dtype=np.int64)
        rows = [r for _, r in items]
        if any(None in r for r in rows):       # a chip absent: its inputs not sampled (NaN)
            return [t for t, _ in items], np.array([[np.nan if v is None else v for v in r] for r in rows])
        return [t for t, _ in items], np.array(rows, dtype=np.int64)

    def _first_frames(self, timeout_s: float):
        stamps, rows = self.read_paced(timeout_s)
        if not stamps:
            self.close()
            raise NoFrames(f"no frames from the chips for {timeout_s:g} s: check the ALERT/RDY wiring "
                           f"and pull-ups (GPIO {', '.join(str(c.alert_pin) for c in self.kit.chips)})")
        return stamps, rows

    def maintain(self) -> list[str]:
        """Continuous mode: set up again any chip that stopped answering or pulsing (called by
        the sampler between reads); returns the names of the chips still missing."""
        self.missing_chips = self.reader.maintain() if self.reader is not None else []
        return self.missing_chips

    missing_chips: list[str] = []

    def missing_reasons(self) -> dict[str, str]:
        """Why each missing chip is missing (continuous mode: :meth:`ReadyReader.missing_reasons`)."""
        if self.reader is not None:
            return self.reader.missing_reasons()
        return {n: f"chip {n} not answering (its power, SDA/SCL or address)" for n in self.missing_chips}

    def _config_word(self, ads, j: int) -> int:
        """Start a single-shot conversion of single-ended input ``j`` (MUX 100 + j), comparator
        off; gain and data-rate codes from the library."""
        lib = self._lib
        return (lib._ADS1X15_CONFIG_OS_SINGLE | ((4 + j) << lib._ADS1X15_CONFIG_MUX_OFFSET)
                | lib._ADS1X15_CONFIG_GAIN[ads.gain] | lib.Mode.SINGLE
                | ads.rate_config[ads.data_rate] | lib._ADS1X15_CONFIG_COMP_QUEUE[0])

    def _nominal_offsets(self) -> list[float]:
        offsets = [0.0] * len(self.layout)
        t = 0.0
        for jobs, wait in self.plan:
            for _, _, col in jobs:
                offsets[col] = round(t, 6)
            t += wait
        return offsets

    def describe(self) -> dict:
        out = {"kind": self.kind, "mode": self.mode, "mode_notice": self.notice, "rate_hz": self.rate_hz,
               "kit_rate_hz": self.kit.rate_hz, "achievable_hz": self.achievable_hz,
               "input_offsets_s": dict(zip(self.layout.names, self.input_offsets_s)),
               "realtime": self.realtime,    # the reading thread's scheduling (pi/realtime.py)
               **self.kit.to_source_json()}
        if self.reader is not None:
            out["edges"] = self.reader.edges_from
            if self.edges_notice:
                out["edges_notice"] = self.edges_notice
            out["i2c_per_conversion"] = ("one combined transfer (config write, pointer, result read)"
                                         if self.reader.streams[0]._exchange is not None else
                                         "two transactions (result read, config write)")
            latency = self.edge_latency_ms()
            if latency is not None:
                out["edge_latency_ms"] = latency
            r = self.reader
            if r._settler is not None:   # where the chips' records are settled and paired (ads_ready)
                out["settling"] = "a process of its own" + (f" ({r.unshipped} records it could not take, dropped)"
                                                            if r.unshipped else "")
        if self.step_down:
            out["step_down"] = self.step_down
        if self.i2c_clock_hz is not None:
            out["i2c_clock_hz"] = round(self.i2c_clock_hz, -2)
        if self.board is not None:
            out["board"] = self.board
        cpu = self.sampler_cpu_share()
        if cpu is not None:
            out["reader_cpu_pct"] = round(100 * cpu, 1)
            settler = self.settler_cpu_share()
            if settler is not None:
                out["settler_cpu_pct"] = round(100 * settler, 1)
                out["sampler_cpu_pct"] = round(100 * (cpu + settler), 1)
        return out

    def settler_cpu_share(self) -> float | None:
        """Continuous mode, settled apart: the settler process's CPU so far as a share of one
        core of the board (as :meth:`sampler_cpu_share`); None without one."""
        if self.reader is None or self.reader._settler is None or not getattr(self, "_started_ns", None):
            return None
        wall = (time.monotonic_ns() - self._started_ns) / 1e9
        return self.reader.settler_cpu_s / wall if wall > 0 else None

    def sampler_cpu_share(self) -> float | None:
        """Continuous mode: the reading thread's CPU so far as a share of one core of the board
        it runs on (an emulated board: its slower Python's, pi.emulator.boards), over the time
        since the reading began; None before. The settler's is :meth:`settler_cpu_share`."""
        if self.reader is None or not getattr(self, "_started_ns", None):
            return None
        wall = (time.monotonic_ns() - self._started_ns) / 1e9
        if wall <= 0:
            return None
        if self.cpu_model is not None:
            cpu = self.cpu_model.board_cpu_s() - self._cpu_at_start
        else:
            cpu = self.callback_cpu_s() - self._cpu_at_start
        return cpu / wall

    def edge_latency_ms(self) -> dict | None:
        """Continuous mode: from each ALERT/RDY edge (its kernel timestamp) to the code reading
        it, over the last edges seen: {"p50", "p99", "max", "edges"} in ms (None before any)."""
        if self.reader is None:
            return None
        lat = np.concatenate([np.fromiter(s.latency_ns, dtype=np.int64) for s in self.reader.streams])
        if lat.size == 0:
            return None
        p50, p99 = np.percentile(lat, [50, 99]) / 1e6
        return {"p50": round(float(p50), 3), "p99": round(float(p99), 3), "max": round(float(lat.max()) / 1e6, 3),
                "edges": int(lat.size)}

    # -- transactions, retried -----------------------------------------------------------------
    def _retry(self, fn, *args):
        for attempt in range(RETRIES + 1):
            try:
                return fn(*args)
            except OSError as e:
                self.bus_errors += 1
                if attempt == RETRIES:
                    name = next((n for n, a in self.ads.items() if a is getattr(fn, "__self__", None)), None)
                    err = BusError(f"chip {name or '?'}: I2C transaction failed {RETRIES + 1} times: {e}")
                    err.chip = name
                    raise err from e

    def _frame(self, out: np.ndarray) -> None:
        cpu = self.cpu_model                      # an emulated board's slower Python (None on a Pi)
        if cpu is not None:
            cpu.begin()
        now = time.monotonic()
        out_ = self._out
        names = self._names
        for jobs, wait in self.plan:
            live = [j for j in jobs if out_.get(names[id(j[0])], 0.0) <= now] if out_ else list(jobs)
            for job in list(live):
                try:
                    self._retry(job[0]._write_register, 1, job[1])
                except BusError:
                    self._chip_out(job[0], now, live, job)
            time.sleep(wait)
            for job in list(live):
                ads, _, col = job
                try:
                    tries = 0
                    while not self._retry(ads._read_register, 1) & 0x8000:   # OS bit: still converting
                        tries += 1
                        if tries > 100:
                            raise BusError(f"chip at 0x{ads.i2c_device.device_address:02x} never finished a conversion")
                        time.sleep(OS_POLL_S)
                    out[col] = ads._conversion_value(self._retry(ads._read_register, 0))
                    if out_:
                        out_.pop(names[id(ads)], None)
                except BusError:
                    self._chip_out(ads, now, live, job)
            if len(live) < len(jobs):
                for job in jobs:
                    if job not in live:
                        out[job[2]] = np.nan
            if cpu is not None:
                cpu.checkpoint()
        if out_ and (self._used <= set(out_) or not self.partial_frames):
            # none answers (no frame at all: the sampler waits), or a caller that wants whole frames
            err = BusError(f"chip {', '.join(sorted(out_))} not answering")
            err.chip, err.chips = sorted(out_)[0], sorted(out_)
            raise err
        self.missing_chips = sorted(out_)

    def _chip_out(self, ads, now: float, live: list, job) -> None:
        """A chip that failed its retries: frames go on without it, tried again every PROBE_S."""
        from pi.sources.ads_ready import PROBE_S
        self._out[self._names[id(ads)]] = now + PROBE_S
        for j in [j for j in live if j[0] is ads]:
            live.remove(j)

    def read(self, n: int):
        """``n`` frames: (None, (n, n_sensors) array, int, or float with NaN for the inputs of a
        chip not answering); the sampler stamps the frames."""
        if self.reader is not None:
            rows = []
            while len(rows) < n:
                rows.extend(self._first_frames(1.0)[1])
            rows = np.array(rows[:n])
            if not self.partial_frames and rows.dtype.kind == "f" and np.isnan(rows).any():
                missing = self.maintain() or ["?"]
                err = BusError(f"chip {', '.join(missing)} not answering")
                err.chip, err.chips = missing[0], missing
                raise err
            return None, rows
        rows = np.zeros((n, len(self.layout)), dtype=np.float64)
        for i in range(n):
            self._frame(rows[i])
        return None, rows if np.isnan(rows).any() else rows.astype(np.int64)

    @property
    def bus_errors_total(self) -> int:
        return self.bus_errors + (self.reader.bus_errors if self.reader else 0)

    @property
    def realtime(self) -> str:
        """How the thread reading the chips runs: SCHED_FIFO, or normal and why (pi/realtime.py).
        In continuous mode, as its callbacks found it (they have run by the end of the set-up);
        in single-shot mode the sampler's thread asks when it starts."""
        from pi import realtime
        said = [s.promoted for s in self.reader.streams if s.promoted is not None] if self.reader else []
        if self.reader is not None and self.reader.events_promoted is not None:
            said = [self.reader.events_promoted]
        return realtime.describe(said[0] if said else None)

    def callback_cpu_s(self) -> float | None:
        """Continuous mode: CPU seconds spent so far in the ALERT/RDY callbacks (the reading,
        I2C calls included), on whatever thread ran them; None in single-shot mode, where the
        sampler's own thread reads."""
        if self.reader is None:
            return None
        return sum(s.cpu_ns for s in self.reader.streams) / 1e9 + self.reader.reader_cpu_s()

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()


def measure_i2c_hz(i2c, address: int, repeats: int = 25) -> float | None:
    """The bus clock, Hz, from timed transfers: one combined transfer of ``WRITES`` writes
    of the chip's Lo_thresh register (the value continuous mode writes there) against one of
    a single write; the difference is (WRITES − 1) × 37 bits (a start, the address and three
    bytes, 9 bits each), and the fixed costs of a transfer (the system call, the wake-up)
    cancel out. Needs a bus that prepares combined transfers (LinuxI2C); None where the
    timing says nothing (an emulated bus with no bus time)."""
    many, one = (i2c.prepare(address, [LO_THRESH_ZERO] * n) for n in (I2C_CLOCK_WRITES, 1))
    times = {id(many): [], id(one): []}
    for _ in range(repeats):
        for t in (one, many):
            t0 = time.perf_counter_ns()
            t()
            times[id(t)].append(time.perf_counter_ns() - t0)
    dt_s = (float(np.median(times[id(many)])) - float(np.median(times[id(one)]))) / 1e9
    bits = (I2C_CLOCK_WRITES - 1) * 37
    if dt_s <= bits / 5e6:            # faster than any I2C bus: no bus time modelled here
        return None
    return bits / dt_s


def open_source(kit=None, i2c=None, ads_mode: str | None = None, **_ignored) -> AdsSource:
    """The kit's chips on the Pi's I2C bus (or ``i2c``)."""
    from pi.kit import load_kit
    return AdsSource(kit or load_kit(), i2c, ads_mode)


EMULATED_LOG_SIZE = 60_000     # conversions (and reads) each emulated chip keeps in a run: ~35 s at 860 SPS


def open_emulated(kit=None, ads_mode: str | None = None, sim_settings=None, board: str | None = None,
                  edges: str = "chardev", bus_options: dict | None = None, inputs_hook: str | None = None,
                  python_factor: float | None = None, **_ignored) -> AdsSource:
    """The same stack, real driver included, against emulated chips fed by the simulated runner,
    on an emulated ``board`` (pi.emulator.boards; default the kit's board, ``pi4``).

    ``ideal``: this machine as it is (edges through gpiozero mock pins at once, no bus time).
    Any other board: its I2C clock, its kernel's edge latency and its slower Python, and the
    product's own bus code (LinuxI2C over an emulated i2c-dev). ``edges``: ``chardev`` (the
    GPIO character device, as on a Pi with gpiod) or ``gpiozero`` (gpiozero's callbacks
    through lgpio, which holds each edge 0.5 ms or more: the old path, for comparison). The
    chips, the bus and the kernel's part run in a board process (pi.emulator.remote), so they
    need none of this process's interpreter; ``src.emulated_bus`` is that board
    (:class:`~pi.emulator.remote.RemoteBoard`: faults, vanishing chips, the chips' logs).
    ``inputs_hook``: ``"module:function"`` run there on the bus to drive the inputs;
    ``python_factor``: k other than the board's (the bench's headroom search)."""
    from gpiozero.pins.mock import MockFactory
    from pi.emulator import boards, build_bus
    from pi.kit import load_kit
    kit = kit or load_kit()
    b = boards.board(board or boards.DEFAULT_BOARD)
    opts = dict(bus_options or {})
    # the chips' logs (for checking labels) bounded to ~35 s of a run: 200 000 entries each grew a
    # long emulated run's memory by ~240 MB over its first minutes
    opts.setdefault("log_size", EMULATED_LOG_SIZE)
    if b.ideal:
        pins = MockFactory()
        bus = build_bus(kit, sim_settings=sim_settings, pin_factory=pins, **opts)
        src = _closing_bus(AdsSource(kit, bus, ads_mode, pin_factory=pins, board=b.record()), bus)
        src.kind = "emulated"
        return src
    if edges not in ("chardev", "gpiozero"):
        raise InsoleError(f"edges: expected chardev or gpiozero, got {edges!r}")
    from pi.emulator.remote import RemoteBoard
    from pi.sources.linux_i2c import LinuxI2C
    k = boards.python_factor(b) if python_factor is None else float(python_factor)
    cpu = boards.SlowPython(k)
    pins = MockFactory() if edges == "gpiozero" else None
    remote = RemoteBoard(kit, b.name, edges=edges, sim_settings=sim_settings, bus_options=opts,
                         inputs_hook=inputs_hook, pin_factory=pins)
    try:
        src = AdsSource(kit, LinuxI2C(smbus=remote.smbus()), ads_mode, pin_factory=pins,
                        lines=remote.request_lines if edges == "chardev" else None, cpu_model=cpu,
                        board=dict(b.record(k), edges=edges))
    except BaseException:
        remote.close()
        raise
    src = _closing_bus(src, remote)
    src.kind = "emulated"
    return src


def _closing_bus(src: AdsSource, bus) -> AdsSource:
    """``src.close()`` also stops the emulated chips (a bus, or a board process)."""
    close = src.close

    def close_all():
        close()
        (bus.deinit if hasattr(bus, "deinit") else bus.close)()
    src.close = close_all
    src.emulated_bus = bus
    return src
