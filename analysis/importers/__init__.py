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

from pathlib import Path

from .recording import Recording, write_session  # noqa: F401
from .table import TextTable

FORMATS = ("csv", "gaitpdb", "moticon")


def detect(path: str | Path) -> str | None:
    """``"moticon"`` or ``"gaitpdb"`` if the file's start looks like one, else None."""
    from . import gaitpdb, moticon
    table = TextTable(path, delimiter=None, header="auto")
    if moticon.looks_like(table.comments):
        return "moticon"
    if not table.has_header and not table.comments and len(table.names) == gaitpdb.N_COLUMNS:
        return "gaitpdb"
    return None
