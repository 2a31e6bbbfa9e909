"""The kit configuration: a human-edited TOML file naming the chips, the sensors and the pins.

The format is shown, with comments, in ``hardware/kit-default.toml``: ``[subject]``,
``[sampling]``, ``[[chip]]`` (one per ADS1x15), ``[fsr]`` (the divider circuit), ``[[sensor]]``
(one per FSR, in the column order of ``samples.csv``) and ``[gpio]``.

:func:`load_kit` reads and checks it. Every mistake raises :class:`~analysis.errors.ConfigError`
with one line naming the file, the key at fault and what was expected, e.g.
``kit.toml: sensor[3] ("L_mt1").input: expected 0-3, got 7``. Array entries are counted from 0,
in file order. The first mistake found is reported; that is enough to fix a file by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from analysis.calibration import validate as validate_calibration
from analysis.checks import Checker, load_toml
from analysis.errors import ConfigError
from analysis.layout import Layout, Sensor
from analysis.strike import STRIKES
from pi.chips import ADDRESSES, CHIPS, GAIN_FS_V

DEFAULT_KIT_PATH = Path(__file__).resolve().parents[1] / "hardware" / "kit-default.toml"
#: the user's own kit (written by ``insole calibrate``; not in git): used instead of the template
USER_KIT_PATH = DEFAULT_KIT_PATH.with_name("kit.toml")

#: data rates (samples/s) each chip type can be set to (pi.chips)
DATA_RATES = {name: t.data_rates for name, t in CHIPS.items()}
N_INPUTS = 4                              # single-ended inputs AIN0-AIN3
GPIO_KEYS = ("start_stop_button", "marker_button", "buzzer", "led_logging", "led_left", "led_right")
#: BCM 2 and 3 are the I2C bus the chips sit on: a button there would take the ADCs down with it
I2C_PINS = {2: "SDA", 3: "SCL"}
BODY_MASS_KG = (20.0, 250.0)
MAX_VCC_V = 5.5                           # the ADS1x15's highest supply voltage
#: the sensing area's diameter when the kit does not say: FlexiForce A201, 9.53 mm (0.375 in)
FSR_DIAMETER_MM = 9.53

_KEYS = {
    "": ("subject", "sampling", "chip", "fsr", "sensor", "gpio", "feedback"),
    "subject": ("body_mass_kg",),
    "sampling": ("rate_hz",),
    "chip": ("name", "type", "address", "data_rate", "gain", "alert_pin"),
    "fsr": ("vcc_v", "n_per_siemens", "diameter_mm"),
    "sensor": ("name", "foot", "x", "y", "chip", "input", "divider_ohm", "calibration"),
    "gpio": GPIO_KEYS,
    "feedback": ("beep_on", "beep_ms"),
}
#: default feedback: one short beep per heel landing, the cue that moved runners off the heel
#: in gait retraining (audio per step: Wood & Kipp 2014; shared/notes/gait.md)
DEFAULT_FEEDBACK = {"beep_on": ("rearfoot",), "beep_ms": 60}


@dataclass(frozen=True)
class Chip:
    """One ADS1x15 converter on the I2C bus.

    ``address`` is the 7-bit I2C address; ``data_rate`` in samples/s; ``gain`` the PGA gain
    (2/3 is stored as the float ``2/3``); ``alert_pin`` the BCM GPIO wired to ALERT/RDY, or None.
    """

    name: str
    type: str
    address: int
    data_rate: int
    gain: float
    alert_pin: int | None = None

    @property
    def fs_v(self) -> float:
        """Full-scale input range for the gain, ±volts."""
        return GAIN_FS_V[self.gain]

    @property
    def bits(self) -> int:
        """Converter resolution: 16 for the ADS1115, 12 for the ADS1015."""
        return CHIPS[self.type].bits


@dataclass(frozen=True)
class Kit:
    """A checked kit configuration. ``rate_hz`` is the nominal frame rate, frames/s;
    ``body_mass_kg`` is None when unknown; ``gpio`` maps a role (``GPIO_KEYS``) to a BCM pin."""

    path: Path
    chips: tuple[Chip, ...]
    layout: Layout
    body_mass_kg: float | None
    rate_hz: float
    gpio: dict[str, int] = field(default_factory=dict)
    #: ``beep_on``: the strike classes that beep (tuple); ``beep_ms``: beep length, ms
    feedback: dict = field(default_factory=lambda: dict(DEFAULT_FEEDBACK))
    #: the FSRs' sensing-area diameter, mm (drawn on the placement templates)
    fsr_diameter_mm: float = FSR_DIAMETER_MM

    def chip(self, name: str) -> Chip:
        """The chip a sensor's ``chip`` names (every sensor's chip exists: checked on load)."""
        return next(c for c in self.chips if c.name == name)

    @property
    def max_rate_hz(self) -> float:
        """Highest frame rate the chips allow, frames/s.

        A chip converts one input at a time, so a frame needs one conversion per input used on
        it: data_rate / inputs. Chips convert in parallel, so the slowest chip sets the pace.
        A chip no sensor uses is never read and sets no limit.
        """
        return min(_chip_rates(self.chips, self.layout).values())

    def to_source_json(self) -> dict:
        """The chips as recorded in ``session.json`` ``source`` (address in hex, as i2cdetect shows it)."""
        return {"kit": str(self.path),
                "chips": [{"name": c.name, "type": c.type, "address": f"0x{c.address:02X}",
                           "data_rate": c.data_rate, "gain": c.gain, "fs_v": c.fs_v, "bits": c.bits,
                           "alert_pin": c.alert_pin} for c in self.chips]}


def _chip_rates(chips, layout) -> dict[str, float]:
    """Frames/s each used chip allows: its data rate over the number of its inputs in use."""
    used = {c.name: sum(1 for s in layout if s.chip == c.name) for c in chips}
    return {c.name: c.data_rate / used[c.name] for c in chips if used[c.name]}


def load_kit(path: str | Path | None = None) -> Kit:
    """Read and check a kit file (default: the user's ``hardware/kit.toml`` if there is one,
    else the template ``hardware/kit-default.toml``)."""
    if path is None:
        path = USER_KIT_PATH if USER_KIT_PATH.exists() else DEFAULT_KIT_PATH
    path = Path(path)
    data = load_toml(path, "the kit file")
    return kit_from_dict(data, path)


class _Checker(Checker):
    """The TOML checks, with the kit's keys and its GPIO pins."""

    def __init__(self, file: str):
        super().__init__(file, _KEYS)

    def pin(self, v: Any, where: str, used: dict[int, str]) -> int:
        """A BCM GPIO number not used elsewhere; records it in ``used``."""
        self.number(v, where, "a GPIO (BCM) pin number 0-27", lambda p: 0 <= p <= 27, integer=True)
        if v in I2C_PINS:
            self.fail(where, f"GPIO {v} is the I2C {I2C_PINS[v]} line the chips use; pick another pin")
        if v in used:
            self.fail(where, f"GPIO {v} is already used by {used[v]}")
        used[v] = where
        return v


