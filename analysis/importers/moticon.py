"""Moticon OpenGo sensor insoles: the text export of the OpenGo Software (``.txt``).

What the format is, and where that is known from
------------------------------------------------
From the text exports published with Moticon's own Python library (github.com/moticon-rego/
moticon-opengo, ``tests/testdata/*.txt``, Apache-2.0; four recordings, insole sizes 3 and 7,
exported 2022 and 2023) and that library's reader (``txt_export.py``):

* UTF-8 text, tab-separated. It opens with comment lines ``# Key: value`` (``Start time:
  27.09.2023 10:21:14.922`` local time, newer exports also ``Start timestamp:`` in ms since
  1970 UTC; ``Duration``, ``Sensor insoles``, ``Size``, ``Name``, ``Notes``, ``Tag``), then a
  comment line naming the channels: ``# time<TAB>left pressure 1[N/cm²]<TAB>…``.
* ``time`` in seconds (100 frames/s in all four files; OpenGo also records at lower rates).
  Per insole: ``pressure 1`` … ``pressure 16`` [N/cm²], acceleration [g], angular rate [dps],
  ``total force[N]``, ``center of pressure X`` and ``Y`` [-0.5…+0.5]; optional ``steps[]`` (its
  own step detection) and event columns (``<group> label[]`` text, then ``<group>[]``).
* The two insoles' data are merged on one time axis, so rows where one insole has no sample
  hold empty cells for all its channels: at the start and end, and now and then inside.

How forces and positions are found
----------------------------------
An insole cell reports pressure, so force = pressure × the cell's area. The areas are not in
the file, but the file's ``total force`` is exactly Σ pressure × area: a least-squares fit of
the 16 areas to it leaves 0.3 N rms (the total's rounding to 1 N) in all eight insole-recordings.
The relative areas came out the same in sizes 3 and 7 (within 1 %; Moticon: "with different
sizes, the sensors scale in the same way as the sensor insole outlines, including the sensor
areas and centers", moticon.com, shoe-size independent foot pressure analysis). So the
importer keeps the relative areas (``REL_AREA``) and fits one scale per insole and file to its
total force (204.8 cm² in all for size 7, 144.0 for size 3), and refuses a file whose total
does not match (another insole generation: use the generic CSV import with your own layout).

The exported COP is exactly the area-weighted mean of fixed sensor centres (the same fit:
< 1e-4 rms), which gives the centres (``CENTRES``) in Moticon's normalised, size- and
side-independent frame. Its X runs along the foot (heel −0.5 → toe +0.5): sensors 1–4 (X ≈
−0.4, −0.27) load first at every heel strike of the walking recordings and 14 (X = 0.41) last
at toe-off. Its Y runs across, +Y medial: the metatarsal heads 9–13 lie on an arc whose most
proximal end (13, X = 0.17, the fifth metatarsal head) is at Y = −0.46; the hallux cell 14 is
at +0.18 with the first metatarsal head 9 (+0.27); and cell 7 (+0.24, under the medial arch)
carries almost nothing in walking, while 8 (−0.39) does. Left and right have the same centres.
Mapped to the project's frame: ``y = X + 0.5``, ``x = 0.5 − Y``. The frame is the insole's
outline, which is close to, but a little longer than, the foot.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import FileFormatError, UsageError
from ..layout import Layout, Sensor
from .recording import Recording, check_mass, check_time, gap_note
from .table import TextTable
from .units import force_unit

N_CELLS = 16
#: relative area of cells 1-16 (sum 1), fitted as the module docstring says
REL_AREA = np.array([0.0603, 0.0538, 0.0651, 0.0641, 0.0640, 0.0635, 0.0879, 0.0888,
                     0.0764, 0.0606, 0.0610, 0.0618, 0.0502, 0.0495, 0.0612, 0.0317])
#: cell centres in Moticon's COP frame: (X along the foot, Y across, +medial), -0.5..+0.5
CENTRES = ((-0.404, 0.109), (-0.417, -0.166), (-0.266, 0.089), (-0.287, -0.225),
           (-0.125, 0.061), (-0.152, -0.273), (0.081, 0.243), (-0.012, -0.392),
           (0.256, 0.274), (0.241, 0.064), (0.226, -0.116), (0.207, -0.294),
           (0.170, -0.462), (0.413, 0.178), (0.408, -0.082), (0.359, -0.313))
#: how far a file's total force may stray from Σ pressure × area: N, and share of its 95th percentile
FIT_TOLERANCE_N, FIT_TOLERANCE_SHARE = 5.0, 0.02
_PRESSURE = re.compile(r"^(left|right) pressure (\d+)\s*\[(.*)\]$")
_EVENT_LABEL = re.compile(r"^(.*) label\[\]$")
SIDES = ("left", "right")


def layout(feet: tuple[str, ...] = SIDES) -> Layout:
    """Cells 1-16 of each foot (``L1``…``L16``, ``R1``…) at their centres in the project's frame."""
    return Layout(Sensor(f"{foot[0].upper()}{i + 1}", foot, round(0.5 - cy, 3), round(cx + 0.5, 3))
                  for foot in feet for i, (cx, cy) in enumerate(CENTRES))


