"""What ``insole check`` and ``insole calibrate`` share: the bus, the readings, the live bars,
and an emulated person for trying them without a kit.

* :func:`open_bus`: the Pi's I2C bus, or (``emulated``) the kit's chips emulated with a
  :class:`StillInsole` on their inputs, and an :class:`EmulatedPerson` who does what the
  wizard asks (presses a sensor, stands on one foot) a moment after being asked;
* :func:`scan`: the addresses on the bus, taking the bus lock first (busio requires it);
* :func:`read_volts`: frames from an :class:`~pi.sources.ads.AdsSource` as volts per sensor;
* :class:`Bars`: every input as a bar, live (rich), or one line per step without a terminal.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from analysis.calibration import fsr_divider_counts
from analysis.errors import BusError, InsoleError

G = 9.80665
LOCK_TIMEOUT_S = 2.0
#: how a standing foot's load spreads over sensors by region (heel carries most when standing)
STANDING_SHARE = {"heel": 0.45, "mid": 0.10, "fore": 0.45}


def scan(i2c, timeout_s: float = LOCK_TIMEOUT_S) -> list[int]:
    """7-bit addresses that answer on ``i2c``, in order; the bus lock is taken (and released)."""
    end = time.monotonic() + timeout_s
    while not i2c.try_lock():
        if time.monotonic() > end:
            raise BusError("the I2C bus is held by another program (is `insole run` running?)")
        time.sleep(0.01)
    try:
        return sorted(i2c.scan())
    finally:
        i2c.unlock()


# -- an emulated insole and the person wearing it ------------------------------------------------
@dataclass
class StillInsole:
    """Forces (N) on each sensor of a kit, turned into the volts its divider gives the ADC.

    ``wiring`` maps a sensor name to the (chip name, input) it is *really* wired to (default:
    as configured), so a test can swap two wires; ``dead`` sensors never respond (a broken wire),
    ``shorted`` ones sit at the supply (a crushed FSR). ``true_cal`` gives a sensor the response
    it really has, where it differs from the configured one (what calibration finds out).
    """

    kit: object
    wiring: dict = field(default_factory=dict)
    dead: tuple = ()
    shorted: tuple = ()
    force_n: dict = field(default_factory=dict)
    true_cal: dict = field(default_factory=dict)

    def __post_init__(self):
        self.lock = threading.Lock()
        self._by_input = {}
        for s in self.kit.layout:
            self._by_input[self.wiring.get(s.name, (s.chip, s.input))] = s

    def volts(self, chip: str, j: int) -> float:
        s = self._by_input.get((chip, j))
        if s is None:
            return 0.0
        cal = self.true_cal.get(s.name, s.calibration)
        if s.name in self.shorted:
            return float(cal.get("vcc_v", 3.3))
        with self.lock:
            f = 0.0 if s.name in self.dead else self.force_n.get(s.name, 0.0)
        counts = float(fsr_divider_counts(np.array(f), cal)) if cal["model"] == "fsr_divider" else f
        return counts * self.kit.chip(chip).fs_v / 32768.0

    def set(self, forces: dict) -> None:
        with self.lock:
            self.force_n = dict(forces)

    def attach(self, bus) -> None:
        for c in self.kit.chips:
            if c.address in bus.chips:
                for j in range(4):
                    bus.chip(c.address).set_input(j, lambda t, c=c.name, j=j: self.volts(c, j))


class EmulatedPerson:
    """Does what a wizard asks, ``delay_s`` after being asked: ``press`` one sensor (``hold_s``,
    ~300 N, as a thumb does), ``lift`` both feet, ``stand`` on one foot."""

    def __init__(self, insole: StillInsole, body_mass_kg: float = 70.0, delay_s: float = 0.4, hold_s: float = 0.8):
        self.insole, self.mass, self.delay_s, self.hold_s = insole, body_mass_kg, delay_s, hold_s
        self._timers: list[threading.Timer] = []

    def _later(self, delay: float, forces: dict) -> None:
        t = threading.Timer(delay, self.insole.set, (forces,))
        t.daemon = True
        t.start()
        self._timers.append(t)

    def act(self, action: str, **kw) -> None:
        if action == "press":
            self._later(self.delay_s, {kw["sensor"]: 300.0})
            self._later(self.delay_s + self.hold_s, {})
        elif action == "lift":
            self._later(self.delay_s, {})
        elif action == "stand":
            self._later(self.delay_s, standing_forces(self.insole.kit, kw["foot"], self.mass))

    def cancel(self) -> None:
        for t in self._timers:
            t.cancel()


def standing_forces(kit, foot: str, mass_kg: float) -> dict:
    """Body weight on one foot, shared among its sensors by region (heel, midfoot, forefoot)."""
    from analysis.layout import FOREFOOT_Y, REARFOOT_Y
    sensors = list(kit.layout.foot_sensors(foot))
    region = {s.name: "heel" if s.y < REARFOOT_Y else "fore" if s.y >= FOREFOOT_Y else "mid" for s in sensors}
    counts = {r: sum(1 for v in region.values() if v == r) for r in STANDING_SHARE}
    shares = {n: STANDING_SHARE[r] / counts[r] for n, r in region.items()}
    total = sum(shares.values())
    return {n: mass_kg * G * sh / total for n, sh in shares.items()}


def open_bus(kit, emulated: bool = False, insole: StillInsole | None = None, bus=None):
    """(i2c, person or None, close): the Pi's bus, or emulated chips with a still insole and a
    person who follows the prompts. ``bus``: an emulated bus of your own (with ``insole``)."""
    if not emulated and bus is None and insole is None:
        from pi.sources.ads import default_bus
        i2c = default_bus()
        return i2c, None, lambda: getattr(i2c, "deinit", lambda: None)()
    from pi.emulator import build_bus
    insole = insole or StillInsole(kit)
    bus = bus or build_bus(kit)
    insole.attach(bus)
    person = EmulatedPerson(insole, kit.body_mass_kg or 70.0)

    def close():
        person.cancel()
        bus.deinit()
    return bus, person, close


# -- readings ------------------------------------------------------------------------------------
def volts_per_count(src) -> np.ndarray:
    return np.array([src.kit.chip(s.chip).fs_v / 32768.0 for s in src.layout])


def read_volts(src, seconds: float, on_frame=None) -> np.ndarray:
    """``seconds`` of frames as (n, n_sensors) volts; ``on_frame(volts_row)`` sees each one
    (for live bars, or to stop early by returning True)."""
    scale = volts_per_count(src)
    rows = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        _, counts = src.read(1)
        v = counts[0] * scale
        rows.append(v)
        if on_frame is not None and on_frame(v):
            break
    return np.array(rows) if rows else np.zeros((0, len(src.layout)))


class Bars:
    """Each sensor's input as a bar (0 to the divider supply), with a prompt above: live in a
    terminal, or plain lines otherwise (one per step)."""

    def __init__(self, src, vcc_v: float, console=None):
        from rich.console import Console
        self.src, self.vcc = src, vcc_v
        self.console = console or Console()
        self.live = None
        self.prompt = ""
        self.marks: dict[str, str] = {}
        self._last = 0.0

    def __enter__(self):
        if self.console.is_terminal:
            from rich.live import Live
            self.live = Live(self._render(np.zeros(len(self.src.layout))), console=self.console,
                             refresh_per_second=12, transient=True)
            self.live.__enter__()
        return self

    def __exit__(self, *exc):
        if self.live is not None:
            self.live.__exit__(*exc)

    def say(self, text: str, style: str = "") -> None:
        """A line that stays (above the bars)."""
        self.console.print(text, style=style or None, highlight=False)

    def ask(self, prompt: str) -> None:
        self.prompt = prompt
        if self.live is None:
            self.console.print(prompt, highlight=False)

    def update(self, volts: np.ndarray) -> None:
        now = time.monotonic()
        if self.live is not None and now - self._last > 0.05:
            self._last = now
            self.live.update(self._render(volts))

    def _render(self, volts):
        from rich.table import Table
        from rich.text import Text
        t = Table.grid(padding=(0, 1))
        t.add_column(no_wrap=True)
        t.add_column(no_wrap=True)
        t.add_column(justify="right", no_wrap=True)
        t.add_column(no_wrap=True)
        width = 30
        for s, v in zip(self.src.layout, volts):
            frac = min(max(float(v) / self.vcc, 0.0), 1.0)
            n = int(round(frac * width))
            bar = Text("█" * n, style="green" if frac < 0.95 else "red") + Text("·" * (width - n), style="dim")
            t.add_row(f"{s.name}", f"{s.chip}:A{s.input}", f"{float(v):5.2f} V",
                      bar + Text(f" {self.marks.get(s.name, '')}"))
        from rich.console import Group
        return Group(Text(self.prompt, style="bold yellow"), t)


def need_terminal_or_person(person, what: str = "this wizard asks you to act on the kit") -> None:
    """A wizard needs someone to follow it: the emulated person, or a user at a terminal."""
    if person is None and not sys.stdin.isatty():
        raise InsoleError(f"{what}: run it in a terminal")
