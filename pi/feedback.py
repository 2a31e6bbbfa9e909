"""The kit's buttons, buzzer and LEDs, through gpiozero.

From the kit configuration's ``[gpio]`` (BCM pin numbers) and ``[feedback]``:

* ``start_stop_button``: pressed during a run, stops it cleanly; with ``--wait-for-button`` it
  also starts each session (the headless logger's only control); ``marker_button``: adds a marker to the session (e.g. "the backward drill starts");
* ``buzzer``: one short beep (``feedback.beep_ms``) for each landing whose class is in
  ``feedback.beep_on`` (a heel landing, by default), given at the verdict, ~40 ms after contact,
  so it comes within the same step (shared/notes/gait.md);
* ``led_logging``: the logger's state (:meth:`KitIO.show`): steady while recording, a short
  flash every 2 s while waiting for the start/stop button (``insole run --wait-for-button``, the
  boot service), a fast flicker after an error; ``led_left``/``led_right``: a short blink per
  landing of that foot.
* with ``--wait-for-button`` the buzzer also confirms each press (:meth:`KitIO.cue`), for a
  runner who cannot see the LED: one long beep when a session starts, two short ones when it
  stops, three when it could not start.

Buttons are wired to ground (gpiozero's default pull-up). Every device is optional. gpiozero
calls button handlers on its own thread: the handlers here only set flags or append to a list
that the processing thread drains, so nothing they do can hold up sampling. Tests use
gpiozero's ``MockFactory`` through ``pin_factory``.
"""

from __future__ import annotations

import threading
from typing import Callable

BLINK_S = 0.05

#: led_logging patterns, (on s, off s): None = steady on, () = off. The idle flash is short and
#: rare so it reads as "alive, not recording" next to the steady light of a recording.
LED_PATTERNS = {"recording": None, "idle": (0.1, 1.9), "error": (0.1, 0.15), "off": ()}
#: buzzer cues, (on s, off s, beeps)
CUES = {"start": (0.4, 0.0, 1), "stop": (0.08, 0.12, 2), "error": (0.08, 0.12, 3)}


class KitIO:
    """The gpiozero devices a kit configures. ``pin_factory`` None means gpiozero's default
    (on a Pi: lgpio on a Pi 5; set ``GPIOZERO_PIN_FACTORY`` to choose)."""

    def __init__(self, gpio: dict[str, int], feedback: dict, pin_factory=None,
                 on_start_stop: Callable[[], None] | None = None):
        from gpiozero import LED, Button, Buzzer

        self.feedback = feedback
        self._markers: list[str] = []
        self._lock = threading.Lock()
        self._marker_count = 0
        self.devices = []

        def make(cls, role, **kw):
            if role not in gpio:
                return None
            dev = cls(gpio[role], pin_factory=pin_factory, **kw)
            self.devices.append(dev)
            return dev

        try:
            self.start_stop = make(Button, "start_stop_button", bounce_time=0.05)
            self.marker = make(Button, "marker_button", bounce_time=0.05)
            self.buzzer = make(Buzzer, "buzzer")
            self.led_logging = make(LED, "led_logging")
            self.led_foot = {foot: make(LED, f"led_{foot}") for foot in ("left", "right")}
        except BaseException:
            self.close()
            raise
        if self.start_stop is not None and on_start_stop is not None:
            self.start_stop.when_pressed = lambda: on_start_stop()
        if self.marker is not None:
            self.marker.when_pressed = self._marker_pressed

    # -- inputs -------------------------------------------------------------------------------
    def _marker_pressed(self) -> None:
        with self._lock:
            self._marker_count += 1
            self._markers.append(f"marker {self._marker_count}")

    def take_markers(self) -> list[str]:
        """Labels of the marker presses since the last call (called by the processing thread)."""
        with self._lock:
            out, self._markers = self._markers, []
        return out

    # -- outputs ------------------------------------------------------------------------------
    def show(self, state: str) -> None:
        """Put the logging LED in ``state``: one of ``LED_PATTERNS`` (recording, idle, error, off)."""
        pattern = LED_PATTERNS[state]
        led = self.led_logging
        if led is None:
            return
        if pattern is None:
            led.on()
        elif pattern:
            led.blink(on_time=pattern[0], off_time=pattern[1], background=True)
        else:
            led.off()

    def cue(self, what: str) -> None:
        """Sound the buzzer cue ``what`` (one of ``CUES``: start, stop, error), if there is a buzzer."""
        if self.buzzer is not None:
            on_s, off_s, n = CUES[what]
            self.buzzer.beep(on_time=on_s, off_time=off_s, n=n, background=True)

    def verdict(self, foot: str, strike: str) -> None:
        """A landing's class is known: beep if asked for, blink that foot's LED."""
        if self.buzzer is not None and strike in self.feedback.get("beep_on", ()):
            # background=True: gpiozero times the beep on its own thread, so this returns at once
            self.buzzer.beep(on_time=self.feedback.get("beep_ms", 60) / 1000.0, off_time=0.0, n=1,
                             background=True)
        led = self.led_foot.get(foot)
        if led is not None:
            led.blink(on_time=BLINK_S, off_time=0.0, n=1, background=True)

    def close(self) -> None:
        for dev in self.devices:
            try:
                dev.close()
            except Exception:
                pass
        self.devices = []


def on_raspberry_pi() -> bool:
    try:
        with open("/proc/device-tree/model", "rb") as fh:
            return b"Raspberry Pi" in fh.read()
    except OSError:
        return False


def open_kit_io(kit, on_start_stop=None, pin_factory=None) -> tuple[KitIO | None, str | None]:
    """The kit's GPIO devices, or (None, why) when there are none or GPIO is not usable here;
    a run goes on without them. Off a Raspberry Pi (a laptop) that is expected and not reported."""
    if not kit.gpio:
        return None, None
    import warnings
    try:
        with warnings.catch_warnings():      # gpiozero warns once per pin library it cannot load
            warnings.simplefilter("ignore")
            return KitIO(kit.gpio, kit.feedback, pin_factory=pin_factory, on_start_stop=on_start_stop), None
    except Exception as e:            # no pin library, no /dev/gpiochip, pin busy, …
        if pin_factory is None and not on_raspberry_pi():
            return None, None
        return None, f"buttons and buzzer not available ({type(e).__name__}: {e})"
