"""The comparison page: ``compare.html`` (figures embedded), the PNGs and ``compare.json``.

Figures: the difference B − A of each measure with its 95 % interval; the mean COP path of
each session over the insole (A solid, B dashed; the arrow shows the direction of travel); the
strike-index histograms of both.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np

from .compare import CI_LEVEL, RESAMPLES, Row, block_length, signed, warnings
from .html_report import _fmt, output_folder, png_bytes, write_file_atomic
from .layout import FOREFOOT_FROM, REARFOOT_BELOW
from .load import LoadedSession
from .plots import (STRIKE_COLOUR, STRIKE_LABEL, STRIKE_MARKER, _style, arrow, draw_insole, pyplot,
                    quiet_nan, resample_path, shade_heel_lag_band, to_drawing)
from .strike import STRIKES

SIDE_GREY = {"A": "0.15", "B": "0.5"}      # sides by line and grey; colours stay the classes'
SIDE_LINE = {"A": "-", "B": "--"}


def fig_differences(rows: list[Row], name_a: str, name_b: str):
    """One small panel per measure: A and B (points) and B − A with its interval."""
    plt = pyplot()
    fig, axes = plt.subplots(len(rows), 1, figsize=(9.5, 0.95 * len(rows) + 0.9))
    for ax, r in zip(np.atleast_1d(axes), rows):
        m = r.measure
        ax.set_yticks([])
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        ax.grid(True, axis="x", color="0.9")
        ax.set_title(f"{m.label}" + (f" ({m.unit})" if m.unit else "") + f":  A {_fmt(r.a, digits=m.digits)}   B {_fmt(r.b, digits=m.digits)}",
                     loc="left", fontsize=9)
        if r.diff is None:
            ax.text(0.5, 0.3, "not available for both", transform=ax.transAxes, ha="center", fontsize=8, color="0.4")
            ax.set_xticks([])
            continue
        ax.axvline(0, color="black", linewidth=0.8)
        if r.lo is not None:
            ax.plot([r.lo, r.hi], [0, 0], color="0.2", linewidth=2.4, solid_capstyle="butt")
            ax.plot([r.lo, r.hi], [0, 0], "|", color="0.2", ms=12)
        # the verdict by fill and in words, not by colour alone
        ax.plot(r.diff, 0, "D", mfc="black" if r.differs else "white", mec="black", ms=8)
        ax.set_title(ax.get_title(loc="left") + ("   → differs" if r.differs else
                     ("   → no clear difference" if r.differs is False else "")), loc="left", fontsize=9)
        span = max(abs(x) for x in (r.diff, r.lo or 0, r.hi or 0)) or 1.0
        ax.set_xlim(-1.15 * span, 1.15 * span)
        ax.set_ylim(-1, 1)
    fig.suptitle(f"B − A with its {CI_LEVEL:.0%} interval (block bootstrap; filled: the interval excludes 0)"
                 f"\nA = {name_a},  B = {name_b}", fontsize=9.5)
    fig.tight_layout()
    return fig


def fig_cop(a: LoadedSession, b: LoadedSession, name_a: str, name_b: str):
    """Mean COP path per class (a class with at least 10 % of a side's landings), per foot: the
    class by colour and symbol as in the report, the side by line (A solid, B dashed); arrows
    show the direction of travel."""
    plt = pyplot()
    feet = [f for f in ("left", "right") if f in a.feet or f in b.feet]
    fig, axes = plt.subplots(1, len(feet), figsize=(3.6 * len(feet) + 1.6, 6.4), squeeze=False)
    for ax, foot in zip(axes[0], feet):
        draw_insole(ax, a if foot in a.feet else b, foot)
        for side, s, name in (("A", a, name_a), ("B", b, name_b)):
            mine = s.landings_of(foot)
            for strike in STRIKES:
                paths = [resample_path(l.cop_path) for l in mine if l.strike == strike]
                if not paths or len(paths) < 0.1 * len(mine):
                    continue
                with quiet_nan():
                    mean = np.nanmean(np.array(paths), axis=0)
                x, y = to_drawing(mean[:, 0], mean[:, 1], foot)
                ax.plot(x, y, SIDE_LINE[side], color=STRIKE_COLOUR[strike], linewidth=2.6, marker=STRIKE_MARKER[strike],
                        markevery=[0], ms=8, mec="black", label=f"{side} {STRIKE_LABEL[strike]} (n={len(paths)})")
                arrow(ax, x, y, STRIKE_COLOUR[strike])
        ax.set_title(f"{foot} foot", fontsize=10, fontweight="bold")
        if ax.get_legend_handles_labels()[0]:          # a foot neither side has landings on: no key
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), fontsize=7.5, frameon=False)
    fig.suptitle(f"Mean centre-of-pressure path per class: A ({name_a}) solid, B ({name_b}) dashed\n"
                 "(symbol: initial contact; arrow: direction of travel)", fontsize=9.5)
    fig.tight_layout()
    return fig


def fig_strike_index(a: LoadedSession, b: LoadedSession, name_a: str, name_b: str):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9.5, 3.6))
    bins = np.linspace(0.0, 100.0, 61)         # edges on the 33.3 and 66.7 cut lines
    for side, s, name in (("A", a, name_a), ("B", b, name_b)):
        si = np.array([l.strike_index for l in s.landings], dtype=float)
        si = si[np.isfinite(si)]
        if si.size:
            ax.hist(si, bins=bins, weights=np.full(si.size, 100.0 / si.size), histtype="step",
                    linestyle=SIDE_LINE[side], color=SIDE_GREY[side], linewidth=2, label=f"{side}: {name} (n={si.size})")
    for x in (REARFOOT_BELOW, FOREFOOT_FROM):
        ax.axvline(x, color="black", linestyle=":", linewidth=0.9)
    for x, txt in ((REARFOOT_BELOW / 2, "heel"), ((REARFOOT_BELOW + FOREFOOT_FROM) / 2, "midfoot"),
                   ((FOREFOOT_FROM + 100) / 2, "forefoot")):
        ax.text(x, 1.0, txt, transform=ax.get_xaxis_transform(), ha="center", va="top", fontsize=8, color="0.3")
    ax.set_xlim(0, 100)
    ax.set_xlabel("strike index (% of foot length from the heel)")
    ax.set_ylabel("% of landings")
    shade_heel_lag_band(ax, horizontal=False, params=a.params.strike)   # compare analyses both alike
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, frameon=False)
    _style(ax, "Strike index")
    fig.tight_layout()
    return fig


def rows_json(rows: list[Row]) -> list[dict]:
    return [{"measure": r.measure.key, "label": r.measure.label, "unit": r.measure.unit, "a": r.a, "b": r.b,
             "n_a": r.n_a, "n_b": r.n_b, "difference": r.diff, "ci_low": r.lo, "ci_high": r.hi,
             "ci_excludes_zero": r.differs} for r in rows]


def write_compare(a: LoadedSession, b: LoadedSession, rows: list[Row], name_a: str, name_b: str, out,
                  resamples: int = RESAMPLES) -> Path:
    """Write ``compare.html``, its PNGs and ``compare.json`` into the folder ``out``."""
    out = output_folder(out, "the comparison")
    notes = warnings(a, b)
    figs = [("compare_differences", "Differences", fig_differences(rows, name_a, name_b)),
            ("compare_cop", "Centre-of-pressure paths", fig_cop(a, b, name_a, name_b)),
            ("compare_strike_index", "Strike index", fig_strike_index(a, b, name_a, name_b))]
    images = []
    for stem, caption, fig in figs:
        png = png_bytes(fig)
        write_file_atomic(out / f"{stem}.png", png)
        images.append((stem, caption, png))
    doc = {"a": {"name": name_a, "path": str(a.path), "segment": a.label, "summary": a.summary},
           "b": {"name": name_b, "path": str(b.path), "segment": b.label, "summary": b.summary},
           "resamples": resamples, "ci_level": CI_LEVEL, "measures": rows_json(rows), "notes": notes}
    write_file_atomic(out / "compare.json", (json.dumps(doc, indent=2) + "\n").encode("utf-8"))
    page = out / "compare.html"
    write_file_atomic(page, _page(rows, name_a, name_b, images, a, b, resamples, notes).encode("utf-8"))
    return page


def _page(rows, name_a, name_b, images, a, b, resamples: int, found: list[str]) -> str:
    head = "<tr><th></th><th>A</th><th>B</th><th>B − A</th><th>95 % interval</th><th></th></tr>"
    body = []
    for r in rows:
        m = r.measure
        ci = "–" if r.lo is None else f"{signed(r.lo, m.digits)} to {signed(r.hi, m.digits)}"
        verdict = "" if r.differs is None else ("differs" if r.differs else "no clear difference")
        body.append(f"<tr><th>{html.escape(m.label)}{(' (' + html.escape(m.unit) + ')') if m.unit else ''}</th>"
                    f"<td>{_fmt(r.a, digits=m.digits)}</td><td>{_fmt(r.b, digits=m.digits)}</td>"
                    f"<td>{'–' if r.diff is None else signed(r.diff, m.digits)}</td><td>{ci}</td>"
                    f"<td>{verdict}</td></tr>")
    imgs = "".join(f"<section><h2>{html.escape(c)}</h2><img src=\"data:image/png;base64,"
                   f"{base64.b64encode(png).decode('ascii')}\" alt=\"{html.escape(c)}\"></section>"
                   for _, c, png in images)
    la, lb = len(a.landings), len(b.landings)
    notes = ("<p class=note>" + "<br>".join(html.escape(w) for w in found) + "</p>") if found else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>insole compare: {html.escape(name_a)} vs {html.escape(name_b)}</title>
<style>
body {{ font: 15px/1.45 system-ui, sans-serif; color: #222; max-width: 1100px; margin: 1.5em auto; padding: 0 1em; }}
table {{ border-collapse: collapse; }} th, td {{ padding: .2em .8em; border-bottom: 1px solid #e4e4e4; text-align: right; }}
tbody th {{ text-align: left; font-weight: normal; }} img {{ max-width: 100%; }}
h2 {{ font-size: 1.1em; border-bottom: 1px solid #ccc; margin-top: 1.5em; }} .small {{ color: #666; font-size: .9em; }}
.note {{ background: #fff6dc; border-left: 4px solid #e0a800; padding: .5em .8em; }}
</style></head><body>
<h1>A: {html.escape(name_a)} ({la} landings) &nbsp;vs&nbsp; B: {html.escape(name_b)} ({lb} landings)</h1>
{notes}<table><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>
<p class=small>Intervals: {CI_LEVEL:.0%} percentile intervals of B − A from {resamples} moving-block bootstrap
resamples of each side (blocks of ~n<sup>1/3</sup> consecutive landings, at least {block_length(1)}, so a drift within
a run widens them). "differs": the interval excludes zero.</p>
{imgs}
</body></html>
"""
