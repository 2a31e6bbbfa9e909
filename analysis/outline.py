"""The insole outline: one plausible foot shape, in the foot's own frame, for drawing.

Positions are fractions of the foot as in :mod:`analysis.layout`: ``y`` = 0 at the back of the
heel, 1 at the tip of the longest toe; across the foot, 0 is the medial (big-toe) edge of the
widest part, 1 the lateral edge. The shape is an illustration drawn from a dozen points (a
rounded heel about two thirds of the ball's width, a straight-ish medial border, the big toe
longest), not a measured last: what a drawing must get right is where the sensors are, and
:func:`sensor_across` places them the same way everywhere they are drawn (the live display, the
report's plots and the printed templates).

A sensor's ``x`` is taken across the insole's width at its own ``y`` (0 on the medial edge
there, 1 on the lateral edge), so every sensor and COP point lands inside the outline.
"""

from __future__ import annotations

import numpy as np

#: (y, medial edge, lateral edge): fractions of the foot, heel to toe; edges across the widest part
OUTLINE = ((0.00, .38, .62), (0.03, .22, .78), (0.08, .17, .83), (0.20, .15, .85),
           (0.35, .20, .88), (0.50, .15, .93), (0.62, .05, .98), (0.72, .00, 1.0),
           (0.80, .00, .97), (0.87, .03, .88), (0.93, .07, .72), (0.97, .13, .52), (1.00, .24, .34))
#: the widest part (the ball of the foot) as a share of foot length: a 2.7 : 1 foot. Adult feet
#: measure ~0.36-0.40 (ball width over length), so this sits in the range.
WIDTH_RATIO = 1 / 2.7

_Y = np.array([p[0] for p in OUTLINE])
_MED = np.array([p[1] for p in OUTLINE])
_LAT = np.array([p[2] for p in OUTLINE])


def edges(y):
    """(medial, lateral) edge of the outline at ``y``, fractions of the widest part, linear
    between the points of :data:`OUTLINE`; ``y`` outside [0, 1] takes the nearer end. Scalars
    give floats, arrays give arrays."""
    y = np.clip(y, 0.0, 1.0)
    m, l = np.interp(y, _Y, _MED), np.interp(y, _Y, _LAT)
    if np.ndim(m) == 0:
        return float(m), float(l)
    return m, l


def foot_point(x, y):
    """(across, along) of points at foot-frame (``x``, ``y``): ``x`` taken across the outline's
    width at ``y`` (see :func:`sensor_across`), both clipped to the foot; scalars or arrays."""
    m, l = edges(y)
    return m + np.clip(x, 0.0, 1.0) * (l - m), np.clip(y, 0.0, 1.0)


def sensor_across(x: float, y: float) -> float:
    """Where a sensor at (``x``, ``y``) sits across the widest part of the foot (0 medial edge,
    1 lateral edge): its ``x`` taken across the outline's width at its ``y``."""
    return float(foot_point(x, y)[0])


def outline_polygon(n: int = 120) -> np.ndarray:
    """(2n, 2) points (across, along) around the outline: medial edge heel → toe, then the
    lateral edge toe → heel."""
    y = np.linspace(0.0, 1.0, n)
    m, l = edges(y)
    return np.vstack([np.column_stack([m, y]), np.column_stack([l[::-1], y[::-1]])])
