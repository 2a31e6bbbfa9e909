"""Buttons, buzzer and LEDs through gpiozero's MockFactory (no Pi needed)."""

import json
import threading
import time

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from mockpins import press
from pi.feedback import KitIO

GPIO = {"start_stop_button": 5, "marker_button": 6, "buzzer": 13, "led_logging": 19, "led_left": 20}


@pytest.fixture
def factory():
    f = MockFactory()
    yield f
    f.reset()


def test_marker_button_adds_markers(factory):
    io = KitIO(GPIO, {"beep_on": ("rearfoot",), "beep_ms": 60}, pin_factory=factory)
    press(factory, 6)
    press(factory, 6)
    assert io.take_markers() == ["marker 1", "marker 2"]
    assert io.take_markers() == []
    io.close()


def test_start_stop_button_calls_back(factory):
    pressed = threading.Event()
    io = KitIO(GPIO, {"beep_on": (), "beep_ms": 60}, pin_factory=factory, on_start_stop=pressed.set)
    press(factory, 5)
    assert pressed.wait(1.0)
    io.close()


def test_heel_landing_beeps_once_forefoot_does_not(factory):
    io = KitIO(GPIO, {"beep_on": ("rearfoot",), "beep_ms": 60}, pin_factory=factory)
    buzzer = factory.pin(13)
    io.verdict("right", "forefoot")
    time.sleep(0.15)
    assert [s.state for s in buzzer.states] == [False]              # never switched on
    io.verdict("right", "rearfoot")
    time.sleep(0.2)
    states = [s.state for s in buzzer.states]
    assert states[-2:] == [True, False]
    on_s = buzzer.states[-1].timestamp       # MockPin stamps: time since the previous change
    assert 0.04 <= on_s <= 0.12                                      # ~60 ms
    io.close()


def test_logging_led_and_foot_blink(factory):
    io = KitIO(GPIO, {"beep_on": (), "beep_ms": 60}, pin_factory=factory)
    io.show("recording")
    assert factory.pin(19).state
    io.verdict("left", "midfoot")
    time.sleep(0.15)
    assert [s.state for s in factory.pin(20).states][-2:] == [True, False]
    io.show("off")
    assert not factory.pin(19).state
    io.close()


def test_a_run_takes_markers_and_stops_on_the_button(tmp_path, factory):
    from pi.cli import main
    Device.pin_factory = factory
    try:
        def user():
            time.sleep(2.0)
            press(factory, 6)             # marker, then stop
            time.sleep(1.0)
            press(factory, 5)
        threading.Thread(target=user, daemon=True).start()
        started = time.monotonic()
        assert main(["run", "--source", "sim", "--headless", "--duration", "30", "--out", str(tmp_path)]) == 0
        assert time.monotonic() - started < 10                   # the button, not the duration, ended it
    finally:
        Device.pin_factory = None
    meta = json.loads(next(tmp_path.iterdir()).joinpath("session.json").read_text())
    assert [m["label"] for m in meta["markers"]] == ["marker 1"]
    assert 1.5 < meta["markers"][0]["t_s"] < 3.5
    assert not factory.pin(19).state                             # logging LED off at the end
