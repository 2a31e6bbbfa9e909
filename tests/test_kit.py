"""Tests for pi.kit: the default kit loads as documented, and every mistake is named precisely."""

import copy
import re
import tomllib

import numpy as np
import pytest

from analysis.calibration import fsr_divider_counts, to_newtons
from analysis.errors import ConfigError
from pi.kit import DEFAULT_KIT_PATH, Chip, kit_from_dict, load_kit

with open(DEFAULT_KIT_PATH, "rb") as _f:
    DEFAULT = tomllib.load(_f)
DEFAULT_TEXT = DEFAULT_KIT_PATH.read_text()


def base() -> dict:
    """A fresh, editable copy of the default kit as a dict."""
    return copy.deepcopy(DEFAULT)


def fails(data: dict) -> str:
    """The one-line ConfigError message the dict raises, prefixed with the file name."""
    with pytest.raises(ConfigError) as e:
        kit_from_dict(data, "kit.toml")
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith("kit.toml: ")
    return msg


def write(tmp_path, text: str):
    p = tmp_path / "kit.toml"
    p.write_text(text)
    return p


def edited(old: str, new: str) -> str:
    assert old in DEFAULT_TEXT, old
    return DEFAULT_TEXT.replace(old, new, 1)


# --- the default kit -----------------------------------------------------------------------------

def test_default_kit_is_what_the_docs_promise():
    kit = load_kit()
    assert kit.path == DEFAULT_KIT_PATH
    assert len(kit.layout) == 8
    assert kit.layout.feet == ("left", "right")
    assert len(kit.layout.foot_sensors("left")) == 4 and len(kit.layout.foot_sensors("right")) == 4
    assert kit.layout.names[:4] == ("L_heel", "L_midlat", "L_mt5", "L_mt1")   # file order = column order
    assert kit.rate_hz == 200.0
    assert kit.max_rate_hz == pytest.approx(860 / 4)
    assert kit.body_mass_kg == 70.0
    assert [(c.name, c.address, c.alert_pin) for c in kit.chips] == [("left", 0x48, 17), ("right", 0x49, 27)]
    assert kit.gpio == {"start_stop_button": 5, "marker_button": 6, "buzzer": 13, "led_logging": 19}
    heel = kit.layout.sensors[0]
    assert (heel.foot, heel.x, heel.y, heel.chip, heel.input) == ("left", 0.5, 0.1, "left", 0)


def test_default_kit_calibration_round_trips_force():
    kit = load_kit()
    force = np.array([0.0, 5.0, 50.0, 400.0, 1200.0])
    for s in kit.layout:
        cal = s.calibration
        assert cal["model"] == "fsr_divider"
        assert (cal["vcc_v"], cal["r_m_ohm"], cal["fs_v"], cal["bits"]) == (3.3, 10000.0, 4.096, 16)
        counts = fsr_divider_counts(force, cal)
        assert counts.max() < 2 ** 15                  # stays inside the ADC range at gain 1
        np.testing.assert_allclose(to_newtons(counts, cal), force, rtol=1e-9, atol=1e-9)
    # 400 N gives 10 kOhm: the divider sits at mid-supply, as the kit file says
    assert fsr_divider_counts(400.0, kit.layout.sensors[0].calibration) * 4.096 / 2 ** 15 == pytest.approx(1.65)


def test_chip_properties_and_source_json():
    assert Chip("a", "ADS1115", 0x48, 860, 1).fs_v == 4.096
    assert Chip("a", "ADS1015", 0x48, 1600, 2 / 3).fs_v == 6.144
    assert Chip("a", "ADS1015", 0x48, 1600, 16).bits == 12
    src = load_kit().to_source_json()
    assert [c["address"] for c in src["chips"]] == ["0x48", "0x49"]
    assert src["chips"][0] | {"fs_v": 0} == {"name": "left", "type": "ADS1115", "address": "0x48", "data_rate": 860,
                                             "gain": 1, "fs_v": 0, "bits": 16, "alert_pin": 17}


def test_optional_parts_take_their_defaults():
    d = base()
    del d["subject"], d["sampling"], d["gpio"], d["chip"][0]["alert_pin"]
    kit = kit_from_dict(d)
    assert kit.body_mass_kg is None
    assert kit.rate_hz == kit.max_rate_hz == 215.0
    assert kit.gpio == {} and kit.chips[0].alert_pin is None


