"""The report's figures (matplotlib), each from a :class:`analysis.load.LoadedSession`.

Readable in greyscale and by colour-blind readers: the strike classes use the Okabe–Ito palette
(Okabe & Ito 2008, "Color Universal Design"), and each class also has its own line style and
marker, so no figure relies on hue alone. Feet are told apart by marker shape (◀ left, ▶ right).
Feet are drawn seen from above, toes up, both big toes towards the middle (left foot on the
left), as on the live display.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Callable

import numpy as np

from .layout import FOREFOOT_FROM, REARFOOT_BELOW
from .features import G
from .strike import DIRECTIONS, STRIKES, StrikeParams
from .outline import WIDTH_RATIO, foot_point, outline_polygon

STRIKE_COLOUR = {"forefoot": "#0072B2", "midfoot": "#E69F00", "rearfoot": "#D55E00"}
STRIKE_LINE = {"forefoot": "-", "midfoot": "--", "rearfoot": ":"}
STRIKE_MARKER = {"forefoot": "o", "midfoot": "s", "rearfoot": "^"}
STRIKE_LABEL = {"forefoot": "forefoot", "midfoot": "midfoot", "rearfoot": "heel"}   # the word for people; `rearfoot` in files
FOOT_MARKER = {"left": "<", "right": ">"}
FOOT_COLOUR = {"left": "#009E73", "right": "#CC79A7"}
FOOT_LINE = {"left": "-", "right": "--"}
MAX_PATHS = 200          # COP paths drawn per class and foot (all of them are in the mean)
PATH_POINTS = 50         # points per COP path after resampling over the contact
DPI = 110


@contextlib.contextmanager
def quiet_nan():
    """NaN means of empty columns are expected here (a path or curve shorter than others):
    no numpy warnings about them on the user's screen."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def pyplot():
    """matplotlib's pyplot on the file-only Agg backend (no display needed, thread-safe enough
    for one report at a time)."""
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    return plt


