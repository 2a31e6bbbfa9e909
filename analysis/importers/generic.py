"""Any CSV/TSV of per-sensor forces (or pressures) over time, given a layout file.

The layout file is TOML with one ``[[sensor]]`` table per imported column, in the order the
session will keep them, with the keys of the kit file's sensors::

    [[sensor]]
    name = "L_heel"          # the sensor's name in the session
    column = "Heel left"     # the file's column: header name or 1-based number (default: name)
    foot = "left"            # left | right
    x = 0.5                  # 0 medial edge … 1 lateral edge (fraction of the foot's width)
    y = 0.08                 # 0 back of the heel … 1 tip of the longest toe
    area_cm2 = 3.2           # only with pressure units: force = pressure × area

Columns the layout does not name are left out (and listed in a note). Time is the column named
``time``, ``t``, ``t_s``, ``time_s``, ``time_ms`` or ``timestamp`` (any case, with or without a
``[unit]``), or the one ``time_column`` names; its unit is ``time_units``, else the one its
header says (``ms`` in ``time_ms`` or ``time [ms]``), else seconds. A file without a time column
needs ``rate_hz``. Every value must be a finite number: an empty cell or NaN is refused with its
line and column (a system that drops samples should leave the row out; the gap is then found).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..checks import Checker, load_toml
from ..errors import UsageError
from ..layout import Layout, Sensor
from .recording import Recording, check_mass, check_time, gap_note
from .table import DELIMITERS, TextTable
from .units import force_unit, time_factor

_KEYS = {"": ("sensor",), "sensor": ("name", "column", "foot", "x", "y", "area_cm2")}
TIME_NAMES = ("time", "t", "t_s", "time_s", "time_ms", "timestamp")
_UNIT_IN_NAME = re.compile(r"^\s*(.*?)\s*(?:[\[(]\s*([^\])]*?)\s*[\])])?\s*$")


@dataclass(frozen=True)
class LayoutEntry:
    name: str
    column: str | int
    foot: str
    x: float
    y: float
    area_cm2: float | None


def read_layout(path: str | Path, pressure: bool) -> list[LayoutEntry]:
    """Read and check a layout file; every mistake names the file, the entry and the key."""
    c = Checker(str(path), _KEYS)
    data = load_toml(path, "the layout file")
    c.table(data, "", "")
    entries, names, columns = [], {}, {}
    for i, raw in enumerate(c.array(data, "sensor")):
        t, where, name, foot, x, y = c.sensor(i, raw, names)
        column = t.get("column", name)
        if isinstance(column, bool) or not isinstance(column, (str, int)) or column == "" or \
                (isinstance(column, int) and column < 1):
            c.expect(f"{where}.column", "the file's column: its header name or its number from 1", column)
        if column in columns:
            c.fail(f"{where}.column", f"column {column!r} is already read by {columns[column]}")
        columns[column] = where
        area = t.get("area_cm2")
        if pressure:
            area = float(c.number(c.need(t, "area_cm2", where, "the sensor's area in cm² (pressure units)"),
                                  f"{where}.area_cm2", "a positive area in cm²", lambda v: v > 0))
        elif area is not None:
            c.fail(f"{where}.area_cm2", "only used with pressure units (kPa, N/cm2, MPa, psi); these "
                                        "values are forces")
        entries.append(LayoutEntry(name, column, foot, x, y, area))
    return entries


def _bare_name(header: str) -> tuple[str, str | None]:
    """``"time [ms]"`` → ``("time", "ms")``; ``"time_ms"`` → ``("time_ms", "ms")``."""
    m = _UNIT_IN_NAME.match(header)
    base, unit = (m.group(1), m.group(2)) if m else (header, None)
    if unit is None and base.casefold().endswith("_ms"):
        unit = "ms"
    return base.casefold(), unit


def read(path: str | Path, layout: str | Path, units: str, time_column: str | None = None,
         time_units: str | None = None, delimiter: str = "auto", rate_hz: float | None = None,
         on_gap: str = "flag", mass_kg: float | None = None,
         progress: Callable[[int, int], None] | None = None) -> Recording:
    """Import a CSV/TSV file of per-sensor forces or pressures (see the module docstring)."""
    unit = force_unit(units)
    if delimiter not in DELIMITERS:
        raise UsageError(f"unknown delimiter {delimiter!r}; known: {', '.join(DELIMITERS)}")
    if time_units is not None:
        time_factor(time_units)              # an unknown unit is a usage error before any reading
    entries = read_layout(layout, unit.pressure)
    table = TextTable(path, DELIMITERS[delimiter])
    file = table.file
    if time_column is not None and rate_hz is not None:
        raise UsageError("give --time-column or --rate, not both")
    t_col = None
    if time_column is not None:
        t_col = table.column_index(time_column, "--time-column")
    elif rate_hz is None:
        found = [i for i, n in enumerate(table.names) if _bare_name(n)[0] in TIME_NAMES]
        if not found:
            raise UsageError(f"{file}: no time column (a header named {', '.join(TIME_NAMES)}); name it with "
                             f"--time-column NAME|NUMBER, or give --rate HZ if the file has none"
                             f"{table.header_hint()}")
        t_col = found[0]
    cols = [table.column_index(e.column, f"sensor {e.name!r} of {Path(layout).name}") for e in entries]
    if t_col is not None and t_col in cols:
        raise UsageError(f"{file}: column {table.names[t_col]!r} is both the time and sensor "
                         f"{entries[cols.index(t_col)].name!r}")
    read_cols = ([t_col] if t_col is not None else []) + cols
    values, line_no = table.read(read_cols, progress)
    table.refuse_nan(values, line_no, read_cols)
    settings = {"layout": str(layout), "units": unit.name, "delimiter": _delimiter_name(table.delimiter),
                "columns": {e.name: table.names[c] for e, c in zip(entries, cols)}}
    if t_col is not None:
        t_units = time_units or _bare_name(table.names[t_col])[1] or "s"
        t = values[:, 0] * time_factor(t_units)
        settings.update(time_column=table.names[t_col], time_units=t_units, time_first=float(values[0, 0]))
        forces = values[:, 1:]
        t_s, rate, gaps = check_time(t, line_no, file, on_gap, column=f"time ({table.names[t_col]!r})",
                                     repeat_hint=" (written with too few decimals? --rate HZ numbers the rows instead)")
    else:
        if not 0 < rate_hz <= 20000:
            raise UsageError(f"--rate must be above 0 and at most 20000 frames/s, got {rate_hz:g}")
        t_s, rate, gaps = np.arange(len(values)) / rate_hz, float(rate_hz), []
        settings.update(rate_hz_given=rate_hz)
        forces = values
    scale = np.array([unit.to_n * (e.area_cm2 if unit.pressure else 1.0) for e in entries])
    if unit.pressure:
        settings["areas_cm2"] = {e.name: e.area_cm2 for e in entries}
    layout_obj = Layout(Sensor(e.name, e.foot, e.x, e.y) for e in entries)
    rec = Recording(file=file, format="csv", t_s=t_s, force_n=forces * scale, layout=layout_obj, rate_hz=rate,
                    settings=settings, gaps=gaps, body_mass_kg=check_mass(mass_kg, "--mass"))
    unused = [n for i, n in enumerate(table.names) if i not in read_cols and n]
    if unused:
        shown = ", ".join(repr(n) for n in unused[:6]) + (", …" if len(unused) > 6 else "")
        rec.notes.append(f"{len(unused)} column{'s' if len(unused) > 1 else ''} not in the layout, left out: {shown}")
    note = gap_note(gaps)
    if note:
        rec.notes.append(note)
    return rec


def _delimiter_name(d: str | None) -> str:
    return next(k for k, v in DELIMITERS.items() if v == d)