def test_max_rate_is_set_by_the_busiest_slowest_chip():
    d = base()
    d["chip"][1].update(type="ADS1015", data_rate=1600, gain="2/3")
    d["sensor"] = d["sensor"][:7]                       # drop R_mt1: the right chip reads 3 inputs
    del d["sampling"]
    kit = kit_from_dict(d)
    assert kit.chips[1].fs_v == 6.144 and kit.chips[1].gain == pytest.approx(2 / 3)
    assert kit.max_rate_hz == pytest.approx(860 / 4)      # left: 860/4 = 215 < right: 1600/3
    d["chip"][0]["data_rate"] = 128
    assert kit_from_dict(d).max_rate_hz == pytest.approx(32.0)
    # a gain of 2/3 may also be written as a float
    d["chip"][1]["gain"] = 0.667
    assert kit_from_dict(d).chips[1].gain == 2 / 3


def test_unused_chip_sets_no_rate_limit():
    d = base()
    d["chip"].append({"name": "spare", "type": "ADS1115", "address": 0x4A, "data_rate": 8, "gain": 1})
    assert kit_from_dict(d).max_rate_hz == 215.0


def test_own_calibration_table_wins():
    d = base()
    d["sensor"][2]["calibration"] = {"model": "linear", "scale": 0.01}
    del d["sensor"][2]["divider_ohm"]
    cal = kit_from_dict(d).layout.sensors[2].calibration
    assert cal == {"model": "linear", "scale": 0.01, "offset": 0.0}


# --- the file ------------------------------------------------------------------------------------

def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.toml: cannot read the kit file"):
        load_kit(tmp_path / "nope.toml")