def _gain(c: _Checker, v: Any, where: str) -> float:
    """The PGA gain; TOML has no fractions, so 2/3 may be written "2/3" or 0.667."""
    if v == "2/3" or (not isinstance(v, (bool, str)) and isinstance(v, (int, float))
                      and abs(v - 2 / 3) < 1e-3):
        return 2 / 3
    if not isinstance(v, bool) and v in (1, 2, 4, 8, 16):
        return int(v)
    c.expect(where, 'one of 2/3 (write "2/3" or 0.667), 1, 2, 4, 8, 16', v)


def _parse_chip(c: _Checker, i: int, raw: Any, used_pins: dict[int, str]) -> Chip:
    where = f"chip[{i}]"
    t = c.table(raw, where, "chip")
    name = c.name(c.need(t, "name", where, "a chip name"), f"{where}.name")
    kind = c.need(t, "type", where, " or ".join(CHIPS))
    if not isinstance(kind, str) or kind.upper() not in DATA_RATES:
        c.expect(f"{where}.type", " or ".join(CHIPS), kind)
    kind = kind.upper()
    addr = c.need(t, "address", where, "an I2C address 0x48-0x4B")
    c.number(addr, f"{where}.address", "an I2C address 0x48-0x4B (an integer such as 0x48)",
             lambda a: a in ADDRESSES, integer=True)
    rates = DATA_RATES[kind]
    expected_rates = f"one of {', '.join(map(str, rates))} for {kind}"
    rate = c.need(t, "data_rate", where, f"{expected_rates} (samples/s)")
    c.number(rate, f"{where}.data_rate", expected_rates, lambda r: r in rates, integer=True)
    gain = _gain(c, c.need(t, "gain", where, "the PGA gain: 2/3, 1, 2, 4, 8 or 16"), f"{where}.gain")
    alert = t.get("alert_pin")
    if alert is not None:
        c.pin(alert, f"{where}.alert_pin", used_pins)
    return Chip(name=name, type=kind, address=addr, data_rate=rate, gain=gain, alert_pin=alert)


