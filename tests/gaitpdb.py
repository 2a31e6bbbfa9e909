"""Where the PhysioNet gaitpdb recordings are for tests (shared/data/gaitpdb, never committed);
they are read through the importer, the one place that knows the format."""

from __future__ import annotations

from pathlib import Path

from analysis.importers import gaitpdb as importer
from analysis.importers.recording import Recording

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "gaitpdb"


def load(name: str) -> Recording:
    """One recording: ``t_s``, ``force_n`` (n, 16) N, ``layout``, ``rate_hz``, ``body_mass_kg``."""
    return importer.read(DATA / name)
