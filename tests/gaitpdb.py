"""A small loader for the PhysioNet gaitpdb insole recordings (shared/data/gaitpdb), for tests.

The general importer is its own issue; this only turns the 8+8 sensor columns into a layout in
the project's coordinates. gaitpdb gives positions in arbitrary units: y from −800 (heel) to
+800 (toes), |x| 300 (inner column) or 700 (outer column), the sign giving the side of the body.
We map y to 0.1…0.9 of the foot (the heel and toe sensors sit inside the outline) and |x| to the
medial/lateral axis (the inner column is medial).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from analysis.layout import Layout, Sensor

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "gaitpdb"
POSITIONS = {1: (500, -800), 2: (700, -400), 3: (300, -400), 4: (700, 0), 5: (300, 0),
             6: (700, 400), 7: (300, 400), 8: (500, 800)}
RATE_HZ = 100.0


def layout() -> Layout:
    sensors = []
    for foot, p in (("left", "L"), ("right", "R")):
        for i, (ax, ay) in POSITIONS.items():
            sensors.append(Sensor(f"{p}{i}", foot, x=0.2 + 0.6 * (ax - 300) / 400, y=0.1 + 0.8 * (ay + 800) / 1600))
    return Layout(sensors)


def load(name: str):
    """(t_s, values (n, 16) in N, layout) of one recording."""
    d = np.loadtxt(DATA / name)
    return d[:, 0], d[:, 1:17], layout()
