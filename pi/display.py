"""The live display: a function of one :class:`~pi.snapshot.Snapshot`, redrawn on its own thread.

* :func:`render` builds the whole screen from a snapshot (pure: no clock, no I/O). The verdict is
  drawn in block letters ~5 rows high so it reads from a treadmill 1–2 m away; the colours are
  colour-blind safe (Okabe–Ito sky blue / yellow / vermillion) and the word itself carries the
  meaning, so the screen also reads without colour.
* :class:`LiveDisplay` redraws at ≤ 10 Hz on a daemon thread from a ``get_snapshot`` callable; the
  sampling and processing threads only swap a reference and never wait on the terminal.
* :func:`headless_line` is the one grep-friendly line per landing of ``insole run --headless``.
* :func:`summary_renderable` is the table printed after Ctrl-C.

Units: times in the snapshot are seconds of session time; contact time in ms; cadence in steps/min
with both feet counted; positions are fractions of the foot (y = 0 heel, 1 toe; x = 0 medial).
"""

from __future__ import annotations

import collections
import math
import threading
import time
from typing import Callable, Mapping

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.layout import Layout
from rich.live import Live
from rich.table import Table
from rich.text import Text

from analysis.measures import shown
from analysis.outline import edges, sensor_across
from analysis.strike import STRIKES
from pi.disk import WARN_S, clock_words
from pi.snapshot import FootView, Health, LandingView, Snapshot

STRIKE_WORD = {"forefoot": "FOREFOOT", "midfoot": "MIDFOOT", "rearfoot": "HEEL", "heel": "HEEL"}
STRIKE_LETTER = {"forefoot": "F", "midfoot": "M", "rearfoot": "H", "heel": "H"}
STRIKE_STYLE = {"forefoot": "bold #56B4E9", "midfoot": "bold #F0E442",
                "rearfoot": "bold #D55E00", "heel": "bold #D55E00"}
LOW_RATE_FRACTION = 0.95           # achieved/nominal frames/s below this is flagged LOW
MAX_REFRESH_HZ = 10.0
SENSOR_MARK, PATH_MARK, CONTACT_MARK = "◉", "•", "✚"

# Block font, 5 rows: only the letters the verdicts need, plus "?" for anything else.
_FONT = {
    "F": ("#####", "#    ", "#### ", "#    ", "#    "),
    "O": (" ### ", "#   #", "#   #", "#   #", " ### "),
    "R": ("#### ", "#   #", "#### ", "#  # ", "#   #"),
    "E": ("#####", "#    ", "#### ", "#    ", "#####"),
    "M": ("#   #", "## ##", "# # #", "#   #", "#   #"),
    "I": ("###", " # ", " # ", " # ", "###"),
    "D": ("#### ", "#   #", "#   #", "#   #", "#### "),
    "T": ("#####", "  #  ", "  #  ", "  #  ", "  #  "),
    "H": ("#   #", "#   #", "#####", "#   #", "#   #"),
    "L": ("#    ", "#    ", "#    ", "#    ", "#####"),
    "?": ("#### ", "    #", "  ## ", "     ", "  #  "),
    " ": ("  ", "  ", "  ", "  ", "  "),
}
FONT_ROWS = 5

FOOT_ASPECT = 0.74                 # cells wide per row: a 2.7:1 insole on ~1:2 terminal cells


# ------------------------------------------------------------------------------- helpers ---
def _ok(v) -> bool:
    return v is not None and isinstance(v, (int, float)) and math.isfinite(v)


def _fmt(v, spec: str = ".0f", none: str = "—") -> str:
    return format(v, spec) if _ok(v) else none


def mmss(t_s: float | None) -> str:
    """``mm:ss`` (``h:mm:ss`` from one hour) of a duration in seconds."""
    if not _ok(t_s) or t_s < 0:
        return "--:--"
    s = int(t_s)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


