"""Accuracy against the truth, every pattern × direction: prints the acceptance figures.

    python bench/accuracy.py [--duration 120] [--seed 1] [--out DIR]

Each session is written by ``insole simulate`` (the live streaming pipeline, whose landings
are in landings.csv) and then re-analysed with the batch core as ``insole report`` does; both
are scored against truth.csv. Targets (issue 2): classification ≥ 98 % forefoot and rearfoot,
≥ 90 % midfoot; ≥ 99.5 % found, ≤ 0.5 % extra (matched within 20 ms); median contact-time error
≤ 1 frame; cadence within 1 %.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.gait import analyse            # noqa: E402
from analysis.session import read_session    # noqa: E402
from analysis.truth import score             # noqa: E402
from pi.kit import load_kit                  # noqa: E402
from pi.simulated_session import simulate             # noqa: E402
from pi.simulator import SimSettings         # noqa: E402

TARGET = {"forefoot": 98.0, "midfoot": 90.0, "rearfoot": 98.0}


def evaluate(folder: Path) -> tuple[dict, dict]:
    s = read_session(folder)
    batch = analyse(s.t_s, s.values, s.layout, s.rate_hz, s.body_mass_kg)
    feet = s.layout.feet
    return score(s.landings, s.truth, feet, s.rate_hz), score(batch, s.truth, feet, s.rate_hz)


def verdict(sc: dict) -> list[str]:
    bad = []
    for cls, pct in sc["agree_pct"].items():
        if pct is not None and pct < TARGET[cls]:
            bad.append(f"{cls} {pct}%")
    if sc["found_pct"] < 99.5:
        bad.append(f"found {sc['found_pct']}%")
    if sc["extra_pct"] > 0.5:
        bad.append(f"extra {sc['extra_pct']}%")
    if sc["contact_err_frames_median"] > 1:
        bad.append(f"contact err {sc['contact_err_frames_median']} frames")
    if sc["cadence_err_pct"] is None or sc["cadence_err_pct"] > 1:
        bad.append(f"cadence err {sc['cadence_err_pct']}%")
    return bad


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=120.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", help="keep the sessions here")
    args = ap.parse_args()
    kit = load_kit()
    root = Path(args.out or tempfile.mkdtemp(prefix="insole-accuracy-"))
    hdr = f"{'pattern':9} {'dir':8} {'form':6} {'true':>5} {'found%':>7} {'extra%':>7} {'fore%':>6} {'mid%':>6} {'rear%':>6} {'ct err fr':>9} {'on err ms':>9} {'cad err%':>8}  verdict"
    print(hdr)
    failures = 0
    for pattern in ("forefoot", "midfoot", "rearfoot", "mixed"):
        for direction in ("forward", "backward"):
            folder = root / f"{pattern}-{direction}"
            simulate(folder, args.duration, SimSettings(pattern=pattern, direction=direction, seed=args.seed,
                                                        body_mass_kg=kit.body_mass_kg or 70.0), kit)
            for form, sc in zip(("live", "batch"), evaluate(folder)):
                a = sc["agree_pct"]
                bad = verdict(sc)
                failures += bool(bad)
                f = lambda v: "–" if v is None else f"{v:.1f}"
                print(f"{pattern:9} {direction:8} {form:6} {sc['true']:>5} {sc['found_pct']:>7.2f} {sc['extra_pct']:>7.2f} "
                      f"{f(a['forefoot']):>6} {f(a['midfoot']):>6} {f(a['rearfoot']):>6} "
                      f"{sc['contact_err_frames_median']:>9.2f} {sc['onset_err_ms_median']:>9.2f} {f(sc['cadence_err_pct']):>8}  "
                      + ("ok" if not bad else "FAIL: " + ", ".join(bad)))
    print(f"\n{failures} of 16 rows miss a target" if failures else "\nall targets met")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
