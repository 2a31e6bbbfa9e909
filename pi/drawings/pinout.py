"""Which Raspberry Pi header pin carries what in a kit.

The 40-pin header (J8) is the same on every Pi since the B+ (Zero, 3, 4, 5): the pin map is
taken from gpiozero's own board data rather than typed in again. Pins are *physical* header
numbers (1-40, pin 1 is the corner pin nearest the SD card slot); GPIOs are BCM numbers, as in the kit file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

#: a 40-pin board's revision code for gpiozero's pin data (Pi 4 B, 2 GB): any 40-pin Pi would do
_BOARD_REVISION = "b03112"
SUPPLY_PIN = 1          # 3V3: the chips, the FSRs and the pull-ups (pin 17 is the same rail)
SDA_BCM, SCL_BCM = 2, 3
GND_PIN = 6             # one of the eight ground pins, next to SCL
#: what each [gpio] role is wired to (the other side of each goes to GND)
GPIO_ROLES = {
    "start_stop_button": "start/stop push button, other leg to GND",
    "marker_button": "marker push button, other leg to GND",
    "buzzer": "active buzzer + (a 3.3 V one drawing at most 15 mA), − to GND",
    "led_logging": "logging LED anode through 330 Ω, cathode to GND",
    "led_left": "left-foot LED anode through 330 Ω, cathode to GND",
    "led_right": "right-foot LED anode through 330 Ω, cathode to GND",
}


@lru_cache(maxsize=1)
def _header() -> dict[int, str]:
    from gpiozero import pi_info
    return {n: p.name for n, p in pi_info(_BOARD_REVISION).headers["J8"].pins.items()}


def physical_pin(bcm: int) -> int:
    """The header pin (1-40) of BCM GPIO ``bcm``."""
    for n, name in _header().items():
        if name == f"GPIO{bcm}":
            return n
    raise ValueError(f"GPIO {bcm} is not on the 40-pin header")


def pin_name(pin: int) -> str:
    """The header's name for physical ``pin``: ``3V3``, ``GND``, ``GPIO17``, …"""
    return _header()[pin]


@dataclass(frozen=True)
class PinUse:
    """One header pin the kit uses: physical ``pin``, its ``name`` and what is wired to it."""

    pin: int
    name: str
    to: str


def kit_pins(kit) -> list[PinUse]:
    """Every header pin the kit uses, in pin order."""
    chips = " and ".join(c.name for c in kit.chips)
    one = len(kit.chips) == 1
    uses = [PinUse(SUPPLY_PIN, pin_name(SUPPLY_PIN),
                   f"VDD of chip{'s' * (not one)} {chips}, the top of every FSR, the ALERT/RDY pull-ups"),
            PinUse(physical_pin(SDA_BCM), f"GPIO{SDA_BCM} (SDA)", f"SDA of chip{'s' * (not one)} {chips}"),
            PinUse(physical_pin(SCL_BCM), f"GPIO{SCL_BCM} (SCL)", f"SCL of chip{'s' * (not one)} {chips}"),
            PinUse(GND_PIN, pin_name(GND_PIN),
                   f"GND of chip{'s' * (not one)} {chips}, the bottom of every divider resistor"
                   + (", the buttons, buzzer and LEDs" if kit.gpio else ""))]
    for c in kit.chips:
        if c.alert_pin is not None:
            uses.append(PinUse(physical_pin(c.alert_pin), f"GPIO{c.alert_pin}",
                               f"ALERT/RDY of chip {c.name}, 10 kΩ pull-up to 3V3"))
    for role, bcm in kit.gpio.items():
        uses.append(PinUse(physical_pin(bcm), f"GPIO{bcm}", GPIO_ROLES[role]))
    return sorted(uses, key=lambda u: u.pin)


def header_map_markdown(kit) -> list[str]:
    """The whole 40-pin header as a Markdown table, two pins a row as on the board (odd pins on
    the left, pin 1 at the top), the kit's pins marked with what they carry."""
    used = {u.pin: u for u in kit_pins(kit)}
    tag = lambda n: f"**{_header()[n]}**" if n in used else _header()[n]          # noqa: E731
    short = lambda n: _short(used[n].to) if n in used else ""                      # noqa: E731
    lines = ["| kit | name | pin | pin | name | kit |", "| --- | --- | ---: | :--- | --- | --- |"]
    for odd in range(1, 41, 2):
        lines.append(f"| {short(odd)} | {tag(odd)} | {odd} | {odd + 1} | {tag(odd + 1)} | {short(odd + 1)} |")
    return lines


def _short(to: str) -> str:
    """The first clause of a pin's use: 'ALERT/RDY of chip left' of '…, 10 kΩ pull-up to 3V3'."""
    return to.split(",")[0]
