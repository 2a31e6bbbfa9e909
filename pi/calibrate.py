"""``insole calibrate``: fit each sensor's FSR model to the wearer, and write it into the kit file.

Three still positions, each held for a few seconds and averaged:

1. **Zero**: sitting, both feet in the air. Each sensor's conductance then (G0, from the divider:
   G = V / (Rm·(Vcc − V))) is its unloaded reading.
2. **Body weight on the left foot**, standing on it alone; 3. the same on the **right**.

The model is newtons = n_per_siemens × G + offset_n (analysis/calibration.py). Standing gives
one equation per foot (its sensors together carry the body weight), so each foot gets one
n_per_siemens, shared by its sensors (the same FSR type), fitted so that their forces add up to
body weight; each sensor's offset_n makes its force zero at its own zero. A few discrete FSRs
see only part of the sole, so "newtons" is this scaled share, consistent between sessions of the
same wearer and kit; the contact detection re-zeroes every flight on top of it.

The fit goes into the kit file as each sensor's ``calibration`` table (the previous file kept as
a ``.bak-<time>`` copy); sessions then record it in ``session.json``. Calibrating the template
``hardware/kit-default.toml`` writes the user's own ``hardware/kit.toml`` instead, which
:func:`pi.kit.load_kit` then prefers.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

from analysis.calibration import fsr_conductance_s
from analysis.errors import ConfigError, InsoleError
from pi.wizard import G, need_terminal_or_person, open_bus, read_volts

SETTLE_S = 1.0            # after the person is in position, before averaging
MIN_RESPONSE = 0.05       # standing must raise the foot's summed signal by this share of the supply
UNLOADED_MAX = 0.5        # at zero, a sensor above this share of the supply is loaded (or shorted)


class CalibrationError(InsoleError):
    pass


def fit(layout, zero_v: np.ndarray, standing_v: dict, mass_kg: float) -> dict:
    """Per sensor name: the fitted fsr_divider calibration. ``standing_v``: foot → volts per
    sensor (whole layout) while standing on that foot."""
    cals = [s.calibration for s in layout]
    vcc = np.array([c["vcc_v"] for c in cals])
    rm = np.array([c["r_m_ohm"] for c in cals])
    g0 = fsr_conductance_s(zero_v, rm, vcc)
    out = {}
    for foot, v in standing_v.items():
        idx = layout.index[foot]
        dg = fsr_conductance_s(v, rm, vcc)[idx] - g0[idx]
        total = float(dg.sum())
        if total <= 0:
            raise CalibrationError(f"the {foot} sensors did not respond to standing on the {foot} foot")
        n_per_s = mass_kg * G / total
        for i in idx:
            c = dict(cals[i])
            c.update(model="fsr_divider", n_per_siemens=float(f"{n_per_s:.6g}"),
                     offset_n=float(f"{-n_per_s * g0[i]:.6g}") + 0.0)
            out[layout.sensors[i].name] = c
    return out


CALIBRATION_KEYS = ("model", "vcc_v", "r_m_ohm", "fs_v", "bits", "n_per_siemens", "offset_n")


def write_calibration(text: str, cals: dict, stamp: str, mass_kg: float | None = None) -> str:
    """The kit file ``text`` with each named sensor's ``calibration`` replaced by the fit (an
    inline table, commented with ``stamp``) and, with ``mass_kg``, ``[subject] body_mass_kg``
    set to the mass the fit was made for. Comments, order and everything else are kept
    (tomlkit edits the document, not its lines)."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as e:
        raise ConfigError(f"the kit file is not valid TOML: {e}") from None
    for sensor in doc.get("sensor", []):
        name = sensor.get("name")
        if name not in cals:
            continue
        table = tomlkit.inline_table()
        for k in CALIBRATION_KEYS:
            table[k] = cals[name][k]
        if "calibration" in sensor:
            del sensor["calibration"]              # a one-line table or a [sensor.calibration] one
        sensor["calibration"] = table
        sensor["calibration"].comment(f"insole calibrate, {stamp}")
    if mass_kg is not None:
        if "subject" not in doc:
            doc["subject"] = tomlkit.table()
        doc["subject"]["body_mass_kg"] = float(mass_kg)
        doc["subject"]["body_mass_kg"].comment(f"insole calibrate --mass, {stamp}")
    return tomlkit.dumps(doc)


def target_path(kit_path: Path) -> Path:
    from pi.kit import DEFAULT_KIT_PATH, USER_KIT_PATH
    return USER_KIT_PATH if kit_path.resolve() == DEFAULT_KIT_PATH.resolve() else kit_path


def save(kit, cals: dict, mass_kg: float | None = None) -> tuple[Path, Path | None]:
    """Write the fit (and, with ``mass_kg``, the body mass it was made for: every later run's
    BW-scaled figures use it); returns (the kit file written, the backup made or None)."""
    from pi.kit import load_kit
    stamp = time.strftime("%Y-%m-%d %H:%M")
    dest = target_path(kit.path)
    new = write_calibration(kit.path.read_text(encoding="utf-8"), cals, stamp, mass_kg)
    backup = None
    if dest.exists():
        backup = dest.with_name(f"{dest.name}.bak-{time.strftime('%Y%m%d-%H%M%S')}")
        shutil.copy2(dest, backup)
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.write_text(new, encoding="utf-8")
    try:
        load_kit(tmp)                     # never leave a kit file that does not load
    except ConfigError as e:
        tmp.unlink()
        raise CalibrationError(f"the calibrated kit would not load ({e}); {dest} is unchanged") from e
    tmp.replace(dest)
    return dest, backup