def big_text(word: str, style: str = "", scale: int = 1) -> Text:
    """``word`` in 5-row block letters (``5 × scale`` rows); letters missing from the font show "?"."""
    glyphs = [_FONT.get(ch, _FONT["?"]) for ch in word.upper()]
    rows = []
    for r in range(FONT_ROWS):
        line = " ".join(g[r] for g in glyphs).replace("#", "█")
        line = "".join(ch * scale for ch in line).rstrip()
        rows.extend([line] * scale)
    return Text("\n".join(rows), style=style, no_wrap=True, overflow="crop")


def big_width(word: str, scale: int = 1) -> int:
    """Columns :func:`big_text` needs for ``word``."""
    glyphs = [_FONT.get(ch, _FONT["?"]) for ch in word.upper()]
    return scale * (sum(len(g[0]) for g in glyphs) + max(0, len(glyphs) - 1))


# ------------------------------------------------------------------------------ the feet ---
def foot_grid(view: FootView, rows: int, cols: int) -> list[list[str]]:
    """The foot as a ``rows × cols`` grid of characters, toes at the top, seen from above.

    The left foot has its medial edge (x = 0) on the right of the grid, the right foot on the
    left, so both big toes point to the middle of the screen. Outline cells are ``░``; sensors
    ``◉``; COP path points ``•``; the first COP point (initial contact) ``✚``, drawn last.
    """
    mirror = view.foot == "left"
    grid = [[" "] * cols for _ in range(rows)]
    inside = []
    for r in range(rows):
        m, l = edges(1.0 - (r + 0.5) / rows)
        row = [m <= ((c + 0.5) / cols) <= l for c in range(cols)]
        if not any(row):
            row[min(cols - 1, int((m + l) / 2 * cols))] = True
        inside.append(row[::-1] if mirror else row)
    for r in range(rows):
        for c in range(cols):
            if inside[r][c] and any(not (0 <= rr < rows and 0 <= cc < cols) or not inside[rr][cc]
                                    for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1))):
                grid[r][c] = "░"

    def cell(x: float, y: float) -> tuple[int, int]:
        # x is taken across the insole's width at that y, so every mark lands inside the outline
        r = min(rows - 1, max(0, int((1.0 - y) * rows)))
        c = min(cols - 1, max(0, int(sensor_across(x, y) * cols)))
        return r, (cols - 1 - c) if mirror else c

    points = [p for p in view.cop_path if len(p) == 2 and _ok(p[0]) and _ok(p[1])]
    for x, y in points[1:]:
        r, c = cell(x, y)
        grid[r][c] = PATH_MARK
    for s in view.sensors:
        if len(s) == 3 and _ok(s[1]) and _ok(s[2]):
            r, c = cell(s[1], s[2])
            grid[r][c] = SENSOR_MARK
    if points:
        r, c = cell(*points[0])
        grid[r][c] = CONTACT_MARK
    return grid


