"""The analysis scored on independently generated sessions (tests/independent_sessions.py).

    python bench/independent.py [--duration 120] [--seed 7] [--rates 200,500] [--layouts ...]
                                [--out /tmp/insole_independent] [--walk] [--cli]

One row per layout × rate × pattern (forefoot, midfoot, rearfoot, mixed) × direction (forward,
backward; a heel-first landing is not generated backward).  Each session is written by the
independent generator, read with ``analysis.session.read_session``, analysed with
``analysis.gait.analyse`` and scored with ``analysis.truth.score``.  ``--walk`` adds 100 Hz
heel-strike walking rows (informational: the targets are for running).  ``--cli`` also runs
``insole report DIR --json`` and checks its landing count and cadence against the batch API.

Targets (issue acceptance): agreement ≥ 98 % forefoot and rearfoot, ≥ 90 % midfoot; ≥ 99.5 %
of true landings found and ≤ 0.5 % extra (matched within 20 ms); median contact-time error
≤ 1 frame; cadence within 1 %.  Every session folder is kept under ``--out``; the paths of rows
that miss a target are printed at the end.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from analysis.gait import analyse                          # noqa: E402
from analysis.session import read_session                  # noqa: E402
from analysis.truth import score                           # noqa: E402
from independent_sessions import LAYOUTS, write_session    # noqa: E402

AGREE_TARGET = {"forefoot": 98.0, "midfoot": 90.0, "rearfoot": 98.0}
FOUND_MIN, EXTRA_MAX, CONTACT_FRAMES_MAX, CADENCE_MAX = 99.5, 0.5, 1.0, 1.0

CASES = [("forefoot", "forward"), ("midfoot", "forward"), ("rearfoot", "forward"), ("mixed", "forward"),
         ("forefoot", "backward"), ("midfoot", "backward"), ("mixed", "backward")]


def misses(sc: dict) -> list[str]:
    """The targets that a score dict misses, as short labels."""
    out = []
    if sc["found_pct"] is None or sc["found_pct"] < FOUND_MIN:
        out.append("found")
    if sc["extra_pct"] is None or sc["extra_pct"] > EXTRA_MAX:
        out.append("extra")
    for cls, target in AGREE_TARGET.items():
        a = sc["agree_pct"].get(cls)
        if a is not None and a < target:
            out.append(cls[:4])
    c = sc["contact_err_frames_median"]
    if c is None or c > CONTACT_FRAMES_MAX:
        out.append("contact")
    e = sc["cadence_err_pct"]
    if e is None or e > CADENCE_MAX:
        out.append("cadence")
    return out


def run_case(folder: Path, layout_name: str, rate: float, pattern: str, direction: str,
             duration: float, seed: int) -> dict:
    """Write one session, analyse it, return its score (plus the folder)."""
    write_session(folder, pattern=pattern, direction=direction, duration_s=duration, rate_hz=rate,
                  layout_name=layout_name, seed=seed)
    s = read_session(folder)
    found = analyse(s.t_s, s.values, s.layout, s.rate_hz, s.body_mass_kg)
    sc = score(found, s.truth, s.layout.feet, s.rate_hz)
    sc["folder"] = str(folder)
    return sc


def cli_check(folder: Path, sc: dict) -> str:
    """``insole report DIR --json`` against the batch API: '' if consistent, else a note."""
    exe = ROOT / ".venv" / "bin" / "insole"
    p = subprocess.run([str(exe), "report", str(folder), "--json"], capture_output=True, text=True)
    if p.returncode != 0:
        return f"cli exit {p.returncode}: {p.stderr.strip()[:80]}"
    rep = json.loads(p.stdout)
    notes = []
    if rep.get("landings") != sc["found"]:
        notes.append(f"cli landings {rep.get('landings')} != api {sc['found']}")
    cad = rep.get("cadence_spm")
    if cad is None or abs(cad - sc["cadence_true"]) > 0.01 * sc["cadence_true"]:
        notes.append(f"cli cadence {cad} vs true {sc['cadence_true']}")
    return "; ".join(notes)


def fmt(v, spec="6.1f"):
    return format(v, spec) if v is not None else " " * (int(spec.split(".")[0]) - 1) + "-"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=120.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rates", default="200,500")
    ap.add_argument("--layouts", default=",".join(LAYOUTS))
    ap.add_argument("--out", default="/tmp/insole_independent")
    ap.add_argument("--walk", action="store_true", help="add 100 Hz walking rows (informational)")
    ap.add_argument("--cli", action="store_true", help="also check `insole report --json` on every session")
    a = ap.parse_args(argv)
    rates = [float(r) for r in a.rates.split(",") if r]
    out = Path(a.out)

    rows = []
    for lay in a.layouts.split(","):
        for rate in rates:
            for pattern, direction in CASES:
                rows.append((lay, rate, pattern, direction, False))
        if a.walk:
            rows.append((lay, 100.0, "walk", "forward", True))

    head = (f"{'layout':7} {'Hz':>4} {'pattern':8} {'dir':8} {'true':>5} {'found%':>7} {'extra%':>7} "
            f"{'fore%':>6} {'mid%':>6} {'rear%':>6} {'ct_err_fr':>9} {'onset_ms':>8} {'cad_err%':>8}  miss")
    print(head)
    print("-" * len(head))
    failing, n_miss, n_extra_rows_miss = [], 0, 0
    t0 = time.time()
    for lay, rate, pattern, direction, extra_row in rows:
        seed = a.seed * 1000 + zlib.crc32(f"{lay}/{rate}/{pattern}/{direction}".encode()) % 1000
        folder = out / f"{lay}_{int(rate)}hz_{pattern}_{direction}_s{seed}"
        sc = run_case(folder, lay, rate, pattern, direction, a.duration, seed)
        m = misses(sc)
        note = cli_check(folder, sc) if a.cli else ""
        ag = sc["agree_pct"]
        print(f"{lay:7} {int(rate):4d} {pattern:8} {direction:8} {sc['true']:5d} {fmt(sc['found_pct'], '7.2f')} "
              f"{fmt(sc['extra_pct'], '7.2f')} {fmt(ag['forefoot'])} {fmt(ag['midfoot'])} {fmt(ag['rearfoot'])} "
              f"{fmt(sc['contact_err_frames_median'], '9.2f')} {fmt(sc['onset_err_ms_median'], '8.2f')} "
              f"{fmt(sc['cadence_err_pct'], '8.2f')}  {','.join(m) or 'ok'}{' (walk, info)' if extra_row else ''}"
              f"{'  ' + note if note else ''}", flush=True)
        if m:
            if extra_row:
                n_extra_rows_miss += 1
            else:
                n_miss += 1
            failing.append(sc["folder"])
    n_rows = sum(1 for r in rows if not r[4])
    print(f"\n{n_miss} of {n_rows} running rows miss a target"
          + (f"; {n_extra_rows_miss} of {len(rows) - n_rows} walking rows (informational)" if a.walk else "")
          + f"  ({a.duration:.0f}-s sessions, seed {a.seed}, {time.time() - t0:.0f} s)")
    if failing:
        print("sessions that miss a target:")
        for f in failing:
            print("  " + f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
