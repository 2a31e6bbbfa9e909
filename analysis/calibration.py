"""Calibration: a sensor's stored value → newtons.

Two models (contract 2):

``{"model": "linear", "scale": s, "offset": o}``
    newtons = s × value + o. Identity (s=1, o=0) for imported data already in newtons.

``{"model": "fsr_divider", "vcc_v", "r_m_ohm", "fs_v", "bits", "n_per_siemens", "offset_n"}``
    The kit's circuit: the FSR on top, ``r_m_ohm`` to ground, the ADC reading the midpoint.
    The stored value is signed ADC counts, full scale ``±2**(bits-1)`` counts = ``±fs_v`` volts
    (the ADS1x15 PGA range). From the divider V = Vcc·Rm/(Rm + R_fsr), the FSR conductance is
    G = 1/R_fsr = V / (Rm·(Vcc − V)); a FlexiForce-type sensor's conductance is close to linear
    in force (±3 %, shared/notes/hardware.md), so newtons = n_per_siemens × G + offset_n.
    Voltages at or below 0 give 0 N of conductance; voltages at Vcc (a shorted sensor) are held
    just below it so the force stays finite.

Everything is vectorised: :func:`calibrate` takes an ``(n_frames, n_sensors)`` array.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from .errors import ConfigError

MODELS = ("linear", "fsr_divider")
_FSR_KEYS = ("vcc_v", "r_m_ohm", "fs_v", "bits", "n_per_siemens")


def validate(cal: Mapping[str, Any], where: str = "calibration") -> dict:
    """Check a calibration dict; return a normalised copy. Errors name the key at fault."""
    if not isinstance(cal, Mapping):
        raise ConfigError(f"{where}: expected a table with a 'model' key, got {cal!r}")
    model = cal.get("model")
    if model not in MODELS:
        raise ConfigError(f"{where}.model: expected one of {', '.join(MODELS)}, got {model!r}")
    out = dict(cal)
    if model == "linear":
        for k, default in (("scale", 1.0), ("offset", 0.0)):
            v = out.get(k, default)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
                raise ConfigError(f"{where}.{k}: expected a number, got {v!r}")
            out[k] = float(v)
        return out
    for k in _FSR_KEYS:
        v = out.get(k)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v <= 0:
            raise ConfigError(f"{where}.{k}: expected a positive number, got {v!r}")
        out[k] = float(v)
    out["bits"] = int(out["bits"])
    off = out.get("offset_n", 0.0)
    if isinstance(off, bool) or not isinstance(off, (int, float)) or not np.isfinite(off):
        raise ConfigError(f"{where}.offset_n: expected a number, got {off!r}")
    out["offset_n"] = float(off)
    return out


def fsr_divider_volts(counts: np.ndarray, cal: Mapping[str, Any]) -> np.ndarray:
    """ADC counts → volts at the divider midpoint."""
    return np.asarray(counts, dtype=float) * (cal["fs_v"] / 2.0 ** (cal["bits"] - 1))


def fsr_conductance_s(volts, r_m_ohm, vcc_v):
    """The FSR's conductance (S) from the divider's midpoint voltage: G = V / (Rm·(Vcc − V)),
    0 at or below 0 V, held finite at the supply (a shorted sensor)."""
    v = np.clip(volts, 0.0, np.asarray(vcc_v) * 0.999)
    return v / (r_m_ohm * (vcc_v - v))


def fsr_divider_newtons(counts: np.ndarray, cal: Mapping[str, Any]) -> np.ndarray:
    """ADC counts → newtons through the FSR divider model (see module docstring)."""
    conductance_s = fsr_conductance_s(fsr_divider_volts(counts, cal), cal["r_m_ohm"], cal["vcc_v"])
    return cal["n_per_siemens"] * conductance_s + cal.get("offset_n", 0.0)


def fsr_divider_counts(force_n: np.ndarray, cal: Mapping[str, Any]) -> np.ndarray:
    """Newtons → ideal (unquantised, unclipped) ADC counts: the inverse of the model.

    Used by the simulator and the emulated chip to drive the ADC input.
    """
    f = np.maximum(np.asarray(force_n, dtype=float) - cal.get("offset_n", 0.0), 0.0)
    g = f / cal["n_per_siemens"]                       # conductance, S
    rm = cal["r_m_ohm"]
    v = cal["vcc_v"] * g * rm / (1.0 + g * rm)         # V = Vcc·Rm/(Rm + 1/G)
    return v / (cal["fs_v"] / 2.0 ** (cal["bits"] - 1))


def to_newtons(value: np.ndarray, cal: Mapping[str, Any]) -> np.ndarray:
    """One sensor's stored values → newtons."""
    if cal["model"] == "linear":
        return np.asarray(value, dtype=float) * cal.get("scale", 1.0) + cal.get("offset", 0.0)
    return fsr_divider_newtons(value, cal)