class FeetView:
    """Both feet side by side, sized to the space rich gives them (rows ≈ height − 3)."""

    def __init__(self, feet: tuple[FootView, ...]):
        self.feet = tuple(feet)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not self.feet:
            yield Text("no sensors", style="dim")
            return
        width = options.max_width
        height = options.height or options.size.height
        n = len(self.feet)
        per_foot = max(4, (width - 3 * (n - 1)) // n)
        rows = max(6, min(height - 3, 40, int(per_foot / FOOT_ASPECT)))
        cols = max(4, min(per_foot, round(rows * FOOT_ASPECT)))
        grids = [foot_grid(f, rows, cols) for f in self.feet]
        table = Table.grid(padding=(0, 1 if n == 1 else 3))
        for _ in self.feet:
            table.add_column(width=cols, no_wrap=True, overflow="crop")
        table.add_row(*(Text(f.foot.upper(), style="bold", justify="center") for f in self.feet))
        for r in range(rows):
            table.add_row(*(self._row(g[r], f) for g, f in zip(grids, self.feet)))
        table.add_row(*(self._caption(f) for f in self.feet))
        yield table
        if height >= rows + 3:
            yield Text(f"{SENSOR_MARK} sensor  {PATH_MARK} COP  {CONTACT_MARK} touchdown", style="dim",
                       no_wrap=True, overflow="crop")

    @staticmethod
    def _row(cells: list[str], foot: FootView) -> Text:
        path_style = STRIKE_STYLE.get(foot.last_strike or "", "bold white")
        styles = {"░": "grey50", SENSOR_MARK: "white", PATH_MARK: path_style,
                  CONTACT_MARK: "bold reverse " + path_style.replace("bold ", "")}
        text = Text(no_wrap=True)
        for ch in cells:
            text.append(ch, styles.get(ch, ""))
        return text

    @staticmethod
    def _caption(foot: FootView) -> Text:
        if foot.last_strike is None:
            return Text("—", style="dim", justify="center")
        word = STRIKE_WORD.get(foot.last_strike, str(foot.last_strike).upper())
        return Text(f"{word} {_fmt(foot.last_strike_index)}", justify="center",
                    style=STRIKE_STYLE.get(foot.last_strike, "bold"))


# ------------------------------------------------------------------------------- screen ---
def _verdict(snap: Snapshot, width: int, height: int) -> tuple[Group, int]:
    """The verdict block and its height in rows (letters twice the size when there is room)."""
    last = snap.last_landing
    if last is None:
        return Group(Text(""), Text("waiting for the first landing…", style="bold", justify="center")), 2
    word = STRIKE_WORD.get(last.strike, str(last.strike).upper())
    style = STRIKE_STYLE.get(last.strike, "bold")
    # one size for every verdict, so the screen does not jump between FOREFOOT and HEEL
    scale = 2 if big_width("FOREFOOT", 2) <= width and 2 * FONT_ROWS + 3 <= height else 1
    caption = Text.assemble((f"SI {_fmt(last.strike_index)}", style), "   ",
                            (f"{last.foot.upper()} foot", "bold"), f"   landing #{last.number}")
    ago = snap.elapsed_s - last.t_on_s if _ok(snap.elapsed_s) and _ok(last.t_on_s) else 0.0
    if ago >= 3.0:
        caption.append(f"   ({ago:.0f} s ago)", "dim")
    strip = Text("recent ", style="dim")
    for lv in snap.recent[-10:]:
        strip.append(STRIKE_LETTER.get(lv.strike, "?") + " ", STRIKE_STYLE.get(lv.strike, ""))
    if snap.recent:
        strip.append("← newest", "dim")
    return Group(big_text(word, style, scale), Text(""), caption, strip), FONT_ROWS * scale + 3


def _stats(snap: Snapshot) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1))
    table.add_column("")
    for f in snap.feet:
        table.add_column(f.foot, justify="right")
    table.add_column("all", justify="right", style="bold")

    def mean(values):
        v = [x for x in values if _ok(x)]
        return sum(v) / len(v) if v else None
    feet = snap.feet
    table.add_row("landings", *(str(f.landings) for f in feet), str(snap.landings))
    table.add_row("forefoot % last 20", *(_fmt(f.forefoot_pct_last20) for f in feet),
                  _fmt(snap.forefoot_pct_last20))
    table.add_row("forefoot % session", *(_fmt(f.forefoot_pct_session) for f in feet),
                  _fmt(snap.forefoot_pct_session))
    table.add_row("cadence spm", *(_fmt(f.cadence_spm) for f in feet),
                  _fmt(mean(f.cadence_spm for f in feet)))
    table.add_row("contact ms", *(_fmt(f.contact_ms) for f in feet),
                  _fmt(mean(f.contact_ms for f in feet)))
    return table