def _style(ax, title: str | None = None) -> None:
    if title:
        ax.set_title(title, loc="left", fontsize=10, fontweight="bold")
    ax.grid(True, color="0.88", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _force_unit(s) -> tuple[str, float]:
    """(unit label, divisor) for forces: body weights when the mass is known, else newtons."""
    if s.body_mass_kg:
        return "BW", s.body_mass_kg * G
    return "N", 1.0


# ------------------------------------------------------------------------ time context ---
def shade_segments(ax, s) -> None:
    """Shade every other marker segment, and label each at the top of the axes."""
    bounds = s.segment_bounds()
    if len(bounds) < 2:
        return
    for i, seg in enumerate(bounds):
        if i % 2:
            ax.axvspan(seg.t0_s / 60, seg.t1_s / 60, color="0.90", zorder=0, linewidth=0)
        ax.annotate(seg.label, xy=(seg.t0_s / 60, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(2, -2), textcoords="offset points", va="top", fontsize=8, color="0.3",
                    annotation_clip=True)


def shade_gaps(ax, s) -> None:
    """Hatched bands where frames were lost (breaks of 50 ms or more)."""
    t = s.t_s
    for b in s.breaks_s:
        i = int(np.searchsorted(t, b))
        if 0 < i < len(t):
            ax.axvspan(t[i - 1] / 60, t[i] / 60, facecolor="none", edgecolor="0.4", hatch="////",
                       linewidth=0, zorder=0)


def _time_axis(ax, s) -> None:
    """Time in minutes on the axis, labelled m:ss (h:mm:ss from an hour), as on a watch."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator
    ax.set_xlabel("time since start (m:ss)")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=10, steps=[1, 2, 2.5, 5, 10]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda m, _pos: clock(m * 60)))
    if len(s.t_s):
        ax.set_xlim(s.t_s[0] / 60, max(s.t_s[-1], s.t_s[0] + 1) / 60)


def clock(t_s: float) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour) of a time in seconds."""
    t = int(round(max(t_s, 0.0)))
    return f"{t // 3600}:{t // 60 % 60:02d}:{t % 60:02d}" if t >= 3600 else f"{t // 60}:{t % 60:02d}"


def shade_heel_lag_band(ax, horizontal: bool, params: StrikeParams) -> None:
    """Hatch the strike-index band in which the heel's onset lag, not the index, decides
    between midfoot and forefoot (analysis/strike.py), as the session was analysed."""
    span = ax.axhspan if horizontal else ax.axvspan
    span(params.snap_band_from, FOREFOOT_FROM, facecolor="none", edgecolor="0.75", hatch="\\\\", linewidth=0, zorder=0)


# ----------------------------------------------------------------------------- COP paths ---
def resample_path(path: np.ndarray, n: int = PATH_POINTS) -> np.ndarray:
    """A COP path ``(m, 2)`` resampled to ``n`` points evenly over its frames (NaN if empty)."""
    if len(path) == 0:
        return np.full((n, 2), np.nan)
    if len(path) == 1:
        return np.repeat(path[:1], n, axis=0)
    u = np.linspace(0.0, 1.0, len(path))
    v = np.linspace(0.0, 1.0, n)
    return np.column_stack([np.interp(v, u, path[:, 0]), np.interp(v, u, path[:, 1])])


def to_drawing(x, y, foot: str):
    """Foot-frame (x, y) → drawing coordinates (toes up; left foot mirrored), in foot lengths."""
    px, py = foot_point(x, y)
    if foot == "left":
        px = 1.0 - px
    return px * WIDTH_RATIO, py


def draw_insole(ax, s, foot: str) -> None:
    """The insole outline and its sensors (labelled), one foot."""
    poly = outline_polygon()                 # already in the outline's frame: mirror and scale only
    ox = ((1.0 - poly[:, 0]) if foot == "left" else poly[:, 0]) * WIDTH_RATIO
    oy = poly[:, 1]
    ax.fill(ox, oy, facecolor="0.96", edgecolor="0.35", linewidth=1.2, zorder=0)
    idx = s.layout.index.get(foot, [])
    for i in idx:
        sen = s.layout.sensors[i]
        sx, sy = to_drawing(sen.x, sen.y, foot)
        ax.plot(sx, sy, "o", ms=9, mfc="white", mec="0.45", zorder=1)
        ax.annotate(sen.name, (sx, sy), xytext=(0, -11), textcoords="offset points", ha="center",
                    fontsize=6.5, color="0.4", zorder=1)
    for yl in (REARFOOT_BELOW / 100, FOREFOOT_FROM / 100):
        ax.axhline(yl, color="0.6", linewidth=0.6, linestyle=(0, (2, 3)), zorder=0)
    ax.set_aspect("equal")
    ax.set_xlim(-0.05, WIDTH_RATIO + 0.05)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xticks([])
    ax.set_yticks([0, REARFOOT_BELOW / 100, FOREFOOT_FROM / 100, 1])
    ax.set_yticklabels(["heel 0", "33.3", "66.7", "toe 100"], fontsize=7)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)


def arrow(ax, x, y, colour) -> None:
    """An arrowhead two thirds along a path, showing which way the centre of pressure moved."""
    x, y = np.asarray(x), np.asarray(y)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 3 or np.hypot(x[-1] - x[0], y[-1] - y[0]) < 0.02:
        return
    k = min(len(x) - 2, max(1, len(x) * 2 // 3))
    ax.annotate("", xy=(x[k + 1], y[k + 1]), xytext=(x[k - 1], y[k - 1]), zorder=6,
                arrowprops=dict(arrowstyle="-|>", color=colour, lw=2, mutation_scale=16))


def cop_direction(path: np.ndarray) -> str:
    """``forward`` when a contact's COP moves toward the toes (heel → toe, as running forward
    makes it), else ``backward`` (toe → heel, as backward running makes it)."""
    return "backward" if len(path) >= 2 and path[-1, 1] < path[0, 1] else "forward"


def fig_cop_paths(s):
    """Per foot: every landing's COP path (thin, up to MAX_PATHS per class) and the mean path of
    each class and running direction (thick), coloured and styled by class; ✚ the mean initial
    contact."""
    plt = pyplot()
    from matplotlib.collections import LineCollection

    feet = s.feet or ["left", "right"]
    fig, axes = plt.subplots(1, len(feet), figsize=(3.6 * len(feet) + 1.6, 6.2), squeeze=False)
    rng = np.random.default_rng(0)
    for ax, foot in zip(axes[0], feet):
        draw_insole(ax, s, foot)
        counts = []
        for strike in STRIKES:
            mine = s.landings_of(foot, strike)
            counts.append(len(mine))
            if not mine:
                continue
            paths = np.array([resample_path(l.cop_path) for l in mine])           # (k, n, 2)
            show = rng.choice(len(mine), size=min(MAX_PATHS, len(mine)), replace=False)
            segs = [np.column_stack(to_drawing(p[:, 0], p[:, 1], foot)) for p in paths[show]]
            alpha = max(0.04, min(0.35, 8.0 / len(show)))
            ax.add_collection(LineCollection(segs, colors=STRIKE_COLOUR[strike], linewidths=0.6,
                                             alpha=alpha, linestyles=STRIKE_LINE[strike], zorder=2))
            # one mean per running direction: a forward and a backward path of one class averaged
            # together would be a path no landing took
            ways = np.array([cop_direction(l.cop_path) for l in mine])
            both = len(set(ways)) > 1
            for way in DIRECTIONS:
                group = paths[ways == way]
                if not len(group):
                    continue
                with quiet_nan():
                    mean = np.nanmean(group, axis=0)
                mx, my = to_drawing(mean[:, 0], mean[:, 1], foot)
                ax.plot(mx, my, STRIKE_LINE[strike], color="black", linewidth=4.2, zorder=3)
                ax.plot(mx, my, STRIKE_LINE[strike], marker=STRIKE_MARKER[strike], markevery=[0], ms=9,
                        mfc=STRIKE_COLOUR[strike], mec="black", color=STRIKE_COLOUR[strike], linewidth=2.6, zorder=4,
                        label=f"{STRIKE_LABEL[strike]}{', ' + way if both else ''} (n={len(group)})")
                arrow(ax, mx, my, STRIKE_COLOUR[strike])
        n = sum(counts)
        ax.set_title(f"{foot} foot: {n} landing{'s' if n != 1 else ''}", fontsize=10, fontweight="bold")
        if n:
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), fontsize=7.5, frameon=False)
    axes[0][0].set_ylabel("% of foot length from the heel", fontsize=8)
    fig.suptitle("Centre-of-pressure paths over the insole, seen from above\n(thick: mean per class and direction; "
                 "symbol: initial contact; arrow: direction)", fontsize=9.5)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------- strike index ---
def fig_strike_index(s):
    """Strike index of every landing over time (markers' segments shaded, gaps hatched) and
    its histogram, with the 33.3 / 66.7 cut lines."""
    plt = pyplot()
    fig, (ax, axh) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [3.2, 1]},
                                  sharey=True)
    shade_segments(ax, s)
    shade_gaps(ax, s)
    for foot in s.feet:
        for strike in STRIKES:
            mine = s.landings_of(foot, strike)
            if mine:
                # the class by colour and marker; the foot by fill (left filled, right open)
                filled = foot == "left"
                ax.scatter([l.t_on_s / 60 for l in mine], [l.strike_index for l in mine], s=12,
                           marker=STRIKE_MARKER[strike], linewidths=0.8,
                           facecolors=STRIKE_COLOUR[strike] if filled else "none", edgecolors=STRIKE_COLOUR[strike],
                           alpha=min(0.8, 2 * _dot_alpha(len(s.landings))), zorder=2)
    for a in (ax, axh):
        shade_heel_lag_band(a, horizontal=True, params=s.params.strike)
        for yl in (REARFOOT_BELOW, FOREFOOT_FROM):
            a.axhline(yl, color="black", linewidth=0.8, linestyle="--", zorder=1)
    ax.text(1.0, (s.params.strike.snap_band_from + FOREFOOT_FROM) / 2, "heel lag decides ", transform=ax.get_yaxis_transform(),
            ha="right", va="center", fontsize=7.5, color="0.35", zorder=3)
    for y, txt in ((REARFOOT_BELOW / 2, "heel"), ((REARFOOT_BELOW + FOREFOOT_FROM) / 2, "midfoot"),
                   ((FOREFOOT_FROM + 100) / 2, "forefoot")):
        axh.text(0.97, y, txt, transform=axh.get_yaxis_transform(), ha="right", va="center",
                 fontsize=8, color="0.3")
    ax.set_ylim(0, 100)
    ax.set_ylabel("strike index (% of foot length from the heel)")
    _time_axis(ax, s)
    _style(ax, "Strike index of every landing")
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], marker=STRIKE_MARKER[k], linestyle="", color=STRIKE_COLOUR[k], label=STRIKE_LABEL[k])
               for k in STRIKES]
    handles += [Line2D([], [], marker="o", linestyle="", color="0.3", mfc="0.3" if f == "left" else "none",
                       label=f"{f} foot ({'filled' if f == 'left' else 'open'})") for f in s.feet]
    fig.legend(handles=handles, fontsize=8, loc="lower center", ncol=len(handles), frameon=False)
    bins = np.linspace(0.0, 100.0, 61)         # edges on the 33.3 and 66.7 cut lines
    # stacked by class: near a cut line the class can differ from the third the index falls in
    # (the heel-lag rule, analysis/strike.py), and the histogram shows it
    data, kinds = [], []
    for strike in STRIKES:
        v = np.array([l.strike_index for l in s.landings_of(None, strike)], dtype=float)
        if np.isfinite(v).any():
            data.append(v[np.isfinite(v)])
            kinds.append(strike)
    if data:
        axh.hist(data, bins=bins, orientation="horizontal", stacked=True, color=[STRIKE_COLOUR[k] for k in kinds],
                 edgecolor="black", linewidth=0.4,
                 hatch=[{"forefoot": "", "midfoot": "..", "rearfoot": "//"}[k] for k in kinds])
    axh.set_xlabel("landings")
    _style(axh, "Histogram")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


