"""The ALERT/RDY lines through the kernel's GPIO character device, with ``gpiod`` (libgpiod v2's
official Python bindings), for the continuous reader's own thread.

Why not gpiozero for these: its lgpio pin factory hands each edge to Python only once it is
500 µs old, from one thread for every pin (lgpio 0.2.2.0, ``src/lgPthAlerts.c``), which eats
half of the ~1.1 ms an ADS1115 at 860 SPS leaves to read a result. The character device gives
each event with the kernel's timestamp (CLOCK_MONOTONIC, taken in the interrupt handler) as
soon as the waiting thread wakes. gpiozero keeps the buttons, LEDs and buzzer.

The header's GPIOs are on the chip the kernel labels ``pinctrl-bcm2711`` (Pi 4),
``pinctrl-bcm2835`` (older Pis) or ``pinctrl-rp1`` (Pi 5), whose number has changed between
kernels (gpiochip4, then gpiochip0 on the Pi 5): it is found by its label. Line offsets there are
the BCM GPIO numbers, as in the kit file.
"""

from __future__ import annotations

import glob

HEADER_LABELS = ("pinctrl-bcm2711", "pinctrl-bcm2835", "pinctrl-rp1")


class NoLines(Exception):
    """The character device cannot be used here; ``str()`` says why."""


def header_chip() -> str:
    """The path of the GPIO chip carrying the 40-pin header. Raises NoLines."""
    import gpiod
    seen = []
    for path in sorted(glob.glob("/dev/gpiochip*")):
        try:
            if not gpiod.is_gpiochip_device(path):
                continue
            with gpiod.Chip(path) as chip:
                label = chip.get_info().label
        except PermissionError:
            raise NoLines(f"no permission to open {path}: add yourself to the gpio group "
                          "(sudo adduser $USER gpio), then log in again") from None
        except OSError:
            continue
        if label in HEADER_LABELS:
            return path
        seen.append(f"{path} ({label})")
    raise NoLines("no GPIO chip for the header pins" + (f" among {', '.join(seen)}" if seen else " (/dev/gpiochip*)"))


def opener():
    """A ``lines(pins)`` callable for :class:`pi.sources.ads_ready.ReadyReader`: it requests
    the pins as pulled-up inputs with falling-edge events. Raises NoLines (gpiod missing, no
    chip, no permission)."""
    try:
        import gpiod
        from gpiod.line import Bias, Edge
    except ImportError:
        raise NoLines("the gpiod package (libgpiod v2) is not installed: ./setup.sh installs it") from None
    if not hasattr(gpiod, "request_lines"):
        raise NoLines("the gpiod package is the old v1 one: pip install 'gpiod>=2'")
    path = header_chip()

    def open_lines(pins):
        settings = gpiod.LineSettings(edge_detection=Edge.FALLING, bias=Bias.PULL_UP)
        try:
            return gpiod.request_lines(path, consumer="insole", config={tuple(pins): settings})
        except OSError as e:
            raise OSError(e.errno, f"cannot watch GPIO {', '.join(map(str, pins))} on {path}: {e.strerror or e}"
                          " (is another program using them?)") from e
    open_lines.path = path
    return open_lines
