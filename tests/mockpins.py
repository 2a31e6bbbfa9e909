"""Pressing the kit's buttons on gpiozero's MockFactory pins."""

import time

DEBOUNCE_S = 0.08      # longer than the kit's 50 ms bounce_time (pi/feedback.py)


def press(factory, pin: int) -> None:
    """Press and release the button on BCM ``pin`` (wired to ground, with the pull-up)."""
    p = factory.pin(pin)
    p.drive_low()
    time.sleep(DEBOUNCE_S)
    p.drive_high()
    time.sleep(DEBOUNCE_S)
