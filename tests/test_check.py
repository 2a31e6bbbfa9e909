"""`insole check` and `insole calibrate` on emulated chips, through the real driver, with an
emulated person doing what the wizard asks and a kit wired wrong in known ways."""

import re
from dataclasses import replace

import numpy as np
import pytest
from rich.console import Console

from analysis.layout import Layout
from pi.calibrate import fit, run_calibration, save
from pi.check import run_check
from pi.cli import main
from pi.emulator import build_bus
from pi.kit import DEFAULT_KIT_PATH, load_kit
from pi.wizard import G, StillInsole, open_bus


@pytest.fixture(scope="module")
def kit():
    return load_kit("hardware/kit-default.toml")


def _check(kit, insole=None, bus=None):
    i2c, person, close = open_bus(kit, insole=insole, bus=bus or build_bus(kit))
    person.delay_s, person.hold_s = 0.1, 0.3          # a quick thumb
    try:
        return run_check(kit, i2c, act=person.act, console=Console(file=open("/dev/null", "w")), timeout_s=3)
    finally:
        close()


def test_a_kit_wired_as_configured_passes(kit):
    assert _check(kit) == []


def test_a_swapped_pair_of_wires_is_named_as_a_pair(kit):
    insole = StillInsole(kit, wiring={"L_heel": ("left", 1), "L_midlat": ("left", 0)})
    problems = _check(kit, insole)
    assert len(problems) == 1
    assert re.search(r"L_heel and L_midlat are swapped", problems[0].what)
    assert "swap their two wires" in problems[0].fix


def test_a_dead_sensor_is_found_when_pressed(kit):
    problems = _check(kit, StillInsole(kit, dead=("R_mt1",)))
    assert [p.sensor for p in problems] == ["R_mt1"]
    assert "no input responded" in problems[0].what and "broken wire" in problems[0].fix


def test_a_shorted_sensor_sits_at_the_rail(kit):
    problems = _check(kit, StillInsole(kit, shorted=("L_mt5",)))
    assert [p.sensor for p in problems] == ["L_mt5"]
    assert "sits at the supply" in problems[0].what


def test_a_missing_chip_is_named_and_the_other_foot_still_checked(kit):
    left_only = replace(kit, chips=kit.chips[:1], layout=Layout([s for s in kit.layout if s.chip == "left"]))
    problems = _check(kit, bus=build_bus(left_only))
    assert len(problems) == 1
    assert problems[0].what == "chip 'right' (ADS1115) not found at 0x49"
    assert "ADDR" in problems[0].fix


def test_a_chip_of_the_wrong_type_is_named(kit):
    other = replace(kit, chips=(kit.chips[0], replace(kit.chips[1], type="ADS1015")))
    problems = _check(kit, bus=build_bus(other))
    assert [p.what for p in problems] == ["chip 'right' at 0x49 is an ADS1015, configured as ADS1115"]


def test_check_command_exit_status(capsys):
    assert main(["check", "--source", "emulated", "--timeout", "3"]) == 0
    out = capsys.readouterr().out
    # the next step names the body mass: without it calibrate would take the kit file's
    assert "the kit is wired as configured: next, `insole calibrate --mass KG --source emulated` (KG: your body mass)" \
        in " ".join(out.split())