# ----------------------------------------------------------------- contact and cadence ---
def rolling_median(t: np.ndarray, v: np.ndarray, window_s: float, points: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """The median of ``v`` over a centred window of ``window_s`` seconds, at ``points`` times
    evenly over ``t``'s span (fewer when ``t`` has fewer values); NaN where the window holds
    fewer than 3 values. ``t`` sorted, s."""
    t, v = np.asarray(t, float), np.asarray(v, float)
    if t.size == 0:
        return t, v
    centres = np.linspace(t[0], t[-1], min(points, t.size))
    lo = np.searchsorted(t, centres - window_s / 2)
    hi = np.searchsorted(t, centres + window_s / 2, side="right")
    out = np.full(centres.size, np.nan)
    for i in range(centres.size):
        if hi[i] - lo[i] >= 3:
            out[i] = np.median(v[lo[i]:hi[i]])
    return centres, out


def _dot_alpha(n: int) -> float:
    """Dots fade as they crowd, so the trend line stays readable on a long session."""
    return float(np.clip(300.0 / max(n, 1), 0.06, 0.5))


def fig_contact_cadence(s):
    """Contact time and cadence over time, per foot: each landing a dot, a 30 s rolling median."""
    plt = pyplot()
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(11, 6), sharex=True)
    # the trend's window: 30 s, longer on a long session (1/60 of it), shorter on a short one
    window = float(max(30, round(s.duration_s / 60))) if s.duration_s > 120 else float(max(5, round(s.duration_s / 6)))
    for ax in (a1, a2):
        shade_segments(ax, s)
        shade_gaps(ax, s)
    for foot in s.feet:
        mine = s.landings_of(foot)
        t = np.array([l.t_on_s for l in mine])
        c = np.array([l.contact_ms for l in mine])
        tc, cad = s.cadence_points(foot)
        for ax, x, y in ((a1, t, c), (a2, tc, cad)):
            ax.scatter(x / 60, y, s=12, marker=FOOT_MARKER[foot], color=FOOT_COLOUR[foot],
                       alpha=_dot_alpha(len(x)), edgecolors="none")
            # the trend within each part between markers, so a drill's step change stays a step
            for i, seg in enumerate(s.segment_bounds()):
                inside = (x >= seg.t0_s) & (x < seg.t1_s)
                tt, med = rolling_median(x[inside], y[inside], window)
                ax.plot(tt / 60, med, FOOT_LINE[foot], color="black", linewidth=3.4)
                ax.plot(tt / 60, med, FOOT_LINE[foot], color=FOOT_COLOUR[foot], linewidth=2,
                        label=f"{foot} foot" if i == 0 else None)
    a1.set_ylabel("contact time (ms)")
    a2.set_ylabel("cadence (steps/min)")
    _robust_ylim(a1, [l.contact_ms for l in s.landings])
    tcs = [s.cadence_points(f)[1] for f in s.feet]
    _robust_ylim(a2, np.concatenate(tcs) if tcs else [])
    _time_axis(a2, s)
    _style(a1, f"Contact time (dots: landings; lines: {window:g} s rolling median)")
    _style(a2, "Cadence (both feet counted: 120 / stride time)")
    if s.feet:
        a1.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig


