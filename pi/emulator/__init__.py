"""The emulated ADS1115/ADS1015 on an emulated I2C bus: the whole stack, real driver included,
without a Raspberry Pi.

* :mod:`.ads1x15`: the chip (registers, OS bit, conversion timing, MUX/PGA/12-16 bit, logs);
* :mod:`.alert`: ALERT/RDY (conversion-ready and comparator) driven onto a gpiozero pin;
* :mod:`.bus`: :class:`EmulatedI2C`, the busio.I2C interface, bus time, NACKs and faults;
* :mod:`.simulated`: inputs from the simulated runner, and :func:`build_bus` from a kit.

Quick start::

    from adafruit_ads1x15 import ADS1115, AnalogIn, ads1x15
    from pi.emulator import build_bus
    from pi.kit import load_kit

    bus = build_bus(load_kit(), bus_hz=400_000)
    ads = ADS1115(bus, address=0x48, data_rate=860)
    AnalogIn(ads, ads1x15.Pin.A0).value
    bus.chip(0x48).reads[-1].input          # 0: the input that value really came from
"""

from .ads1x15 import (CHIP_TYPES, POWER_ON_CONFIG, Conversion, EmulatedADS1015, EmulatedADS1115,
                      EmulatedADS1x15, RegisterRead)
from .bus import BusStats, EmulatedI2C
from .simulated import RunnerInputs, build_bus

__all__ = ["CHIP_TYPES", "POWER_ON_CONFIG", "BusStats", "Conversion", "EmulatedADS1015", "EmulatedADS1115",
           "EmulatedADS1x15", "EmulatedI2C", "RegisterRead", "RunnerInputs", "build_bus"]