def health_text(h: Health, before: Health | None = None) -> Text:
    """One line of sampling health; ``LOW`` and red below 95 % of the nominal frame rate, and
    ``+N`` on a counter that grew since ``before`` (the counters a few seconds earlier): red when
    it grew by over 1 % of the frames since, yellow otherwise."""
    text = Text()
    for chip in h.chips_missing:            # first, so that a narrow screen never cuts it off
        text.append(f"CHIP {chip.upper()} NOT ANSWERING", "bold red reverse")
        text.append("  ")
    text.append("sampling ")
    achieved, nominal = h.rate_hz_achieved, h.rate_hz_nominal
    low = _ok(achieved) and _ok(nominal) and nominal > 0 and achieved < LOW_RATE_FRACTION * nominal
    rate = f"{_fmt(achieved, '.1f')}/{_fmt(nominal, 'g')} fps"
    text.append(rate, "bold red" if low else "green")
    if low:
        text.append(f" LOW ({100 * achieved / nominal:.0f} %)", "bold red")
    for label, attr in (("late", "late_frames"), ("skipped", "skipped_frames"),
                        ("bus errors", "bus_errors")):
        value = getattr(h, attr) or 0
        grew = before is not None and value > (getattr(before, attr) or 0)
        # red when the counter grew by over 1 % of the frames since (a few lost now and then: yellow)
        alarming = grew and value - (getattr(before, attr) or 0) > 0.01 * max(h.frames - before.frames, 1)
        style = "bold red" if alarming else "yellow"
        text.append(f"  {label} ")
        text.append(str(value), style if grew else ("yellow" if value else "green"))
        if grew:
            text.append(f" +{value - (getattr(before, attr) or 0)}", style)
    return text


def _header(snap: Snapshot) -> Table:
    grid = Table.grid(expand=True)
    grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    grid.add_column(justify="right", no_wrap=True)
    status = ("■ stopping…", "bold yellow") if snap.stopping else ("● REC", "bold red")
    folder = snap.session_dir if len(snap.session_dir) <= 40 else "…" + snap.session_dir[-39:]
    if snap.replay is not None:       # the recording's clock, how far through, how fast
        at, total, speed = snap.replay
        when = Text.assemble((mmss(at), "bold"), f" of {mmss(total)} ({100 * at / total if total else 100:.0f} %)"
                             f" at {speed:g}×")
    else:
        when = Text(mmss(snap.elapsed_s), style="bold")
    left = Text.assemble(status, "  ", when, f"  {folder}", (f"  [{snap.source}]", "dim"))
    right = Text("Ctrl-C to stop", style="dim")
    if snap.disk_left_s is not None:
        if snap.disk_left_s < WARN_S:
            right = Text.assemble((f"DISK FULL IN {clock_words(snap.disk_left_s).upper()}", "bold red reverse"),
                                  "  ", right)
        else:
            right = Text.assemble((f"disk {clock_words(snap.disk_left_s)} left", "dim"), "  ", right)
    grid.add_row(left, right)
    return grid


class Dashboard:
    """The screen for one snapshot; lays itself out for the width and height rich gives it."""

    def __init__(self, snapshot: Snapshot, health_before: Health | None = None):
        self.snap = snapshot
        self.health_before = health_before

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        snap = self.snap
        width, height = options.max_width, options.height or console.height
        footer = [health_text(snap.health, self.health_before)]
        if snap.notice:
            footer.append(Text(f"⚠ {snap.notice}", style="yellow", no_wrap=True, overflow="ellipsis"))
        body_h = max(8, height - 1 - len(footer))
        stats_h = 2 + 5
        single, double = big_width("FOREFOOT") + 2, big_width("FOREFOOT", 2) + 2
        verdict_w = min(width - 20, double if width - double >= 38 else max(single, width - 50))
        layout = Layout()
        layout.split_column(Layout(_header(snap), size=1), Layout(name="body"),
                            Layout(Group(*footer), size=len(footer)))
        verdict, verdict_h = _verdict(snap, verdict_w, body_h - stats_h - 1)
        verdict_h = max(1, min(body_h - stats_h, verdict_h + 1))
        left = Layout(name="left", size=verdict_w)
        # verdict and figures stay together at the top; spare rows go to the bottom
        left.split_column(Layout(verdict, name="verdict", size=verdict_h),
                          Layout(_stats(snap), size=stats_h), Layout(Text(" "), name="spare"))
        layout["body"].split_row(left, Layout(FeetView(snap.feet), name="feet"))
        yield layout


def render(snapshot: Snapshot, health_before: Health | None = None) -> Dashboard:
    """The whole screen for ``snapshot``; ``health_before`` (the health counters a few seconds
    earlier, if known) lets the health line flag growing late/skipped frames and bus errors."""
    return Dashboard(snapshot, health_before)