def _robust_ylim(ax, values) -> None:
    """Y range from the 1st to 99th percentile with a margin, so one outlier cannot flatten the rest."""
    v = np.asarray([x for x in values if x is not None], dtype=float)
    v = v[np.isfinite(v)]
    if v.size < 3:
        return
    lo, hi = np.percentile(v, [1, 99])
    pad = max(0.15 * (hi - lo), 0.05 * abs(hi) + 1e-9)
    ax.set_ylim(lo - pad, hi + pad)


# -------------------------------------------------------------------------- force curves ---
def force_curves(s, strike: str, tau_ms: np.ndarray) -> np.ndarray:
    """(k, len(tau_ms)) summed foot force of each landing of ``strike`` at ``tau_ms`` after its
    initial contact; NaN after toe-off. In the unit of :func:`_force_unit`."""
    unit, div = _force_unit(s)
    rows = []
    for foot in s.feet:
        mine = s.landings_of(foot, strike)
        if not mine:
            continue
        total = s.foot_force(foot) / div
        t_on = np.array([l.t_on_s for l in mine])
        t_off = np.array([l.t_off_s for l in mine])
        when = t_on[:, None] + tau_ms[None, :] / 1000.0
        vals = np.interp(when.ravel(), s.t_s, total).reshape(when.shape)
        vals[when > t_off[:, None]] = np.nan
        rows.append(vals)
    return np.vstack(rows) if rows else np.zeros((0, len(tau_ms)))


