"""The emulated ADS1115/ADS1015 on an emulated I2C bus: the whole stack, real driver included,
without a Raspberry Pi.

* :mod:`.ads1x15`: the chip (registers, OS bit, conversion timing, MUX/PGA/12-16 bit, logs);
* :mod:`.alert`: ALERT/RDY (conversion-ready and comparator) driven onto a gpiozero pin;
* :mod:`.bus`: :class:`EmulatedI2C`, the busio.I2C interface, bus time, NACKs and faults;
* :mod:`.simulated`: inputs from the simulated runner, and :func:`build_bus` from a kit;
* :mod:`.boards`: Raspberry Pi boards modelled (I2C clock, edge latency, Python speed);
  :mod:`.delivery`, :mod:`.gpiochip`, :mod:`.i2cdev`: a board's pin library, GPIO character
  device and i2c-dev; :mod:`.remote`: a board's chips and kernel in a process of their own.

Quick start::

    from adafruit_ads1x15 import ADS1115, AnalogIn, ads1x15
    from pi.emulator import build_bus
    from pi.kit import load_kit

    bus = build_bus(load_kit(), bus_hz=400_000)
    ads = ADS1115(bus, address=0x48, data_rate=860)
    AnalogIn(ads, ads1x15.Pin.A0).value
    bus.chip(0x48).reads[-1].input          # 0: the input that value really came from
"""

import importlib

#: what the package offers, and the module each comes from: imported when first asked for, so
#: that a light module of the package (boards, for the command line's choices) costs no more
_WHERE = {name: ".ads1x15" for name in ("CHIP_TYPES", "POWER_ON_CONFIG", "Conversion", "EmulatedADS1015",
                                        "EmulatedADS1115", "EmulatedADS1x15", "RegisterRead")}
_WHERE.update(BusStats=".bus", EmulatedI2C=".bus", RunnerInputs=".simulated", build_bus=".simulated")
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name], __name__), name)
