"""The divider resistor worked out, from the kit's own FSR model.

The circuit (``analysis/calibration.py``): the FSR from Vcc to the ADC input, ``Rm`` from the
input to ground, so V = Vcc · Rm / (Rm + R_fsr). The FSR's conductance is close to linear in
force (FlexiForce: ±3 %), G = 1/R_fsr = (F − offset_n) / n_per_siemens, so R_fsr = k / F with
k = n_per_siemens (ohm·N).

Two results follow (both worked in hardware/README.md):

* the voltage swing V(F_hi) − V(F_lo) over a force range is largest for
  Rm = √(R_fsr(F_lo) · R_fsr(F_hi)) = k / √(F_lo · F_hi);
* the sensitivity dV/dF at one force F is largest for Rm = R_fsr(F) = k / F.

:func:`sweep` tabulates a calibration over the running range (volts, ADC counts, newtons per
count, and whether the PGA range clips), so the check is redone for whatever the kit says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from analysis.calibration import fsr_divider_counts

#: the force range a region of the foot sees in running, N: from the lightest load that should
#: register early in contact to ~2.2 body weights of a 70 kg runner (peak vertical force in
#: running is ~2.3-2.8 BW for the whole foot, shared/notes/gait.md; one region carries less)
RUNNING_RANGE_N = (50.0, 1500.0)
FORCES_N = (50.0, 100.0, 200.0, 400.0, 800.0, 1500.0)


def ohms(r: float) -> str:
    """A resistance as written on a parts list: ``470 Ω``, ``4.7 kΩ``, ``10 kΩ``, ``1 MΩ``."""
    for scale, unit in ((1e6, "MΩ"), (1e3, "kΩ"), (1.0, "Ω")):
        if r >= scale or unit == "Ω":
            return f"{r / scale:.3g} {unit}"


def fsr_ohm(cal: dict, force_n: float) -> float:
    """The FSR's resistance under ``force_n`` newtons in the kit's model, ohms."""
    return cal["n_per_siemens"] / max(force_n - cal.get("offset_n", 0.0), 1e-9)


def best_resistor(cal: dict, range_n=RUNNING_RANGE_N) -> float:
    """The divider resistor giving the largest voltage swing over ``range_n``, ohms."""
    return math.sqrt(fsr_ohm(cal, range_n[0]) * fsr_ohm(cal, range_n[1]))


def swing_v(cal: dict, r_m: float, range_n=RUNNING_RANGE_N) -> float:
    """V(F_hi) − V(F_lo) with divider resistor ``r_m``, volts (clipping ignored)."""
    lo, hi = (cal["vcc_v"] * r_m / (r_m + fsr_ohm(cal, f)) for f in range_n)
    return hi - lo


@dataclass(frozen=True)
class Point:
    force_n: float
    fsr_ohm: float
    volts: float
    counts: float
    n_per_count: float
    clipped: bool


def sweep(cal: dict, forces=FORCES_N) -> list[Point]:
    """The divider's output at each force: volts, ADC counts (as stored in samples.csv), the
    newtons one count is worth there, and whether the input is past the PGA's full scale."""
    per_count = cal["fs_v"] / 2.0 ** (cal["bits"] - 1)
    out = []
    for f in forces:
        c0, c1 = fsr_divider_counts(np.array([f, f + 1.0]), cal)
        v = float(c0) * per_count
        out.append(Point(f, fsr_ohm(cal, f), v, float(c0), 1.0 / float(c1 - c0), v >= cal["fs_v"]))
    return out


def check_markdown(layout) -> list[str]:
    """The divider check for every distinct FSR circuit of a layout, as Markdown lines."""
    groups: dict[tuple, list[str]] = {}
    cals = {}
    for s in layout:
        cal = s.calibration
        if cal.get("model") != "fsr_divider":
            continue
        key = tuple(cal[k] for k in ("vcc_v", "r_m_ohm", "fs_v", "bits", "n_per_siemens", "offset_n"))
        groups.setdefault(key, []).append(s.name)
        cals[key] = cal
    lines = []
    for key, names in groups.items():
        cal = cals[key]
        r_m, best = cal["r_m_ohm"], best_resistor(cal)
        lo, hi = RUNNING_RANGE_N
        lines += [f"**{', '.join(names)}**: Vcc {cal['vcc_v']:g} V, divider {ohms(r_m)}, "
                  f"n_per_siemens {cal['n_per_siemens']:g} N/S, PGA ±{cal['fs_v']:g} V", "",
                  "| force (N) | FSR | input (V) | ADC counts | N per count | |",
                  "| ---: | ---: | ---: | ---: | ---: | --- |"]
        for p in sweep(cal):
            flag = "**clips: lower the gain**" if p.clipped else ""
            lines.append(f"| {p.force_n:g} | {ohms(p.fsr_ohm)} | {p.volts:.2f} | {p.counts:.0f} | "
                         f"{p.n_per_count:.3f} | {flag} |")
        lines += ["", f"Swing over {lo:g}–{hi:g} N: {swing_v(cal, r_m):.2f} V with {ohms(r_m)}; the most any "
                  f"resistor gives is {swing_v(cal, best):.2f} V, with √(R({lo:g} N)·R({hi:g} N)) = "
                  f"{ohms(best)}. Most sensitive at {cal['n_per_siemens'] / r_m:.0f} N (where the FSR "
                  f"equals the divider resistor).", ""]
    return lines