def fig_force_curves(s):
    """Mean ± SD of the foot's summed force per class, from initial contact: the whole contact,
    and its first 100 ms, where a heel strike's impact transient shows."""
    plt = pyplot()
    unit, _ = _force_unit(s)
    contacts = [l.contact_ms for l in s.landings if l.contact_ms]
    span = float(np.percentile(contacts, 90)) if contacts else 300.0
    tau = np.linspace(0.0, span, 200)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1.6, 1]})
    zoom = tau <= 100.0
    for strike in STRIKES:
        curves = force_curves(s, strike, tau)
        if not len(curves):
            continue
        if len(curves) < 3:            # too few to average: each drawn thin
            for i, c in enumerate(curves):
                for ax, sel in ((a1, slice(None)), (a2, zoom)):
                    ax.plot(tau[sel], c[sel], STRIKE_LINE[strike], color=STRIKE_COLOUR[strike], linewidth=1.2,
                            label=f"{STRIKE_LABEL[strike]} (n={len(curves)}, each shown)" if i == 0 and ax is a1 else None)
            continue
        with quiet_nan():
            enough = np.sum(np.isfinite(curves), axis=0) >= max(3, 0.5 * len(curves))
            mean, sd = np.nanmean(curves, axis=0), np.nanstd(curves, axis=0)
        mean[~enough] = np.nan
        for ax, sel in ((a1, slice(None)), (a2, zoom)):
            ax.fill_between(tau[sel], (mean - sd)[sel], (mean + sd)[sel], color=STRIKE_COLOUR[strike], alpha=0.18,
                            linewidth=0, hatch={"forefoot": "", "midfoot": "..", "rearfoot": "//"}[strike])
            ax.plot(tau[sel], mean[sel], STRIKE_LINE[strike], color=STRIKE_COLOUR[strike], linewidth=2.2,
                    label=f"{STRIKE_LABEL[strike]} (n={len(curves)})")
    for ax in (a1, a2):
        ax.set_xlabel("time from initial contact (ms)")
        ax.set_ylabel(f"summed foot force ({unit})")
        ax.set_ylim(bottom=0)
    a1.set_xlim(0, span)
    a2.set_xlim(0, 100)
    _style(a1, "Force per class, mean ± SD")
    _style(a2, "First 100 ms: the impact transient")
    if s.landings:
        a1.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------- left/right ---