def test_calibration_finds_the_real_response_and_writes_the_kit(kit, tmp_path):
    # the real sensors are 25 % less sensitive than the kit file says, and preloaded by the shoe
    true = {}
    for s in kit.layout:
        true[s.name] = dict(s.calibration, n_per_siemens=3.0e6, offset_n=-6.0)
    insole = StillInsole(kit, true_cal=true)
    i2c, person, close = open_bus(kit, insole=insole)
    person.mass = 80.0
    try:
        cals, zero, standing = run_calibration(kit, i2c, 80.0, 1.0, act=person.act,
                                               console=Console(file=open("/dev/null", "w")))
    finally:
        close()
    from analysis.calibration import fsr_divider_newtons
    for foot in ("left", "right"):
        idx = kit.layout.index[foot]
        counts = standing[foot] / (4.096 / 32768)
        total = sum(float(fsr_divider_newtons(np.array(counts[i]), cals[kit.layout.sensors[i].name])) for i in idx)
        assert total == pytest.approx(80.0 * G, rel=0.01)                  # body weight on that foot
    for i, s in enumerate(kit.layout):
        assert cals[s.name]["n_per_siemens"] == pytest.approx(3.0e6, rel=0.03)
        at_zero = float(fsr_divider_newtons(np.array(zero[i] / (4.096 / 32768)), cals[s.name]))
        assert abs(at_zero) < 0.5                                             # zero reads 0 N

    # written into a copy of the kit file: comments kept, backup made, sessions carry it
    path = tmp_path / "mykit.toml"
    path.write_text(kit.path.read_text())
    mine = load_kit(path)
    dest, backup = save(mine, cals)
    assert dest == path and backup is not None and backup.read_text() == kit.path.read_text()
    text = path.read_text()
    assert "# 5th metatarsal head" in text and text.count("# insole calibrate") == 8
    again = load_kit(path)
    assert again.layout.sensors[0].calibration["n_per_siemens"] == cals["L_heel"]["n_per_siemens"]
    out = tmp_path / "s"
    assert main(["simulate", "--out", str(out), "--duration", "2", "--config", str(path)]) == 0
    import json
    meta = json.loads((out / "session.json").read_text())
    assert meta["sensors"][0]["calibration"]["n_per_siemens"] == cals["L_heel"]["n_per_siemens"]


def test_calibration_refuses_a_foot_that_does_not_respond(kit):
    from pi.calibrate import CalibrationError
    dead = tuple(s.name for s in kit.layout if s.foot == "right")
    i2c, person, close = open_bus(kit, insole=StillInsole(kit, dead=dead))
    try:
        with pytest.raises(CalibrationError, match="right sensors hardly changed"):
            run_calibration(kit, i2c, 70.0, 0.5, act=person.act, console=Console(file=open("/dev/null", "w")))
    finally:
        close()


def test_fit_shares_one_slope_per_foot(kit):
    zero = np.zeros(8)
    stand = {"left": np.array([1.0, 0.2, 0.2, 1.0, 0, 0, 0, 0]), "right": np.array([0, 0, 0, 0, 1.0, 0.2, 0.2, 1.0])}
    cals = fit(kit.layout, zero, stand, 70.0)
    assert len({cals[n]["n_per_siemens"] for n in ("L_heel", "L_mt1", "L_mt5")}) == 1


def test_calibrate_says_where_the_body_mass_came_from(tmp_path, capsys):
    kit_file = tmp_path / "kit.toml"
    kit_file.write_text(DEFAULT_KIT_PATH.read_text())          # [subject] body_mass_kg = 70.0
    assert main(["calibrate", "--source", "emulated", "--config", str(kit_file), "--hold", "0.5"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "body mass 70 kg (from kit.toml; --mass KG gives yours)" in out
    assert main(["calibrate", "--source", "emulated", "--config", str(kit_file), "--hold", "0.5", "--mass", "82"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "body mass 82 kg," in out and "from kit.toml" not in out


def test_calibrate_with_a_mass_records_that_mass_in_the_kit_file(tmp_path, capsys):
    kit_file = tmp_path / "my-kit.toml"
    kit_file.write_text(DEFAULT_KIT_PATH.read_text())          # [subject] body_mass_kg = 70.0
    assert main(["calibrate", "--source", "emulated", "--config", str(kit_file), "--hold", "0.5", "--mass", "72"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "with body mass 72 kg" in out
    kit = load_kit(kit_file)
    assert kit.body_mass_kg == 72.0                            # later runs scale BW by the fitted mass
    text = kit_file.read_text()
    assert text.count("# insole calibrate, ") == 8 and "# centre of the calcaneus" in text   # comments kept
    out_dir = tmp_path / "s"
    assert main(["simulate", "--out", str(out_dir), "--duration", "2", "--config", str(kit_file)]) == 0
    import json
    assert json.loads((out_dir / "session.json").read_text())["subject"]["body_mass_kg"] == 72.0
