"""Centre of pressure (COP) from discrete sensors.

The COP is the force-weighted mean of the sensor positions, in the foot's own frame (fractions
of the foot, DESIGN.md "Coordinates"). It is undefined (NaN, never 0) when the summed force is
below a threshold: with no load there is no pressure to have a centre.

With discrete sensors the COP can only move within the hull of the sensors, and at first contact
it snaps to the first loaded sensor (shared/notes/gait.md), so sensor positions must be true
fractions of foot length.
"""

from __future__ import annotations

import numpy as np


def cop(force_n: np.ndarray, x: np.ndarray, y: np.ndarray, threshold_n: float = 0.0):
    """COP of each frame.

    Parameters
    ----------
    force_n : (n_frames, n_sensors) or (n_sensors,) array, newtons, one foot's sensors.
        Negative forces (noise around a zero baseline) count as zero.
    x, y : (n_sensors,) arrays, sensor positions, fractions of the foot.
    threshold_n : frames whose summed force is at or below this give NaN.

    Returns
    -------
    (cop_x, cop_y) : arrays of shape (n_frames,) (or scalars for one frame), fractions of the foot.
    """
    f = np.maximum(np.asarray(force_n, dtype=float), 0.0)
    total = f.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = (f @ x) / total
        cy = (f @ y) / total
    loaded = total > max(threshold_n, 0.0)
    cx = np.where(loaded, cx, np.nan)
    cy = np.where(loaded, cy, np.nan)
    if cx.ndim == 0:
        return float(cx), float(cy)
    return cx, cy