def _hold(src, seconds: float) -> np.ndarray:
    read_volts(src, SETTLE_S)
    return np.median(read_volts(src, seconds), axis=0)


def run_calibration(kit, i2c, mass_kg: float, hold_s: float, act=None, wait=None, console=None):
    """The three positions and the fit; returns (calibrations by sensor, zero volts, standing volts)."""
    from rich.console import Console
    from pi.sources.ads import AdsSource
    console = console or Console()
    wait = wait or (lambda prompt: None)
    src = AdsSource(kit, i2c, "single")
    layout = src.layout
    vcc = float(layout.sensors[0].calibration.get("vcc_v", 3.3))
    try:
        console.print("[bold]1.[/bold] Sit down and lift both feet off the ground.")
        wait("Press Enter when both feet are in the air… ")
        if act:
            act("lift")
        zero = _hold(src, hold_s)
        loaded = [s.name for s, v in zip(layout, zero) if v > UNLOADED_MAX * vcc]
        if loaded:
            raise CalibrationError(f"{', '.join(loaded)} read{'s' * (len(loaded) == 1)} a load with both feet "
                                   f"in the air: lift the feet (or run `insole check`: a shorted sensor?)")
        console.print("   zero: " + "  ".join(f"{s.name} {v:.2f} V" for s, v in zip(layout, zero)))
        standing = {}
        for n, foot in enumerate(layout.feet, start=2):
            console.print(f"[bold]{n}.[/bold] Stand still on your {foot.upper()} foot only "
                          f"(hold on to something for balance, the other foot in the air).")
            wait(f"Press Enter when standing on the {foot} foot… ")
            if act:
                act("stand", foot=foot)
            v = _hold(src, hold_s)
            idx = layout.index[foot]
            rise = float((v[idx] - zero[idx]).sum())
            if rise < MIN_RESPONSE * vcc:
                raise CalibrationError(f"the {foot} sensors hardly changed ({rise:.2f} V in all) when standing on "
                                       f"the {foot} foot: is the {foot} insole in its shoe? (`insole check`)")
            other = [i for f in layout.feet if f != foot for i in layout.index[f]]
            if other and float((v[other] - zero[other]).sum()) > 0.5 * rise:
                raise CalibrationError(f"the other foot's sensors are loaded too: stand on the {foot} foot alone")
            standing[foot] = v
            console.print(f"   {foot}: " + "  ".join(f"{layout.sensors[i].name} {v[i]:.2f} V" for i in idx))
        if act:
            act("lift")
        return fit(layout, zero, standing, mass_kg), zero, standing
    finally:
        src.close()


def calibrate_main(args) -> int:
    from rich.console import Console
    from rich.table import Table
    from pi.kit import load_kit
    kit = load_kit(args.config)
    mass = args.mass or kit.body_mass_kg
    if mass is None:
        raise CalibrationError("body mass unknown: give --mass KG (or set [subject] body_mass_kg in the kit file)")
    console = Console()
    i2c, person, close = open_bus(kit, emulated=args.source == "emulated")
    try:
        need_terminal_or_person(person, "calibrate asks you to stand still in three positions")
    except InsoleError:
        close()
        raise
    if person is not None:
        person.mass = mass
    whose = "" if args.mass else f" (from {kit.path.name}; --mass KG gives yours)"
    console.print(f"[bold]insole calibrate[/bold]: {kit.path.name}, body mass {mass:g} kg{whose}, "
                  f"{args.hold:g} s per position")
    try:
        cals, zero, standing = run_calibration(kit, i2c, mass, args.hold, act=person.act if person else None,
                                               wait=None if person else input, console=console)
    finally:
        close()
    table = Table(title="fitted (newtons = n_per_siemens × conductance + offset_n)")
    for col in ("sensor", "zero V", "standing V", "share of weight", "n_per_siemens", "offset_n"):
        table.add_column(col, justify="right" if col != "sensor" else "left")
    from analysis.calibration import fsr_divider_newtons
    for i, s in enumerate(kit.layout):
        c = cals[s.name]
        counts = standing[s.foot][i] / (c["fs_v"] / 2.0 ** (c["bits"] - 1))
        f = float(fsr_divider_newtons(np.array(counts), c))
        table.add_row(s.name, f"{zero[i]:.3f}", f"{standing[s.foot][i]:.3f}", f"{100 * f / (mass * G):.0f} %",
                      f"{c['n_per_siemens']:.4g}", f"{c['offset_n'] + 0.0:.3g}")
    console.print(table)
    # the mass the fit was made for goes with it: a kit file still saying another would scale
    # every later run's peak force and loading rate (BW) by the wrong weight
    recorded = mass if mass != kit.body_mass_kg else None
    dest, backup = save(kit, cals, recorded)
    console.print(f"written to [bold]{dest}[/bold]" + (f", with body mass {mass:g} kg" if recorded else "")
                  + (f" (the previous file kept as {backup.name})" if backup else ""), soft_wrap=True)
    if dest != kit.path:
        console.print(f"{kit.path.name} is the template and stays as it is; `insole run` now uses {dest.name}")
    return 0
