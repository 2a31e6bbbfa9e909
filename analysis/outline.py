"""The insole outline: one plausible foot shape, in the foot's own frame, for drawing.

Positions are fractions of the foot as in :mod:`analysis.layout`: ``y`` = 0 at the back of the
heel, 1 at the tip of the longest toe; across the foot, 0 is the medial (big-toe) edge of the
widest part, 1 the lateral edge. The shape is an illustration drawn from a dozen points (a
rounded heel about two thirds of the ball's width, a straight-ish medial border, the big toe
longest), not a measured last: what a drawing must get right is where the sensors are, and
:func:`sensor_across` places them the same way everywhere they are drawn (the live display and
the printed templates).

A sensor's ``x`` is taken across the insole's width at its own ``y`` (0 on the medial edge
there, 1 on the lateral edge), so every sensor lands inside the outline.
"""

from __future__ import annotations

#: (y, medial edge, lateral edge): fractions of the foot, heel to toe; edges across the widest part
OUTLINE = ((0.00, .38, .62), (0.03, .22, .78), (0.08, .17, .83), (0.20, .15, .85),
           (0.35, .20, .88), (0.50, .15, .93), (0.62, .05, .98), (0.72, .00, 1.0),
           (0.80, .00, .97), (0.87, .03, .88), (0.93, .07, .72), (0.97, .13, .52), (1.00, .24, .34))
#: the widest part (the ball of the foot) as a share of foot length: a 2.7 : 1 foot. Adult feet
#: measure ~0.36-0.40 (ball width over length), so this sits in the range.
WIDTH_RATIO = 1 / 2.7


def edges(y: float) -> tuple[float, float]:
    """(medial, lateral) edge of the outline at ``y``, fractions of the widest part, linear
    between the points of :data:`OUTLINE`; ``y`` outside [0, 1] takes the nearer end."""
    if y <= OUTLINE[0][0]:
        return OUTLINE[0][1:]
    for (y0, m0, l0), (y1, m1, l1) in zip(OUTLINE, OUTLINE[1:]):
        if y <= y1:
            f = (y - y0) / (y1 - y0)
            return m0 + f * (m1 - m0), l0 + f * (l1 - l0)
    return OUTLINE[-1][1:]


def sensor_across(x: float, y: float) -> float:
    """Where a sensor at (``x``, ``y``) sits across the widest part of the foot (0 medial edge,
    1 lateral edge): its ``x`` taken across the outline's width at its ``y``."""
    m, l = edges(min(1.0, max(0.0, y)))
    return m + min(1.0, max(0.0, x)) * (l - m)
