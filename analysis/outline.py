"""The insole's outline in the foot frame (DESIGN.md coordinates), for drawings of the foot.

``OUTLINE`` gives, from heel (y = 0) to toe tip (y = 1), the medial and lateral edges at that y
as fractions of the foot's widest width (0 medial, 1 lateral). It is a generic right-or-left
insole drawn by eye over a shoe last (a heel cup, the narrow arch on the medial side, the ball,
the big toe reaching furthest): good for placing marks, not a measurement. A sensor's ``x`` is
read across the insole's width at its own ``y`` (:func:`foot_point`), so every sensor and COP
point lands inside the outline.
"""

from __future__ import annotations

import numpy as np

#: (y, medial edge x, lateral edge x), fractions of the foot, heel to toe
OUTLINE = ((0.00, .38, .62), (0.03, .22, .78), (0.08, .17, .83), (0.20, .15, .85),
           (0.35, .20, .88), (0.50, .15, .93), (0.62, .05, .98), (0.72, .00, 1.0),
           (0.80, .00, .97), (0.87, .03, .88), (0.93, .07, .72), (0.97, .13, .52), (1.00, .24, .34))
#: the insole's widest width over its length (a typical adult foot, ~0.37)
WIDTH_PER_LENGTH = 0.37

_Y = np.array([p[0] for p in OUTLINE])
_MED = np.array([p[1] for p in OUTLINE])
_LAT = np.array([p[2] for p in OUTLINE])


def edges(y):
    """(medial, lateral) edge x at ``y`` (fractions; scalars or arrays; y clipped to 0..1)."""
    y = np.clip(y, 0.0, 1.0)
    m, l = np.interp(y, _Y, _MED), np.interp(y, _Y, _LAT)
    if np.ndim(m) == 0:
        return float(m), float(l)
    return m, l


def foot_point(x, y):
    """Where a point at ``x`` across the width and ``y`` along the foot sits in the outline's
    frame: (x within the outline, y), fractions of the foot's widest width and of its length."""
    m, l = edges(y)
    return m + np.clip(x, 0.0, 1.0) * (l - m), np.clip(y, 0.0, 1.0)


def outline_polygon(n: int = 120) -> np.ndarray:
    """(2n, 2) points (x, y) around the outline, medial edge heel→toe then lateral toe→heel."""
    y = np.linspace(0.0, 1.0, n)
    m, l = edges(y)
    return np.vstack([np.column_stack([m, y]), np.column_stack([l[::-1], y[::-1]])])
