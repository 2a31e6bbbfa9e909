"""``insole check``: is the kit wired as its configuration says?

1. **Chips.** Scan the bus; every configured chip must answer at its address and be the type
   configured (an ADS1015 converts in ~0.3 ms at its fastest data-rate code, an ADS1115 in
   ~1.2 ms at the same code: the OS bit tells them apart).
2. **Rails.** With nothing pressed, an input at the supply rail is a shorted sensor (or a missing
   divider resistor); one at the ADC's full scale cannot be read (gain too high).
3. **Press each sensor.** "Press the LEFT HEEL sensor": the wizard watches every input and
   names the one that rose. The configured input: right. Another sensor's input: the wires are
   swapped (or the configuration is). None within the time allowed: a dead sensor or a broken
   wire (an open sensor reads like an unloaded one until it is pressed).

Every problem is one line saying what is wrong and what to do. Exit 0 only when all is right.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from analysis.errors import InsoleError, UsageError
from pi.chips import ADDR_WIRING, type_by_conversion_time
from pi.wizard import Bars, open_bus, read_volts, scan

RISE_FRACTION = 0.10     # a press: the input rises by this share of the supply or more
RAIL_FRACTION = 0.95     # at rest, an input above this share of the supply sits at the rail
PRESS_TIMEOUT_S = 20.0


@dataclass
class Problem:
    what: str
    fix: str
    chip: str | None = None       # the chip it is about (a missing chip's sensors are not pressed)
    sensor: str | None = None

    def line(self) -> str:
        return f"{self.what}: {self.fix}"


def identify(i2c, address: int) -> str | None:
    """'ADS1115' or 'ADS1015' by conversion time at data-rate code 111 (860 vs 3300 SPS), or None
    if the chip does not answer. Leaves the chip idle in single-shot mode."""
    from adafruit_bus_device.i2c_device import I2CDevice
    try:
        dev = I2CDevice(i2c, address)
        config = 0x8000 | (0b100 << 12) | (0b001 << 9) | 0x0100 | (0b111 << 5) | 0x0003
        with dev:
            t0 = time.perf_counter()
            dev.write(bytes([1, config >> 8, config & 0xFF]))
            buf = bytearray(2)
            while True:
                dev.write_then_readinto(bytes([1]), buf)
                elapsed = time.perf_counter() - t0
                if buf[0] & 0x80:
                    break
                if elapsed > 0.05:
                    return None
    except (OSError, ValueError):
        return None
    return type_by_conversion_time(elapsed)


def check_chips(kit, i2c) -> list[Problem]:
    found = scan(i2c)
    problems = []
    for c in kit.chips:
        if c.address not in found:
            others = [a for a in found if a in ADDR_WIRING and a not in {k.address for k in kit.chips}]
            hint = (f"a chip answers at {', '.join(f'0x{a:02X}' for a in others)} instead: check its ADDR pin "
                    f"({ADDR_WIRING[c.address]} for 0x{c.address:02X})" if others else
                    f"check its 3.3 V, GND, SDA and SCL wires, and that ADDR is wired "
                    f"({ADDR_WIRING.get(c.address, 'see hardware/README.md')})")
            problems.append(Problem(f"chip {c.name!r} ({c.type}) not found at 0x{c.address:02X}", hint, chip=c.name))
            continue
        kind = identify(i2c, c.address)
        if kind is not None and kind != c.type:
            problems.append(Problem(f"chip {c.name!r} at 0x{c.address:02X} is an {kind}, configured as {c.type}",
                                    f"set type = \"{kind}\" for it in {kit.path.name} (or fit the right board)",
                                    chip=c.name))
    return problems


def check_rails(src, vcc_v: float, seconds: float = 0.5) -> list[Problem]:
    v = read_volts(src, seconds)
    problems = []
    for i, s in enumerate(src.layout):
        med = float(np.median(v[:, i]))
        fs = src.kit.chip(s.chip).fs_v
        if med >= 0.999 * fs:
            problems.append(Problem(f"{s.name} (chip {s.chip} A{s.input}) reads full scale ({med:.2f} V)",
                                    "the input is above the ADC range: lower the chip's gain (gain = 1 reads up to 4.096 V)",
                                    sensor=s.name))
        elif med >= RAIL_FRACTION * vcc_v:
            problems.append(Problem(f"{s.name} (chip {s.chip} A{s.input}) sits at the supply ({med:.2f} V) with no load",
                                    "the sensor or its wire is shorted, or the divider resistor to ground is missing",
                                    sensor=s.name))
    return problems


def walkthrough(src, bars: Bars, vcc_v: float, act=None, timeout_s: float = PRESS_TIMEOUT_S,
                skip: set = frozenset()) -> list[Problem]:
    """Ask for each sensor to be pressed in turn and see which input answers."""
    layout = list(src.layout)
    names = [s.name for s in layout]
    responders: dict[str, str | None] = {}
    for i, s in enumerate(layout):
        if s.name in skip:
            continue
        rest = np.median(read_volts(src, 0.2, lambda v: bars.update(v)), axis=0)
        bars.ask(f"Press the {s.foot.upper()} {_where(s)} sensor ({s.name}) firmly, then let go")
        if act:
            act("press", sensor=s.name)
        seen = {"j": None}

        def watch(v):
            bars.update(v)
            rise = v - rest
            k = int(np.argmax(rise))
            if rise[k] >= RISE_FRACTION * vcc_v:
                seen["j"] = k
                return True
        read_volts(src, timeout_s, watch)
        j = seen["j"]
        responders[s.name] = None if j is None else names[j]
        if j == i:
            bars.marks[s.name] = "✓"
            bars.say(f"  ✓ {s.name} on chip {s.chip} A{s.input}", "green")
        else:
            bars.marks[s.name] = "✗ no response" if j is None else f"✗ moves {names[j]}'s input"
            bars.say(f"  ✗ {s.name}: " + ("no response" if j is None else f"moves {names[j]}'s input"), "red")
        # wait for the release, so the next sensor starts from rest
        if j is not None:
            bars.ask("…and let go")
        read_volts(src, 3.0, lambda v: bars.update(v) or bool(np.all(v - rest < RISE_FRACTION * vcc_v / 2)))
    return diagnose(layout, responders)


def diagnose(layout, responders: dict) -> list[Problem]:
    """Problems from which input answered each press (sensor name → responding sensor's name, or
    None): swapped pairs are named once, as a pair."""
    by = {s.name: s for s in layout}
    problems, done = [], set()
    for name, got in responders.items():
        s = by[name]
        if got == name or name in done:
            continue
        if got is None:
            problems.append(Problem(f"{name} (chip {s.chip} A{s.input}): no input responded to the press",
                                    "a dead sensor or a broken wire: check the FSR's connector and its divider",
                                    sensor=name))
            continue
        o = by[got]
        if responders.get(got) == name:
            done.add(got)
            problems.append(Problem(f"{name} and {got} are swapped (pressing {name} moves chip {o.chip} A{o.input}, "
                                    f"pressing {got} moves chip {s.chip} A{s.input})",
                                    "swap their two wires at the ADC, or swap their chip/input in the kit file",
                                    sensor=name))
        else:
            problems.append(Problem(f"pressing {name} moves chip {o.chip} A{o.input} (configured for {got}), "
                                    f"not chip {s.chip} A{s.input}",
                                    f"move {name}'s wire to chip {s.chip} A{s.input}", sensor=name))
    return problems


def _where(s) -> str:
    """Where a person finds the sensor on the insole, in words (from its y: fraction of foot length)."""
    side = "INNER" if s.x < 0.5 else "OUTER"
    if s.y < 0.30:
        return "HEEL"
    if s.y < 0.60:
        return f"{side} MIDFOOT"
    return f"{side} BALL-OF-FOOT" if s.y < 0.85 else f"{side} TOE"


def run_check(kit, i2c, act=None, console=None, timeout_s: float = PRESS_TIMEOUT_S) -> list[Problem]:
    """The whole check on ``i2c``; ``act`` (if given) is told what the wizard asks a person to do."""
    from pi.sources.ads import AdsSource
    from rich.console import Console
    console = console or Console()
    vcc = _vcc(kit)
    console.print(f"[bold]insole check[/bold]: {kit.path.name}, {len(kit.chips)} chips, {len(kit.layout)} sensors")
    problems = check_chips(kit, i2c)
    for p in problems:
        console.print(f"  ✗ {p.line()}", style="red", highlight=False)
    missing = {p.chip for p in problems if p.chip and "not found" in p.what}
    if not problems:
        console.print("  ✓ chips: " + ", ".join(f"{c.name} {c.type} at 0x{c.address:02X}" for c in kit.chips), style="green")
    present = [c for c in kit.chips if c.name not in missing]
    if not present:
        return problems
    sub = _only_chips(kit, present)
    src = AdsSource(sub, i2c, "single")
    try:
        rails = check_rails(src, vcc)
        for p in rails:
            console.print(f"  ✗ {p.line()}", style="red", highlight=False)
        problems += rails
        bad = {p.sensor for p in rails}
        with Bars(src, vcc, console) as bars:
            problems += walkthrough(src, bars, vcc, act, timeout_s, skip=bad)
    finally:
        src.close()
    return problems


def _only_chips(kit, chips):
    from dataclasses import replace
    from analysis.layout import Layout
    names = {c.name for c in chips}
    return replace(kit, chips=tuple(chips), layout=Layout([s for s in kit.layout if s.chip in names]))


def _vcc(kit) -> float:
    cals = [s.calibration for s in kit.layout if s.calibration.get("model") == "fsr_divider"]
    return float(cals[0]["vcc_v"]) if cals else 3.3


BOARD_SAMPLE_S = 1.5      # the board section samples continuous mode this long


def board_model() -> str:
    """The board this runs on, as its device tree names it ("Raspberry Pi 4 Model B Rev 1.4"),
    or a word on what it is otherwise."""
    try:
        with open("/proc/device-tree/model", "rb") as fh:
            return fh.read().rstrip(b"\0").decode(errors="replace")
    except OSError:
        import platform
        return f"not a Raspberry Pi ({platform.machine()})"


def measure_board(src, seconds: float = BOARD_SAMPLE_S) -> dict:
    """Sample ``src`` (an AdsSource as ``insole run`` would open it) for ``seconds`` and say what
    this board gives the sampler: the mode and rate it uses, the edge delivery latency, the
    I2C clock measured, the reader's CPU (of one core of the board), and the frames lost."""
    lost = src._probe_loss(seconds) if src.reader is not None else None
    d = src.describe()
    return {"mode": src.mode, "rate_hz": src.rate_hz, "notice": src.notice, "data_rate": max(a.data_rate for a in src.ads.values()),
            "edge_latency_ms": d.get("edge_latency_ms"), "edges": d.get("edges"), "i2c_clock_hz": d.get("i2c_clock_hz"),
            "reader_cpu_pct": d.get("reader_cpu_pct"), "settler_cpu_pct": d.get("settler_cpu_pct"),
            "lost_pct": None if lost is None else round(100 * lost, 1),
            "board": d.get("board")}


