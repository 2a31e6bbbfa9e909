"""The ADC chips the kit can use: every fact about them, once.

The kit file's checks (:mod:`pi.kit`), the emulated chips (:mod:`pi.emulator.ads1x15`), the
driver a chip is read through (:mod:`pi.sources.ads`) and the wiring check that tells the types
apart (:mod:`pi.check`) all read this table. Figures from TI's datasheets: ADS1115 SBAS444
(table 8-3, config register DR[7:5]; table 8-2 PGA), ADS1015 SBAS473 (the same registers).
"""

from __future__ import annotations

from dataclasses import dataclass

#: full-scale input range (±V) by PGA code, config bits 11:9 (codes 101-111 are all ±0.256 V)
FS_V_BY_CODE = (6.144, 4.096, 2.048, 1.024, 0.512, 0.256, 0.256, 0.256)
#: the kit file's ``gain`` (as the adafruit driver names it) → full-scale range, ±V
GAIN_FS_V = {2 / 3: 6.144, 1: 4.096, 2: 2.048, 4: 1.024, 8: 0.512, 16: 0.256}


@dataclass(frozen=True)
class ChipType:
    """One ADS1x15 type."""

    name: str
    bits: int                           # converter resolution
    rates_by_code: tuple[int, ...]      # samples/s for DR codes 000 … 111
    driver: str                         # its class in adafruit_ads1x15

    @property
    def data_rates(self) -> tuple[int, ...]:
        """The distinct data rates it can be set to, samples/s, slowest first."""
        return tuple(sorted(set(self.rates_by_code)))

    @property
    def fastest_conversion_s(self) -> float:
        """One conversion at its fastest data rate (DR code 111), s."""
        return 1.0 / self.rates_by_code[7]


CHIPS = {
    "ADS1115": ChipType("ADS1115", 16, (8, 16, 32, 64, 128, 250, 475, 860), "ADS1115"),
    # the ADS1015's code 111 is 3300 SPS, as 110 is
    "ADS1015": ChipType("ADS1015", 12, (128, 250, 490, 920, 1600, 2400, 3300, 3300), "ADS1015"),
}

#: the four addresses, set by wiring the ADDR pin
ADDR_WIRING = {0x48: "ADDR to GND", 0x49: "ADDR to VDD", 0x4A: "ADDR to SDA", 0x4B: "ADDR to SCL"}
ADDRESSES = tuple(ADDR_WIRING)

#: a conversion at DR code 111 timed from its config write to its ready bit, over the bus, is an
#: ADS1015 below this (0.30 ms of conversion plus the bus's reads) and an ADS1115 above it (1.16 ms)
TELL_APART_S = 0.0007


def type_by_conversion_time(elapsed_s: float) -> str:
    """The chip type whose conversion at DR code 111 took ``elapsed_s`` (bus time included)."""
    return "ADS1015" if elapsed_s < TELL_APART_S else "ADS1115"