def fig_left_right(s):
    """Left against right: box plots (median, quartiles, 5–95 %) of strike index, contact time,
    flight time, peak force and loading rate, and the forefoot share, per foot."""
    plt = pyplot()
    unit, div = _force_unit(s)
    metrics = [("strike index", lambda l: l.strike_index),
               ("contact time (ms)", lambda l: l.contact_ms),
               ("flight time (ms)", lambda l: l.flight_ms),
               (f"peak force ({unit})", lambda l: l.peak_force_n / div),
               ("loading rate (BW/s)", lambda l: l.loading_rate_bw_s)]
    feet = s.feet
    fig, axes = plt.subplots(1, len(metrics) + 1, figsize=(12.5, 3.8))
    for ax, (name, get) in zip(axes, metrics):
        data = [_finite([get(l) for l in s.landings_of(f)]) for f in feet]
        if not any(len(d) for d in data):
            ax.text(0.5, 0.5, "not available", ha="center", va="center", transform=ax.transAxes,
                    fontsize=8, color="0.4")
        else:
            # every landing a dot (a mix of heel and forefoot landings is two clusters, which a box
            # alone would hide), the box over them
            rng = np.random.default_rng(0)
            for i, (d, f) in enumerate(zip(data, feet), start=1):
                ax.scatter(i + rng.uniform(-0.22, 0.22, len(d)), d, s=6, color=FOOT_COLOUR[f],
                           alpha=_dot_alpha(len(d)), edgecolors="none", zorder=1)
            bp = ax.boxplot([d if len(d) else [np.nan] for d in data], whis=(5, 95), showfliers=False,
                            patch_artist=True, widths=0.6, zorder=2)
            for patch, f in zip(bp["boxes"], feet):
                patch.set(facecolor="none", edgecolor="black", hatch="//" if f == "right" else "")
            for med in bp["medians"]:
                med.set(color="black", linewidth=1.8)
        ax.set_xlim(0.4, len(feet) + 0.6)
        ax.set_xticks(range(1, len(feet) + 1))
        ax.set_xticklabels(feet)
        _style(ax, name)
    ax = axes[-1]
    pct = [s.summary["feet"][f]["forefoot_pct"] for f in feet]
    bars = ax.bar(range(1, len(feet) + 1), [p or 0 for p in pct], color=[FOOT_COLOUR[f] for f in feet],
                  alpha=0.55, edgecolor="black", width=0.6)
    for b, f, p in zip(bars, feet, pct):
        b.set_hatch("//" if f == "right" else "")
        ax.annotate("–" if p is None else f"{p:.0f} %", (b.get_x() + b.get_width() / 2, b.get_height()),
                    xytext=(0, 2), textcoords="offset points", ha="center", fontsize=8)
    ax.set_ylim(0, 110)
    ax.set_xticks(range(1, len(feet) + 1))
    ax.set_xticklabels(feet)
    _style(ax, "forefoot %")
    fig.suptitle("Left and right (dots: landings; boxes: quartiles and median; whiskers: 5–95 %)", fontsize=9.5)
    fig.tight_layout()
    return fig


