"""Speed of `insole import` on long files: prints seconds to read, to write, and in all.

    python bench/import_speed.py

Two files are made in a temporary folder: one hour of a gaitpdb recording (100 frames/s,
360 000 lines of 19 numbers) and a million-line CSV (8 sensors at 200 frames/s, 83 minutes).
Target: a one-hour file imported in seconds.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.importers import gaitpdb, generic, write_session   # noqa: E402


def make_gaitpdb(path: Path, n: int) -> None:
    rng = np.random.default_rng(0)
    t = np.arange(n) / 100.0
    sensors = np.abs(rng.normal(200, 80, (n, 16)))
    data = np.column_stack([t, sensors, sensors[:, :8].sum(axis=1), sensors[:, 8:].sum(axis=1)])
    np.savetxt(path, data, fmt=["%.4f"] + ["%.2f"] * 18, delimiter="\t", newline="\r\n")


def make_csv(path: Path, n: int) -> Path:
    rng = np.random.default_rng(1)
    names = ["L_heel", "L_midlat", "L_mt5", "L_mt1", "R_heel", "R_midlat", "R_mt5", "R_mt1"]
    data = np.column_stack([np.arange(n) / 200.0, np.abs(rng.normal(300, 100, (n, 8)))])
    np.savetxt(path, data, fmt=["%.5f"] + ["%.3f"] * 8, delimiter=",", header="time," + ",".join(names), comments="")
    layout = path.with_suffix(".toml")
    layout.write_text("".join(f'[[sensor]]\nname = "{n}"\nfoot = "{"left" if n[0] == "L" else "right"}"\n'
                              f"x = 0.5\ny = {0.1 + 0.1 * (i % 4)}\n\n" for i, n in enumerate(names)))
    return layout


def timed(label: str, path: Path, read, out: Path) -> None:
    t0 = time.perf_counter()
    rec = read()
    t1 = time.perf_counter()
    write_session(rec, out)
    t2 = time.perf_counter()
    mb = path.stat().st_size / 1e6
    print(f"{label:<38} {len(rec.t_s):>9} lines {mb:6.0f} MB   read {t1 - t0:5.1f} s   write {t2 - t1:5.1f} s"
          f"   in all {t2 - t0:5.1f} s")


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="insole-import-speed-"))
    try:
        g = tmp / "GaCo99_01.txt"
        make_gaitpdb(g, 360_000)
        timed("gaitpdb, 1 hour at 100 frames/s", g, lambda: gaitpdb.read(g, mass_kg=70), tmp / "g")
        c = tmp / "big.csv"
        layout = make_csv(c, 1_000_000)
        timed("CSV, 8 sensors, 1 M lines (200 frames/s)", c, lambda: generic.read(c, layout, "N"), tmp / "c")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