class Calibrator:
    """Turns frames of stored values into newtons for a fixed list of calibrations.

    Sensors that share the linear model are done in one vectorised step; fsr_divider sensors in
    another. Works on one frame ``(n_sensors,)`` or a block ``(n_frames, n_sensors)``.
    """

    def __init__(self, calibrations: Sequence[Mapping[str, Any]]):
        cals = [validate(c, f"sensors[{i}].calibration") for i, c in enumerate(calibrations)]
        n = len(cals)
        self.n = n
        lin = [i for i, c in enumerate(cals) if c["model"] == "linear"]
        fsr = [i for i, c in enumerate(cals) if c["model"] == "fsr_divider"]
        self._lin = np.array(lin, dtype=int)
        self._lin_scale = np.array([cals[i]["scale"] for i in lin])
        self._lin_offset = np.array([cals[i]["offset"] for i in lin])
        self._fsr = np.array(fsr, dtype=int)
        f = [cals[i] for i in fsr]
        self._volts_per_count = np.array([c["fs_v"] / 2.0 ** (c["bits"] - 1) for c in f])
        self._vcc = np.array([c["vcc_v"] for c in f])
        self._vmax = self._vcc * 0.999
        self._k = np.array([c["n_per_siemens"] / c["r_m_ohm"] for c in f])
        self._fsr_offset = np.array([c["offset_n"] for c in f])
        self._all_linear = not fsr
        self._per_sensor = []
        self._per_offset = []
        for c in cals:
            if c["model"] == "linear":
                self._per_sensor.append((False, c["scale"], c["offset"], 0.0, 0.0))
                self._per_offset.append(0.0)
            else:
                vcc = c["vcc_v"]
                self._per_sensor.append((True, c["fs_v"] / 2.0 ** (c["bits"] - 1), vcc * 0.999,
                                         c["n_per_siemens"] / c["r_m_ohm"], vcc))
                self._per_offset.append(c["offset_n"])
        self._all_fsr = not lin

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """Stored values → N. A missing reading (NaN or ±inf, possible only in float data such
        as an imported file) counts as no load: 0 N, so one bad cell cannot poison a landing."""
        values = np.asarray(values)
        if values.ndim == 2 and values.shape[0] == 1 and values.shape[1] == self.n:
            return np.array([self._one_frame(values[0].tolist())])
        bad = None
        if values.dtype.kind == "f" and not np.isfinite(values).all():
            bad = ~np.isfinite(values)
            values = np.where(bad, 0.0, values)
        values = values.astype(float, copy=False)
        if values.shape[-1] != self.n:
            raise ValueError(f"expected {self.n} sensor values per frame, got {values.shape[-1]}")
        out = self._convert(values)
        if bad is not None:
            out[bad] = 0.0
        return out

    def _convert(self, values: np.ndarray) -> np.ndarray:
        if self._all_linear:
            return values * self._lin_scale + self._lin_offset
        if self._all_fsr:
            return self._fsr_newtons(values)
        out = np.empty_like(values)
        out[..., self._lin] = values[..., self._lin] * self._lin_scale + self._lin_offset
        out[..., self._fsr] = self._fsr_newtons(values[..., self._fsr])
        return out

    def _one_frame(self, row: list) -> list:
        """The same conversion in plain Python: on one frame of a few sensors, numpy's per-call
        cost is most of the time (the live loop pushes frames one at a time)."""
        out = []
        for value, (fsr, a, b, c, d) in zip(row, self._per_sensor):
            if not math.isfinite(value):
                out.append(0.0)
            elif fsr:                       # a: V per count, b: max V, c: n_per_siemens / Rm, d: Vcc
                v = value * a
                v = 0.0 if v < 0.0 else (b if v > b else v)
                out.append(c * v / (d - v) + self._per_offset[len(out)])
            else:                           # a: scale, b: offset
                out.append(value * a + b)
        return out

    def _fsr_newtons(self, counts: np.ndarray) -> np.ndarray:
        # ufuncs called directly: np.clip's wrapper costs more than the arithmetic on one frame
        v = counts * self._volts_per_count
        np.maximum(v, 0.0, out=v)
        np.minimum(v, self._vmax, out=v)
        denom = self._vcc - v
        v *= self._k                     # in place: a long session is millions of values
        v /= denom
        v += self._fsr_offset
        return v