def print_board(figures: dict, console) -> None:
    b = figures["board"]
    if b is not None and b.get("board") != "ideal":
        console.print(f"[bold]board[/bold]: {b['board']}, {b['title']} [yellow]({b['modelled']})[/yellow]; "
                      f"its Python {b['python_factor']:g}× this machine's", highlight=False)
    elif b is not None:
        console.print(f"[bold]board[/bold]: this machine as it is ({b['title']})", highlight=False)
    else:
        console.print(f"[bold]board[/bold]: {board_model()}", highlight=False)
    lat = figures["edge_latency_ms"]
    if lat:
        console.print(f"  ALERT/RDY edges: {figures['edges']}; from the edge to the reader p50 {lat['p50']:.2f} ms, "
                      f"p99 {lat['p99']:.2f} ms", highlight=False)
    hz = figures["i2c_clock_hz"]
    console.print("  I2C clock: " + (f"{hz / 1000:.0f} kHz measured" + (" (well below the 400 kHz set: on a Pi 3/4 "
                                     "./setup.sh fixes the core clock)" if hz < 300_000 else "") if hz else "not measured (no i2c-dev here)"),
                  highlight=False)
    reading, settling = figures["reader_cpu_pct"], figures.get("settler_cpu_pct")
    if reading is not None and settling is not None:
        console.print(f"  sampler CPU: {reading + settling:.1f} % of one core (reading {reading:g} %, "
                      f"settling {settling:g} %, in a process of its own)", highlight=False)
    elif reading is not None:
        console.print(f"  sampler CPU: {reading:g} % of one core", highlight=False)
    if figures["mode"] == "continuous":
        line = f"continuous at {figures['data_rate']} SPS, {figures['rate_hz']:g} frames/s"
        if figures["lost_pct"] is not None:
            line += f" ({figures['lost_pct']:g} % of frames lost over {BOARD_SAMPLE_S:g} s)"
    else:
        line = f"timed single-shot, {figures['rate_hz']:g} frames/s"
    console.print(f"  mode insole run will use: {line}", highlight=False)
    if figures["notice"]:
        console.print(f"  ({figures['notice']})", highlight=False)