# ---------------------------------------------------------------------------- live thread ---
class LiveDisplay:
    """Redraws :func:`render` of ``get_snapshot()`` on its own daemon thread at ``refresh_hz``.

    ``get_snapshot`` should only return the current reference (or ``None`` before the first);
    if it raises or stalls, the display keeps its last frame and the caller is never affected.
    The alternate screen is used when the console is a terminal; elsewhere (a file, a pipe)
    nothing is drawn, but the loop still runs, so behaviour stays the same.
    """

    HEALTH_WINDOW_S = 3.0

    def __init__(self, get_snapshot: Callable[[], Snapshot | None], *, console: Console | None = None,
                 refresh_hz: float = 8.0, screen: bool | None = None):
        self._get = get_snapshot
        self.console = console or Console()
        self.period_s = 1.0 / min(MAX_REFRESH_HZ, max(0.5, float(refresh_hz)))
        self.screen = self.console.is_terminal if screen is None else screen
        self._live = Live(console=self.console, screen=self.screen, auto_refresh=False,
                          transient=True, vertical_overflow="crop")
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._history: collections.deque[tuple[float, Health]] = collections.deque()
        self.frames = 0                 # frames drawn
        self.errors = 0                 # get_snapshot or drawing failures (kept, not raised)
        self.last_error: str | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._live.start()
        self._thread = threading.Thread(target=self._run, name="insole-display", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 0.5) -> None:
        """Stop drawing and restore the terminal; waits at most ``timeout_s`` for the thread."""
        if self._thread is None or self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout_s)
        with self._lock:
            self._live.stop()

    def __enter__(self) -> "LiveDisplay":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _before(self, health: Health) -> Health | None:
        now = time.monotonic()
        hist = self._history
        if not hist or hist[-1][1] != health:
            hist.append((now, health))
        while len(hist) > 1 and hist[1][0] <= now - self.HEALTH_WINDOW_S:
            hist.popleft()
        return hist[0][1]

    def _run(self) -> None:
        next_t = time.monotonic()
        while not self._stop.is_set():
            renderable = None
            try:
                snap = self._get()
                if isinstance(snap, Snapshot):
                    renderable = render(snap, self._before(snap.health))
                elif self.frames == 0:
                    renderable = Text("insole: starting…", style="dim")
            except Exception as exc:                      # a broken producer must not kill the display
                self.errors += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
            with self._lock:
                if self._stop.is_set():
                    break
                if renderable is not None:
                    try:
                        self._live.update(renderable, refresh=True)
                        self.frames += 1
                    except Exception as exc:
                        self.errors += 1
                        self.last_error = f"{type(exc).__name__}: {exc}"
                        self._live.update(Text(f"display error: {self.last_error}", style="red"))
            next_t += self.period_s
            now = time.monotonic()
            if next_t < now:                              # fell behind: no burst of catch-up frames
                next_t = now
            self._stop.wait(next_t - now)


# -------------------------------------------------------------------- headless and summary ---
def headless_line(landing: LandingView, foot: FootView | None) -> str:
    """One plain line per landing, fixed columns, e.g.
    ``00:12.345  left   FOREFOOT  SI 78  contact 231 ms  cadence 171 spm``
    (time of initial contact as mm:ss.mmm; contact time is the foot's recent median)."""
    t = landing.t_on_s if _ok(landing.t_on_s) else 0.0
    ms = int(round(t * 1000))
    stamp = f"{ms // 60000:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"
    word = STRIKE_WORD.get(landing.strike, str(landing.strike).upper())
    contact = foot.contact_ms if foot is not None else None
    cadence = foot.cadence_spm if foot is not None else None
    return (f"{stamp}  {landing.foot:<5}  {word:<8}  SI {_fmt(landing.strike_index, '>2.0f', '--')}"
            f"  contact {_fmt(contact, '>3.0f', '---')} ms  cadence {_fmt(cadence, '>3.0f', '---')} spm")