def _finite(values) -> np.ndarray:
    v = np.asarray([x for x in values if x is not None], dtype=float)
    return v[np.isfinite(v)]


# -------------------------------------------------------------------------------- timing ---
def fig_timing(s):
    """Frame intervals (histogram, log counts) against the nominal interval, and the gaps."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(11, 3.4))
    d_ms = np.diff(s.t_s) * 1000.0
    nominal = 1000.0 / s.rate_hz
    if d_ms.size:
        top = max(float(np.percentile(d_ms, 99.9)) * 1.2, nominal * 3)
        width = nominal / 20                 # bins centred on the nominal interval
        k = np.arange(-20, int(np.ceil((top - nominal) / width)) + 2)
        edges = nominal + (k - 0.5) * width
        inside = d_ms[d_ms <= top]
        ax.hist(inside, bins=edges, color="0.35", log=True)
        ax.set_ylim(bottom=0.5)
        ax.set_xlim(0, top)
        over = int(np.sum(d_ms > top))
        ax.axvline(nominal, color="#0072B2", linestyle="--", linewidth=1.2,
                   label=f"nominal {nominal:.2f} ms ({s.rate_hz:g} frames/s)")
        p50, p99 = np.percentile(d_ms, [50, 99])
        achieved = (len(s.t_s) - 1) / max(s.duration_s, 1e-9)
        gaps = s.meta.get("gaps") or []
        note = (f"{len(s.t_s)} frames, {achieved:.1f} frames/s achieved; interval p50 {p50:.2f} ms, "
                f"p99 {p99:.2f} ms; {over} interval{'s' if over != 1 else ''} longer than {top:.0f} ms")
        if gaps:
            note += f"; {len(gaps)} gap{'s' if len(gaps) != 1 else ''} logged"
        ax.set_title(note, loc="left", fontsize=8.5)
        ax.legend(fontsize=8)
    ax.set_xlabel("interval between consecutive frames (ms)")
    ax.set_ylabel("frames (log)")
    _style(ax)
    fig.suptitle("Frame intervals", x=0.01, ha="left", fontsize=10, fontweight="bold")   # the section is "Timing health"
    fig.tight_layout()
    return fig


#: the report's figures: (file stem, caption, function)
FIGURES: tuple[tuple[str, str, Callable], ...] = (
    ("cop_paths", "Centre-of-pressure paths", fig_cop_paths),
    ("strike_index", "Strike index over time", fig_strike_index),
    ("force_curves", "Force curves per strike class", fig_force_curves),
    ("contact_cadence", "Contact time and cadence", fig_contact_cadence),
    ("left_right", "Left and right", fig_left_right),
    ("timing", "Timing health", fig_timing),
)


def save(fig, path) -> None:
    fig.savefig(path, dpi=DPI)
    pyplot().close(fig)