def looks_like(table_comments: list[str]) -> bool:
    """Whether a file's leading comment lines are an OpenGo export's."""
    return bool(table_comments) and table_comments[-1].startswith("time\t") and \
        any(_PRESSURE.match(n) for n in table_comments[-1].split("\t"))


def _header_fields(comments: list[str]) -> dict[str, str]:
    out = {}
    for c in comments[:-1]:
        key, sep, value = c.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


def _started_at(fields: dict[str, str]) -> str | None:
    stamp = fields.get("Start timestamp")
    if stamp and stamp.isdigit():
        dt = datetime.fromtimestamp(int(stamp) / 1000, tz=timezone.utc)
        return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return None


def read(path: str | Path, mass_kg: float | None = None, on_gap: str = "flag",
         progress: Callable[[int, int], None] | None = None) -> Recording:
    """Import one OpenGo text export (see the module docstring)."""
    table = TextTable(path, delimiter="\t", header="auto")
    file = table.file
    if not table.comments or not table.comments[-1].startswith("time\t"):
        got = f"'# {table.comments[-1][:40]}'" if table.comments else f"line {table.first_line} without one"
        raise FileFormatError(f"{file}: not a Moticon OpenGo text export: expected a '# time<TAB>…' channel line "
                              f"before the data, got {got}")
    table = TextTable(path, delimiter="\t", header="last-comment")
    cells: dict[str, dict[int, int]] = {s: {} for s in SIDES}
    units = set()
    for i, name in enumerate(table.names):
        m = _PRESSURE.match(name)
        if m:
            cells[m.group(1)][int(m.group(2))] = i
            units.add(m.group(3))
    feet = tuple(s for s in SIDES if cells[s])
    if not feet:
        has_total = any(n.endswith("total force[N]") for n in table.names)
        raise FileFormatError(f"{file}: no 'left/right pressure N[…]' channels"
                              + (" (exported with total force only?)" if has_total else "")
                              + ": the strike needs the 16 pressures of an insole; export them")
    for s in feet:
        if sorted(cells[s]) != list(range(1, N_CELLS + 1)):
            raise FileFormatError(f"{file}: line {table.header_line}: {s} pressure channels {sorted(cells[s])}, "
                                  f"expected 1-{N_CELLS}")
    if len(units) != 1:
        raise FileFormatError(f"{file}: line {table.header_line}: pressure channels in several units: {sorted(units)}")
    try:
        unit = force_unit(units.pop())
    except UsageError as e:              # the file's unit, not the user's option: a file problem
        raise FileFormatError(f"{file}: line {table.header_line}: {e}") from None
    if not unit.pressure:
        raise FileFormatError(f"{file}: line {table.header_line}: pressure channels in {unit.name}, not a pressure unit")
    totals = {}
    for s in feet:
        name = f"{s} total force[N]"
        if name not in table.names:
            raise FileFormatError(f"{file}: line {table.header_line}: no {name!r} channel; the importer needs it "
                                  f"to size the cells (export it too)")
        totals[s] = table.names.index(name)

    read_cols = [0] + [cells[s][k] for s in feet for k in range(1, N_CELLS + 1)] + [totals[s] for s in feet]
    values, line_no = table.read(read_cols, progress)
    nf = len(feet)
    pressure = values[:, 1:1 + nf * N_CELLS]
    total = values[:, 1 + nf * N_CELLS:]
    table.refuse_nan(values[:, :1], line_no, read_cols[:1])

    # Rows where an insole has no sample (its channels all empty) are left out: the export merges
    # two clocks. A half-empty row is an error. What is left out shows as a gap if it is long.
    present = np.ones(len(values), dtype=bool)
    for j, s in enumerate(feet):
        block = np.column_stack([pressure[:, j * N_CELLS:(j + 1) * N_CELLS], total[:, j]])
        empty = np.isnan(block)
        partial = empty.any(axis=1) & ~empty.all(axis=1)
        if partial.any():
            r = int(np.flatnonzero(partial)[0])
            k = int(np.flatnonzero(empty[r])[0])
            col = cells[s][k + 1] if k < N_CELLS else totals[s]
            raise FileFormatError(f"{file}: line {line_no[r]}, column {table.names[col]!r}: empty cell, while "
                                  f"other {s} channels of that line have values")
        present &= ~empty.all(axis=1)
    if not present.any():
        raise FileFormatError(f"{file}: no line has data from {' and '.join(feet)} insoles together")
    dropped = np.flatnonzero(~present)
    inside = int(np.sum((dropped > np.argmax(present)) & (dropped < len(present) - np.argmax(present[::-1]) - 1)))
    t, pressure, total, line_no = values[present, 0], pressure[present], total[present], line_no[present]
    t_s, rate, gaps = check_time(t, line_no, file, on_gap,
                                 advice="OpenGo exports time in seconds: is this an OpenGo export?")

    forces = np.empty_like(pressure)
    areas, fit = {}, {}
    for j, s in enumerate(feet):
        p = pressure[:, j * N_CELLS:(j + 1) * N_CELLS] * unit.to_n      # N per cm² of cell
        shape = p @ REL_AREA
        if not np.any(shape > 0):
            raise FileFormatError(f"{file}: the {s} insole carries no load in the whole file")
        scale = float(total[:, j] @ shape / (shape @ shape))
        rms = float(np.sqrt(np.mean((total[:, j] - scale * shape) ** 2)))
        limit = max(FIT_TOLERANCE_N, FIT_TOLERANCE_SHARE * float(np.percentile(total[:, j], 95)))
        if rms > limit:
            raise FileFormatError(f"{file}: the {s} pressures do not add up to the {s} total force with the OpenGo "
                                  f"cell areas ({rms:.1f} N rms, more than {limit:.1f}): an insole this importer does "
                                  f"not know; import it with --format csv and a layout of your own")
        forces[:, j * N_CELLS:(j + 1) * N_CELLS] = p * (scale * REL_AREA)
        areas[s] = [round(a, 3) for a in (scale * REL_AREA).tolist()]
        fit[s] = round(rms, 2)

    fields = _header_fields(table.comments)
    settings = {"pressure_unit": unit.name, "cell_areas_cm2": areas, "area_fit_rms_n": fit,
                "insole_size": fields.get("Size"), "insoles": fields.get("Sensor insoles"),
                "recorded_at_local": fields.get("Start time"), "name": fields.get("Name"),
                "tag": fields.get("Tag"), "rows_left_out": int(dropped.size), "time_first": float(t[0])}
    rec = Recording(file=file, format="moticon", t_s=t_s, force_n=forces, layout=layout(feet), rate_hz=rate,
                    settings=settings, gaps=gaps, body_mass_kg=check_mass(mass_kg, "--mass"),
                    started_at=_started_at(fields))
    rec.markers = _events(table, t[0])
    if dropped.size:
        rec.notes.append(f"{dropped.size} lines where only one insole had a sample were left out "
                         f"({dropped.size - inside} at the start and end, {inside} inside)")
    note = gap_note(gaps)
    if note:
        rec.notes.append(note)
    return rec


def _events(table: TextTable, t0: float) -> list[dict]:
    """Events set in the OpenGo Software (label columns) as session markers."""
    label_cols = [(i, m.group(1)) for i, n in enumerate(table.names) if (m := _EVENT_LABEL.match(n))]
    if not label_cols:
        return []
    markers = []
    text = table.path.read_text(encoding="utf-8", errors="replace").splitlines()
    for line in text:
        if line.startswith("#") or not line.strip():
            continue
        cells = line.split("\t")
        for i, group in label_cols:
            if i < len(cells) and cells[i].strip():
                markers.append({"t_s": round(float(cells[0]) - float(t0), 6), "label": f"{group}: {cells[i].strip()}"})
    return sorted(markers, key=lambda m: m["t_s"])