def _parse_sensor(c: _Checker, i: int, raw: Any, chips: dict[str, Chip], fsr: Mapping | None,
                  names: dict[str, str], inputs: dict[tuple[str, int], str]) -> Sensor:
    t, where, name, foot, x, y = c.sensor(i, raw, names)
    chip = c.need(t, "chip", where, "the name of a [[chip]]")
    if not isinstance(chip, str) or chip not in chips:
        c.expect(f"{where}.chip", f"one of {', '.join(json.dumps(n) for n in chips)} (the [[chip]] names)", chip)
    inp = c.need(t, "input", where, f"an input number 0-{N_INPUTS - 1}")
    c.number(inp, f"{where}.input", f"0-{N_INPUTS - 1}", lambda n: 0 <= n < N_INPUTS, integer=True)
    if (chip, inp) in inputs:
        c.fail(f"{where}.input", f"input {inp} of chip {json.dumps(chip)} is already used by {inputs[chip, inp]}")
    inputs[chip, inp] = where
    if "divider_ohm" in t or "calibration" not in t:
        ohm = c.need(t, "divider_ohm", where, "the divider resistor in ohms (a positive number)")
        c.number(ohm, f"{where}.divider_ohm", "a positive number of ohms", lambda r: r > 0)
    if "calibration" in t:            # a calibrated sensor's own table wins over the divider model
        cal = validate_calibration(t["calibration"], f"{c.file}: {where}.calibration")
    else:
        if fsr is None:
            c.fail("fsr", f"missing; expected an [fsr] table with vcc_v and n_per_siemens "
                          f"(needed by {where}, which has no calibration table)")
        # bits = 16 for both types: the stored value is the conversion register read as a signed
        # 16-bit number, and the ADS1015 left-justifies its 12-bit result in that register (the
        # adafruit driver returns it unshifted), so ±32768 is ±fs_v for either chip.
        cal = validate_calibration({"model": "fsr_divider", "vcc_v": fsr["vcc_v"], "r_m_ohm": ohm,
                                    "fs_v": chips[chip].fs_v, "bits": 16,
                                    "n_per_siemens": fsr["n_per_siemens"], "offset_n": 0.0},
                                   f"{c.file}: {where}.calibration")
    return Sensor(name=name, foot=foot, x=x, y=y, calibration=cal, chip=chip, input=inp)


