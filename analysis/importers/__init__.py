"""Importers: other systems' recordings → session folders (DESIGN.md contract 2).

One module per format, each with a ``read(path, …) -> Recording``:

* :mod:`.generic` (``csv``): any CSV/TSV of per-sensor forces or pressures, with a layout file;
* :mod:`.gaitpdb`: PhysioNet's Gait in Parkinson's Disease insole recordings;
* :mod:`.moticon`: the text export of Moticon's OpenGo insoles.

:func:`detect` tells the two presets from their content; :func:`~.recording.write_session`
writes any :class:`~.recording.Recording` as a session folder that ``insole report`` reads like a
logged one.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Callable

from ..errors import UsageError
from .recording import Recording, write_session  # noqa: F401
from .table import TextTable


@dataclass(frozen=True)
class ImportOptions:
    """What an import may be told beside the file; each format takes the ones its
    :class:`Importer` lists (``mass_kg`` and ``on_gap`` every format)."""

    mass_kg: float | None = None          # the subject's body mass, kg
    on_gap: str = "flag"                  # a break in time: "flag" (a gap) or "error"
    layout: str | None = None             # csv: the layout file (a position per column)
    units: str | None = None              # csv: the values' unit
    time_column: str | None = None        # csv
    time_units: str | None = None         # csv
    delimiter: str | None = None          # csv ("auto" when None)
    rate_hz: float | None = None          # csv: frames/s, where the file has no time column
    demographics: str | None = None       # gaitpdb: PhysioNet's demographics file


COMMON = ("mass_kg", "on_gap")


@dataclass(frozen=True)
class Importer:
    """One format: its ``name``, the options it takes beyond :data:`COMMON`, ``looks_like``
    (whether a file's start, as a :class:`~.table.TextTable`, is of this format; None: it cannot
    be told from the content) and ``read(path, options, progress) -> Recording``."""

    name: str
    options: tuple[str, ...]
    looks_like: Callable[[TextTable], bool] | None
    read: Callable[..., Recording]


def _read_csv(path, o: ImportOptions, progress=None) -> Recording:
    from . import generic
    if not o.layout or not o.units:
        raise UsageError("--format csv needs --layout FILE (a position per column) and --units "
                         "(N, kN, kgf, lbf; or kPa, N/cm2, MPa, psi with area_cm2 in the layout)")
    return generic.read(path, o.layout, o.units, time_column=o.time_column, time_units=o.time_units,
                        delimiter=o.delimiter or "auto", rate_hz=o.rate_hz, on_gap=o.on_gap, mass_kg=o.mass_kg,
                        progress=progress)


def _read_gaitpdb(path, o: ImportOptions, progress=None) -> Recording:
    from . import gaitpdb
    return gaitpdb.read(path, mass_kg=o.mass_kg, demographics=o.demographics, on_gap=o.on_gap, progress=progress)


def _looks_gaitpdb(table: TextTable) -> bool:
    from . import gaitpdb
    return not table.has_header and not table.comments and len(table.names) == gaitpdb.N_COLUMNS


def _read_moticon(path, o: ImportOptions, progress=None) -> Recording:
    from . import moticon
    return moticon.read(path, mass_kg=o.mass_kg, on_gap=o.on_gap, progress=progress)


def _looks_moticon(table: TextTable) -> bool:
    from . import moticon
    return moticon.looks_like(table.comments)


#: the formats, by name; detection tries them in this order
IMPORTERS = {i.name: i for i in (
    Importer("moticon", (), _looks_moticon, _read_moticon),
    Importer("gaitpdb", ("demographics",), _looks_gaitpdb, _read_gaitpdb),
    Importer("csv", ("layout", "units", "time_column", "time_units", "delimiter", "rate_hz"), None, _read_csv),
)}
FORMATS = tuple(sorted(IMPORTERS))
OPTION_NAMES = tuple(f.name for f in fields(ImportOptions))


def detect(path: str | Path) -> str | None:
    """The format whose ``looks_like`` the file's start fits, else None."""
    table = TextTable(path, delimiter=None, header="auto")
    return next((i.name for i in IMPORTERS.values() if i.looks_like is not None and i.looks_like(table)), None)


def read(path: str | Path, fmt: str, options: ImportOptions = ImportOptions(), progress=None) -> Recording:
    """Read ``path`` as format ``fmt``; an option given that the format does not take is refused
    (``UsageError`` naming both)."""
    imp = IMPORTERS[fmt]
    for name in OPTION_NAMES:
        if name not in COMMON and name not in imp.options and getattr(options, name) is not None:
            takes = [i.name for i in IMPORTERS.values() if name in i.options]
            raise UsageError(f"--{name.replace('_', '-').replace('-hz', '')} is for --format {' or '.join(takes)}, "
                             f"not {fmt}")
    return imp.read(path, options, progress)
