"""PhysioNet "Gait in Parkinson's Disease" (gaitpdb) force insole recordings.

The format (the database's ``format.txt``): plain text, one frame per line, 19 numbers separated
by tabs (spaces are accepted too), no header, 100 Hz: time (s), the vertical force (N) of 8
sensors under the left foot (L1–L8), of 8 under the right (R1–R8), then the left and right
totals. The totals are not imported (they are the sums of the sensors; a mismatch is noted).

Sensor positions. ``format.txt`` places the sensors (Infotronic insoles) in arbitrary units, the
person standing with feet parallel, the origin between the feet, facing +Y: Y from −800 (sensor 1,
under the heel) to +800 (sensor 8, under the toes), in rows 400 apart; X = ±300 (inner column),
±700 (outer column) or ±500 (heel and toe sensors), the sign giving the side of the body.
Mapped to the project's foot frame (y 0 heel → 1 toe tip, x 0 medial → 1 lateral, not
mirrored):

* ``y = (Y + 1000) / 2000``: the five rows at 0.1, 0.3, 0.5, 0.7, 0.9 of the foot. The outline
  is taken to reach half a row (200 units) beyond the heel and toe sensors, so the heel sensor
  sits at 10 % of foot length, under the centre of the calcaneus's contact, and the third row
  (Y = 400) at 70 %, under the metatarsal heads (~65–75 % of foot length).
* ``x = 0.2 + 0.6 · (|X| − 300) / 400``: the inner column (|X| = 300) is medial in both feet,
  since the feet stand on either side of the origin; so the medial column sits at x = 0.2, the
  lateral one at 0.8, the heel and toe sensors in the middle. ``|X|`` because the sign of X is
  the side of the body (negative for the left foot), whereas the project's x is measured from
  each foot's own medial edge.

Body mass: ``mass_kg`` if given; else the ``Weight`` column (kg) of the database's
``demographics.txt`` when it lies beside the recording (the row whose ``ID`` is the file name's
subject, ``GaCo01`` for ``GaCo01_01.txt``). A missing file, row or weight leaves it unknown,
with a note.

Cite: Goldberger AL et al., Circulation 101(23):e215–e220 (2000); Hausdorff JM et al. / Yogev G
et al. / Frenkel-Toledo S et al. for the studies (``format.txt``). Licence ODC-By 1.0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import FileFormatError
from ..layout import Layout, Sensor
from .recording import Recording, check_mass, check_time, gap_note
from .table import TextTable

#: sensor number → (|X|, Y) in format.txt's arbitrary units
POSITIONS = {1: (500, -800), 2: (700, -400), 3: (300, -400), 4: (700, 0), 5: (300, 0),
             6: (700, 400), 7: (300, 400), 8: (500, 800)}
N_COLUMNS = 19
TOTAL_TOLERANCE_N = 1.0          # the totals are the sums, to the file's rounding


def foot_xy(abs_x: float, y: float) -> tuple[float, float]:
    """format.txt's (|X|, Y) → the project's (x, y) fractions of the foot (see the module docstring)."""
    return 0.2 + 0.6 * (abs_x - 300) / 400, (y + 1000) / 2000


def layout() -> Layout:
    """L1–L8 then R1–R8, in the file's column order, at the mapped positions."""
    return Layout(Sensor(f"{side}{i}", foot, *foot_xy(ax, ay))
                  for foot, side in (("left", "L"), ("right", "R")) for i, (ax, ay) in POSITIONS.items())


def subject_id(path: str | Path) -> str:
    """``GaCo01_01.txt`` → ``GaCo01`` (the database's file naming: subject, walk number)."""
    return Path(path).stem.split("_")[0]


def demographics_mass(path: Path, subject: str) -> tuple[float | None, str]:
    """(body mass in kg or None, a note saying where it came from or why it is unknown)."""
    if not path.exists():
        return None, f"no {path.name} beside the recording: body mass unknown (give --mass KG)"
    table = TextTable(path, "\t")
    if not table.has_header:
        return None, f"{path.name} has no header line: body mass unknown (give --mass KG)"
    names = [n.casefold() for n in table.names]
    if "id" not in names or "weight" not in names:
        return None, f"{path.name} has no ID and Weight columns: body mass unknown (give --mass KG)"
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    i_id, i_w = names.index("id"), names.index("weight")
    for line in text[table.first_line - 1:]:
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) > max(i_id, i_w) and cells[i_id] == subject:
            try:
                mass = float(cells[i_w])
            except ValueError:
                mass = float("nan")
            if not np.isfinite(mass):
                return None, f"{path.name} gives no weight for {subject}: body mass unknown (give --mass KG)"
            return check_mass(mass, f"{path.name}, {subject}"), f"body mass {mass:g} kg from {path.name}"
    return None, f"{subject} is not in {path.name}: body mass unknown (give --mass KG)"


def read(path: str | Path, mass_kg: float | None = None, demographics: str | Path | None = None,
         on_gap: str = "flag", progress: Callable[[int, int], None] | None = None) -> Recording:
    """Import one gaitpdb recording (see the module docstring)."""
    path = Path(path)
    table = TextTable(path, delimiter=None, header="auto")
    file = table.file
    what = "time, L1-L8, R1-R8, left total, right total: PhysioNet gaitpdb format.txt"
    if table.has_header or len(table.names) != N_COLUMNS:
        got = "text, not numbers" if table.has_header else f"{len(table.names)} numbers"
        raise FileFormatError(f"{file}: line {table.header_line}: {got}; a gaitpdb recording has {N_COLUMNS} "
                              f"numbers per line ({what})")
    cols = list(range(N_COLUMNS))
    values, line_no = table.read(cols, progress)
    table.refuse_nan(values, line_no, cols)
    t_s, rate, gaps = check_time(values[:, 0], line_no, file, on_gap,
                                 advice="gaitpdb time is in seconds: is this a gaitpdb recording?")
    forces = values[:, 1:17]
    rec = Recording(file=file, format="gaitpdb", t_s=t_s, force_n=forces, layout=layout(), rate_hz=rate,
                    gaps=gaps, settings={"positions": "format.txt mapped as in analysis/importers/gaitpdb.py",
                                         "time_first": float(values[0, 0])})
    off = np.abs(np.column_stack([forces[:, :8].sum(axis=1), forces[:, 8:].sum(axis=1)]) - values[:, 17:19])
    bad = np.flatnonzero((off > TOTAL_TOLERANCE_N).any(axis=1))
    if bad.size:
        rec.notes.append(f"{bad.size} lines whose totals (columns 18-19) are not the sums of the sensors, "
                         f"first line {line_no[bad[0]]}: the sensors are imported as they are")
    rec.settings["totals_mismatched_lines"] = int(bad.size)
    if mass_kg is not None:
        rec.body_mass_kg = check_mass(mass_kg, "--mass")
        rec.settings["body_mass_from"] = "--mass"
    else:
        demo = Path(demographics) if demographics else path.with_name("demographics.txt")
        rec.body_mass_kg, note = demographics_mass(demo, subject_id(path))
        rec.notes.append(note)
        if rec.body_mass_kg is not None:
            rec.settings["body_mass_from"] = demo.name
    note = gap_note(gaps)
    if note:
        rec.notes.append(note)
    return rec