def kit_from_dict(data: Mapping[str, Any], path: str | Path = "<dict>") -> Kit:
    """Check a parsed kit configuration (the dict :func:`tomllib.load` gives) and build a Kit."""
    c = _Checker(str(path))
    c.table(data, "", "")
    subject = c.table(data.get("subject", {}), "subject", "subject")
    mass = subject.get("body_mass_kg")
    if mass is not None:
        lo, hi = BODY_MASS_KG
        mass = float(c.number(mass, "subject.body_mass_kg", f"a body mass in kg from {lo:g} to {hi:g}",
                              lambda m: lo <= m <= hi))

    used_pins: dict[int, str] = {}
    chips: dict[str, Chip] = {}
    addresses: dict[int, str] = {}
    for i, raw in enumerate(c.array(data, "chip")):
        chip = _parse_chip(c, i, raw, used_pins)
        if chip.name in chips:
            c.fail(f"chip[{i}].name", f"{json.dumps(chip.name)} is already the name of another chip")
        if chip.address in addresses:
            c.fail(f"chip[{i}].address", f"0x{chip.address:02X} is already the address of {addresses[chip.address]}")
        chips[chip.name] = chip
        addresses[chip.address] = f"chip[{i}]"

    fsr = None
    if "fsr" in data:
        fsr = c.table(data["fsr"], "fsr", "fsr")
        c.number(c.need(fsr, "vcc_v", "fsr", "the divider supply in volts"), "fsr.vcc_v",
                 f"the divider supply in volts, above 0 and at most {MAX_VCC_V}", lambda v: 0 < v <= MAX_VCC_V)
        c.number(c.need(fsr, "n_per_siemens", "fsr", "newtons per siemens of FSR conductance"),
                 "fsr.n_per_siemens", "a positive number of newtons per siemens", lambda v: v > 0)
        c.number(fsr.get("diameter_mm", FSR_DIAMETER_MM), "fsr.diameter_mm",
                 "the sensing area's diameter in mm, above 0 and at most 60", lambda v: 0 < v <= 60)

    names: dict[str, str] = {}
    inputs: dict[tuple[str, int], str] = {}
    sensors = [_parse_sensor(c, i, raw, chips, fsr, names, inputs)
               for i, raw in enumerate(c.array(data, "sensor"))]
    try:
        layout = Layout(sensors)
    except ConfigError as e:          # already checked above; kept so nothing escapes unprefixed
        raise ConfigError(f"{c.file}: sensor: {e}") from e

    rates = _chip_rates(chips.values(), layout)
    max_rate = min(rates.values())
    sampling = c.table(data.get("sampling", {}), "sampling", "sampling")
    rate = sampling.get("rate_hz", max_rate)
    slowest = min(rates, key=rates.get)
    n_used = sum(1 for s in layout if s.chip == slowest)
    c.number(rate, "sampling.rate_hz",
             f"a positive frame rate of at most {max_rate:g} frames/s (chip {json.dumps(slowest)}: "
             f"{chips[slowest].data_rate} samples/s over {n_used} inputs)", lambda r: 0 < r <= max_rate)

    gpio = {}
    for key, pin in c.table(data.get("gpio", {}), "gpio", "gpio").items():
        gpio[key] = c.pin(pin, f"gpio.{key}", used_pins)

    fb = c.table(data.get("feedback", {}), "feedback", "feedback")
    beep_on = fb.get("beep_on", list(DEFAULT_FEEDBACK["beep_on"]))
    if not isinstance(beep_on, list) or any(b not in STRIKES for b in beep_on):
        c.fail("feedback.beep_on", f"expected a list of strike classes from {', '.join(STRIKES)} "
                                   f"(empty for silence), got {beep_on!r}")
    beep_ms = fb.get("beep_ms", DEFAULT_FEEDBACK["beep_ms"])
    c.number(beep_ms, "feedback.beep_ms", "a beep length of 10 to 1000 ms", lambda v: 10 <= v <= 1000)
    feedback = {"beep_on": tuple(beep_on), "beep_ms": float(beep_ms)}

    return Kit(path=Path(path), chips=tuple(chips.values()), layout=layout, body_mass_kg=mass,
               rate_hz=float(rate), gpio=gpio, feedback=feedback,
               fsr_diameter_mm=float((fsr or {}).get("diameter_mm", FSR_DIAMETER_MM)))
