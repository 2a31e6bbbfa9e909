"""Scoring found landings against true ones (simulated sessions' ``truth.csv``).

A found landing matches a true one of the same foot when their initial contacts are within
``tol_s`` (20 ms); each true landing matches at most one found landing (nearest first).
"""

from __future__ import annotations


import numpy as np

from .measures import _get
from .strike import STRIKES
from .summary import summarise


def match(found: list, truth: list, tol_s: float = 0.020) -> list[tuple[int, int]]:
    """Pairs (index in ``found``, index in ``truth``) of matched landings."""
    pairs = []
    for foot in {_get(l, "foot") for l in truth} | {_get(l, "foot") for l in found}:
        fi = [i for i, l in enumerate(found) if _get(l, "foot") == foot]
        ti = [i for i, l in enumerate(truth) if _get(l, "foot") == foot]
        if not fi or not ti:
            continue
        ft = np.array([_get(found[i], "t_on_s") for i in fi])
        tt = np.array([_get(truth[i], "t_on_s") for i in ti])
        cand = []
        for a, t in enumerate(tt):
            j = int(np.searchsorted(ft, t))
            for b in (j - 1, j):
                if 0 <= b < len(ft) and abs(ft[b] - t) <= tol_s:
                    cand.append((abs(ft[b] - t), b, a))
        used_f, used_t = set(), set()
        for _, b, a in sorted(cand):
            if b not in used_f and a not in used_t:
                used_f.add(b)
                used_t.add(a)
                pairs.append((fi[b], ti[a]))
    return sorted(pairs, key=lambda p: p[1])


def score(found: list, truth: list, feet, rate_hz: float, tol_s: float = 0.020) -> dict:
    """Detection and classification figures of ``found`` against ``truth``.

    Returns ``found_pct`` (true landings matched), ``extra_pct`` (unmatched found landings, % of
    the true count), per-class agreement ``agree_pct[class]`` (of true landings of that class,
    matched ones classified the same), ``contact_err_frames_median`` (|found − true| contact
    time, frames), and the cadence of each (same definition, contract 3).
    """
    pairs = match(found, truth, tol_s)
    n_true, n_found = len(truth), len(found)
    agree = {}
    for cls in STRIKES:
        ps = [(f, t) for f, t in pairs if _get(truth[t], "strike") == cls]
        agree[cls] = round(100.0 * sum(_get(found[f], "strike") == cls for f, t in ps) / len(ps), 2) if ps else None
    errs = [abs(_get(found[f], "contact_ms") - _get(truth[t], "contact_ms")) for f, t in pairs]
    cad_found = summarise(found, feet)["cadence_spm"]
    cad_true = summarise(truth, feet)["cadence_spm"]
    return {
        "true": n_true, "found": n_found, "matched": len(pairs),
        "found_pct": round(100.0 * len(pairs) / n_true, 2) if n_true else None,
        "extra_pct": round(100.0 * (n_found - len(pairs)) / n_true, 2) if n_true else None,
        "agree_pct": agree,
        "contact_err_frames_median": round(float(np.median(errs)) * rate_hz / 1000.0, 3) if errs else None,
        "onset_err_ms_median": round(float(np.median([abs(_get(found[f], "t_on_s") - _get(truth[t], "t_on_s"))
                                                       for f, t in pairs])) * 1000, 2) if pairs else None,
        "cadence_found": cad_found, "cadence_true": cad_true,
        "cadence_err_pct": round(100.0 * abs(cad_found - cad_true) / cad_true, 3) if cad_found and cad_true else None,
    }