def test_directory_is_unreadable(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the kit file"):
        load_kit(tmp_path)


def test_toml_syntax_error_gives_line_and_column(tmp_path):
    p = write(tmp_path, edited('foot = "right"\nx = 0.50', 'foot = "right"\nx = 0.50 0.2'))
    with pytest.raises(ConfigError) as e:
        load_kit(p)
    assert re.search(r"kit\.toml: not valid TOML: .*line \d+, column \d+", str(e.value))


def test_not_utf8(tmp_path):
    p = tmp_path / "kit.toml"
    p.write_bytes(b'name = "\xff"\n')
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_kit(p)


def test_file_errors_name_the_file_and_key(tmp_path):
    p = write(tmp_path, edited("input = 3", "input = 7"))
    with pytest.raises(ConfigError) as e:
        load_kit(p)
    assert str(e.value) == f'{p}: sensor[3] ("L_mt1").input: expected 0-3, got 7'


def test_file_data_rate_message(tmp_path):
    text = DEFAULT_TEXT.replace("data_rate = 860\ngain", "data_rate = 900\ngain")
    with pytest.raises(ConfigError) as e:
        load_kit(write(tmp_path, text))
    assert str(e.value).endswith(
        "kit.toml: chip[1].data_rate: expected one of 8, 16, 32, 64, 128, 250, 475, 860 for ADS1115, got 900")


def test_chip_written_as_table_not_array(tmp_path):
    text = DEFAULT_TEXT.replace("[[chip]]", "[chip]", 1)
    i = text.index("[[chip]]")
    with pytest.raises(ConfigError, match=r"chip: expected one or more \[\[chip\]\] tables, got a table"):
        load_kit(write(tmp_path, text[:i]))             # cut after the first chip so the TOML parses


# --- each class of mistake, from dicts -----------------------------------------------------------

def edit(path, value):
    """A mutation: set (or, with value DELETE, remove) one key given as a tuple path."""
    def apply(d):
        *parent, last = path
        for k in parent:
            d = d[k]
        if value is DELETE:
            del d[last]
        else:
            d[last] = value
    return apply


DELETE = object()

MISTAKES = [
    # unknown keys (typos)
    (edit(("subjet",), {}), r"subjet: unknown top-level key; allowed: subject, sampling, chip, fsr, sensor, gpio"),
    (edit(("chip", 0, "adress"), 0x48), r"chip\[0\]\.adress: unknown key; allowed keys here: name, type, address"),
    (edit(("sensor", 1, "inputs"), 1), r'sensor\[1\]\.inputs: unknown key; allowed keys here: name, foot'),
    (edit(("gpio", "led"), 21), r"gpio\.led: unknown key; allowed keys here: start_stop_button, marker_button"),
    (edit(("sampling", "rate"), 100), r"sampling\.rate: unknown key; allowed keys here: rate_hz"),
    # missing required keys
    (edit(("chip",), DELETE), r"chip: missing; expected at least one \[\[chip\]\] table"),
    (edit(("sensor",), []), r"sensor: expected one or more \[\[sensor\]\] tables, got an array"),
    (edit(("chip", 0, "address"), DELETE), r"chip\[0\]\.address: missing; expected an I2C address 0x48-0x4B"),
    (edit(("chip", 1, "gain"), DELETE), r"chip\[1\]\.gain: missing"),
    (edit(("sensor", 0, "name"), DELETE), r"sensor\[0\]\.name: missing"),
    (edit(("sensor", 2, "y"), DELETE), r'sensor\[2\] \("L_mt5"\)\.y: missing; expected a fraction of the foot'),
    (edit(("sensor", 2, "divider_ohm"), DELETE), r'sensor\[2\] \("L_mt5"\)\.divider_ohm: missing'),
    (edit(("fsr",), DELETE), r'fsr: missing; expected an \[fsr\] table .*needed by sensor\[0\] \("L_heel"\)'),
    (edit(("fsr", "vcc_v"), DELETE), r"fsr\.vcc_v: missing"),
    # wrong types (bool is not a number)
    (edit(("sensor", 0, "x"), True), r'sensor\[0\] \("L_heel"\)\.x: expected a fraction of the foot in \[0, 1\], got true'),
    (edit(("chip", 0, "data_rate"), "860"), r'chip\[0\]\.data_rate: expected one of .* for ADS1115, got "860"'),
    (edit(("sensor", 5, "input"), 1.0), r'sensor\[5\] \("R_midlat"\)\.input: expected 0-3, got 1\.0'),
    (edit(("subject", "body_mass_kg"), True), r"subject\.body_mass_kg: expected a body mass in kg from 20 to 250, got true"),
    (edit(("sampling", "rate_hz"), "fast"), r'sampling\.rate_hz: expected a positive frame rate .*got "fast"'),
    (edit(("chip", 0), "left"), r'chip\[0\]: expected a table, got "left"'),
    (edit(("sensor", 0, "name"), 3), r"sensor\[0\]\.name: expected a name .*got 3"),
    (edit(("sensor", 0, "name"), "L heel"), r'sensor\[0\]\.name: expected a name .*got "L heel"'),
    (edit(("sensor", 0, "name"), "t_s"), r'sensor\[0\]\.name: expected a name .*got "t_s"'),
    (edit(("sensor", 0, "divider_ohm"), float("nan")), r'sensor\[0\] \("L_heel"\)\.divider_ohm: expected a positive'),
    # chips
    (edit(("chip", 0, "type"), "ADS1116"), r'chip\[0\]\.type: expected ADS1115 or ADS1015, got "ADS1116"'),
    (edit(("chip", 1, "name"), "left"), r'chip\[1\]\.name: "left" is already the name of another chip'),
    (edit(("chip", 1, "address"), 0x48), r"chip\[1\]\.address: 0x48 is already the address of chip\[0\]"),
    (edit(("chip", 1, "address"), 0x50), r"chip\[1\]\.address: expected an I2C address 0x48-0x4B .*got 80"),
    (edit(("chip", 0, "gain"), 3), r'chip\[0\]\.gain: expected one of 2/3 .*1, 2, 4, 8, 16, got 3'),
    (edit(("chip", 0, "type"), "ADS1015"), r"chip\[0\]\.data_rate: expected one of 128, 250, 490, 920, 1600, 2400, 3300 for ADS1015, got 860"),
    # sensors
    (edit(("sensor", 6, "chip"), "rigth"), r'sensor\[6\] \("R_mt5"\)\.chip: expected one of "left", "right" \(the \[\[chip\]\] names\), got "rigth"'),
    (edit(("sensor", 6, "chip"), ["right"]), r'sensor\[6\] \("R_mt5"\)\.chip: expected one of .*got an array'),
    (edit(("sensor", 7, "input"), 0), r'sensor\[7\] \("R_mt1"\)\.input: input 0 of chip "right" is already used by sensor\[4\] \("R_heel"\)'),
    (edit(("sensor", 1, "input"), -1), r'sensor\[1\] \("L_midlat"\)\.input: expected 0-3, got -1'),
    (edit(("sensor", 1, "y"), 1.2), r'sensor\[1\] \("L_midlat"\)\.y: expected a fraction of the foot in \[0, 1\], got 1\.2'),
    (edit(("sensor", 1, "x"), -0.1), r'sensor\[1\] \("L_midlat"\)\.x: expected a fraction'),
    (edit(("sensor", 4, "foot"), "Right"), r'sensor\[4\] \("R_heel"\)\.foot: expected left or right, got "Right"'),
    (edit(("sensor", 5, "name"), "R_heel"), r'sensor\[5\] \("R_heel"\)\.name: "R_heel" is already the name of sensor\[4\] \("R_heel"\)'),
    (edit(("sensor", 3, "divider_ohm"), 0), r'sensor\[3\] \("L_mt1"\)\.divider_ohm: expected a positive number of ohms, got 0'),
    (edit(("sensor", 3, "divider_ohm"), -10000), r'sensor\[3\] \("L_mt1"\)\.divider_ohm: expected a positive'),
    (edit(("sensor", 3, "calibration"), {"model": "cubic"}), r'sensor\[3\] \("L_mt1"\)\.calibration\.model: expected one of linear, fsr_divider'),
    (edit(("fsr", "n_per_siemens"), 0), r"fsr\.n_per_siemens: expected a positive number"),
    (edit(("fsr", "vcc_v"), 12), r"fsr\.vcc_v: expected the divider supply in volts, above 0 and at most 5\.5, got 12"),
    (edit(("fsr", "diameter_mm"), 0), r"fsr\.diameter_mm: expected the sensing area's diameter in mm, above 0 and at most 60, got 0"),
    # subject and sampling
    (edit(("subject", "body_mass_kg"), 10), r"subject\.body_mass_kg: expected a body mass in kg from 20 to 250, got 10"),
    (edit(("subject", "body_mass_kg"), 300.0), r"subject\.body_mass_kg: expected .* got 300\.0"),
    (edit(("sampling", "rate_hz"), 0), r"sampling\.rate_hz: expected a positive frame rate .*got 0"),
    (edit(("sampling", "rate_hz"), -5), r"sampling\.rate_hz: expected a positive .*got -5"),
    (edit(("sampling", "rate_hz"), 300), r'sampling\.rate_hz: expected a positive frame rate of at most 215 frames/s \(chip "left": 860 samples/s over 4 inputs\), got 300'),
    # gpio
    (edit(("gpio", "buzzer"), 40), r"gpio\.buzzer: expected a GPIO \(BCM\) pin number 0-27, got 40"),
    (edit(("gpio", "buzzer"), "13"), r'gpio\.buzzer: expected a GPIO .*got "13"'),
    (edit(("gpio", "buzzer"), True), r"gpio\.buzzer: expected a GPIO .*got true"),
    (edit(("gpio", "led_left"), 3), r"gpio\.led_left: GPIO 3 is the I2C SCL line"),
    (edit(("gpio", "buzzer"), 5), r"gpio\.buzzer: GPIO 5 is already used by gpio\.start_stop_button"),
    (edit(("gpio", "led_right"), 27), r"gpio\.led_right: GPIO 27 is already used by chip\[1\]\.alert_pin"),
    (edit(("chip", 1, "alert_pin"), 17), r"chip\[1\]\.alert_pin: GPIO 17 is already used by chip\[0\]\.alert_pin"),
    (edit(("chip", 1, "alert_pin"), 28), r"chip\[1\]\.alert_pin: expected a GPIO \(BCM\) pin number 0-27, got 28"),
    (edit(("gpio",), [5]), r"gpio: expected a table, got an array"),
]


@pytest.mark.parametrize("mutate, pattern", MISTAKES, ids=[m[1][:60] for m in MISTAKES])
def test_mistake_is_named(mutate, pattern):
    d = base()
    mutate(d)
    assert re.search(pattern, fails(d)), fails(d)


def test_body_mass_none_from_a_dict_means_unknown():
    d = base()
    d["subject"]["body_mass_kg"] = None
    assert kit_from_dict(d).body_mass_kg is None


def test_top_level_must_be_a_table():
    with pytest.raises(ConfigError, match="<dict>: top level: expected a table, got an array"):
        kit_from_dict([])