def check_board(kit, args, i2c, console) -> dict | None:
    """The board section of ``insole check``: open the chips as ``insole run`` does and say what
    this board gives (an emulated board with ``--source emulated``). Never a wiring problem."""
    from pi.sources.ads import AdsSource, open_emulated
    try:
        if args.source == "emulated":
            src = open_emulated(kit, board=getattr(args, "board", None))
        else:
            src = AdsSource(kit, i2c)
    except InsoleError as e:
        console.print(f"[bold]board[/bold]: not measured ({e})", highlight=False)
        return None
    try:
        figures = measure_board(src)
    finally:
        src.close()
    print_board(figures, console)
    return figures


def check_main(args) -> int:
    from rich.console import Console
    from pi.kit import load_kit
    from pi.wizard import need_terminal_or_person
    kit = load_kit(args.config)
    console = Console()
    if getattr(args, "board", None) is not None and args.source != "emulated":
        raise UsageError("--board only goes with --source emulated (on a Pi the board is the one it runs on)")
    i2c, person, close = open_bus(kit, emulated=args.source == "emulated")
    try:
        need_terminal_or_person(person)
        problems = run_check(kit, i2c, act=person.act if person else None, console=console,
                             timeout_s=args.timeout)
    finally:
        close()
    if not problems:                    # the chips answer as wired: how does this board sample them?
        console.print()
        check_board(kit, args, None, console)
    if problems:
        console.print(f"\n[bold red]{len(problems)} problem{'s' * (len(problems) > 1)}[/bold red]; fix and run "
                      f"`insole check` again:")
        for p in problems:
            console.print(f"  • {p.line()}", highlight=False)
        return 1
    nxt = "insole calibrate --mass KG" + (f" --config {args.config}" if args.config else "") \
        + (" --source emulated" if args.source == "emulated" else "")
    console.print(f"\n[bold green]the kit is wired as configured[/bold green]: next, `{nxt}` "
                  "(KG: your body mass)", highlight=False)
    return 0