def _summary_columns(snap: Snapshot | None, figures: Mapping) -> dict[str, dict]:
    """Per column (each foot, then "all"): the contract-3 keys, from ``figures`` where it has
    them, else from the snapshot."""
    views = {v.foot: v for v in snap.feet} if snap is not None else {}
    names = list(views) or list(figures.get("feet") or {})
    cols: dict[str, dict] = {}
    for name in names + ["all"]:
        v = views.get(name)
        if name == "all":
            known = [c.cadence_spm for c in views.values() if _ok(c.cadence_spm)]
            base = {"landings": snap.landings if snap else None,
                    "forefoot_pct": snap.forefoot_pct_session if snap else None,
                    # the session cadence is the mean of the feet's figures (contract 3)
                    "cadence_spm": sum(known) / len(known) if known else None}
            fig = figures
        else:
            base = {"landings": v.landings, "forefoot_pct": v.forefoot_pct_session,
                    "cadence_spm": v.cadence_spm, "contact_ms_median": v.contact_ms} if v else {}
            fig = (figures.get("feet") or {}).get(name) or {}
        col = {**base, **{k: x for k, x in fig.items() if x is not None}}
        counts = dict(col.get("strike_counts") or {})
        if "forefoot" not in counts and _ok(col.get("forefoot_pct")) and _ok(col.get("landings")):
            counts["forefoot"] = round(col["forefoot_pct"] * col["landings"] / 100)
        col["strike_counts"] = counts
        cols[name] = col
    return cols


def summary_renderable(snapshot: Snapshot | None, figures: Mapping | None = None, saved: int | None = None) -> Table:
    """The table printed after Ctrl-C.

    ``figures`` is the contract-3 summary dict (e.g. ``Pipeline.summary()``); with it the table
    shows every strike count and the median strike index; without it, the snapshot's figures
    only (midfoot/heel counts and the median strike index then show as "—"). ``saved``: the
    frames written to the session's file, shown beside those sampled when fewer.
    """
    title = "insole session summary"
    if snapshot is not None:          # the folder is named below the table: a title this short never wraps
        title += f", {mmss(snapshot.elapsed_s)}"
    table = Table(title=title, box=box.SIMPLE_HEAVY, title_justify="left", title_style="bold")
    cols = _summary_columns(snapshot, figures or {})
    table.add_column("")
    for name in cols:
        table.add_column(name, justify="right", style="bold" if name == "all" else "")

    def row(label: str, key: str, spec: str) -> None:
        table.add_row(label, *(_fmt(c.get(key), spec) for c in cols.values()))
    row("landings", "landings", ".0f")
    for strike in STRIKES:
        cells = []
        for c in cols.values():
            count, total = c["strike_counts"].get(strike), c.get("landings")
            share = f" ({100 * count / total:.0f} %)" if _ok(count) and _ok(total) and total else ""
            cells.append(_fmt(count) + share)
        table.add_row(STRIKE_WORD[strike].lower(), *cells, style=STRIKE_STYLE[strike].replace("bold ", ""))
    for m in shown([cols["all"]] if "all" in cols else []):     # the report's measures (analysis.measures)
        row(m.short, m.key, f".{m.shown}f")
    if snapshot is not None:
        h = snapshot.health
        blank = [""] * (len(cols) - 1)
        # the whole session's average (the live display's figure is the last few seconds')
        rate = h.rate_hz_average
        low = _ok(rate) and h.rate_hz_nominal and rate < LOW_RATE_FRACTION * h.rate_hz_nominal
        table.add_section()
        table.add_row("frames/s (average)", *blank, Text(f"{_fmt(rate, '.1f')}/{_fmt(h.rate_hz_nominal, 'g')}"
                                                          + (" LOW" if low else ""), style="bold red" if low else ""))
        if saved is not None and saved < h.frames:
            table.add_row("frames", *blank, Text(f"{h.frames}, {saved} saved", style="bold red"))
        else:
            table.add_row("frames", *blank, str(h.frames))
        table.add_row("late / skipped frames", *blank, f"{h.late_frames} / {h.skipped_frames}")
        table.add_row("bus errors", *blank, Text(str(h.bus_errors), style="bold red" if h.bus_errors else ""))
    return table
