"""Printable 1:1 sensor placement templates: the insole outline with every sensor of a foot, as SVG.

One file per shoe size and foot, on A4 portrait. The SVG's width and height are in millimetres
and one drawing unit is one millimetre, so printing at 100 % ("actual size") gives the real
size; a 50 mm scale bar on every page checks it. A foot longer than an A4 page allows is split
over two pages that overlap: page 1 for the toe end, page 2 for the heel end (which holds every
sensor of the default kit); page 1 is cut along the dashed line at half the foot length and its
toe part laid on page 2, the cut edge on page 2's dashed line.

The foot is seen from above (from the side the foot stands on), toes at the top. Positions come
from the kit (``analysis/layout.py``): ``y`` from the back of the heel to the tip of the longest
toe, ``x`` across the outline's width at that ``y`` from the medial (big-toe) edge, so a LEFT
foot has its big toe on the right of the page and a RIGHT foot on the left. Each sensor is a
circle of the sensing area's diameter (``[fsr] diameter_mm``) with a cross at its centre, its
name and its distance from the heel.

Foot length from the EU (Paris point) size: a size is 2/3 cm of shoe last, and the last is about
1.5 cm longer than the foot, so foot length ≈ (size × 2/3 − 1.5) cm: EU 42 → 265 mm. The outline
is the plausible shape of :mod:`analysis.outline`, not a measured last.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from analysis.outline import OUTLINE, WIDTH_RATIO, edges, sensor_across

PAGE_W_MM, PAGE_H_MM = 210.0, 297.0          # A4 portrait
MARGIN_MM = 8.0                              # most printers cannot print the last 4-6 mm
SCALE_BAR_MM = 50.0
EU_SIZES = tuple(range(36, 48))
LAST_ALLOWANCE_MM = 15.0                     # shoe last longer than the foot
PARIS_POINT_MM = 20.0 / 3.0
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
SIDE_LABEL_Y = 0.30                          # where "big-toe side" / "little-toe side" are written
MIN_LABEL_GAP_MM = 9.0                       # sensor labels on the same side at least this far apart


def foot_length_mm(eu_size: float) -> float:
    """Foot length (heel to the tip of the longest toe) for an EU shoe size, mm."""
    return eu_size * PARIS_POINT_MM - LAST_ALLOWANCE_MM


@dataclass(frozen=True)
class Mark:
    """A sensor on the page: its centre and radius, mm, in page coordinates (y down)."""

    name: str
    cx: float
    cy: float
    r: float
    from_heel_mm: float


class _Foot:
    """One foot of length ``length_mm`` placed on the page: heel back at ``heel_y`` (page mm,
    y down), the widest part centred on ``cx``; ``side`` +1 puts the medial edge on the left
    (a right foot seen from above), −1 on the right (a left foot)."""

    def __init__(self, foot: str, length_mm: float, cx: float, heel_y: float):
        self.length = length_mm
        self.width = length_mm * WIDTH_RATIO
        self.cx, self.heel_y = cx, heel_y
        self.side = 1.0 if foot == "right" else -1.0

    def page(self, across: float, y: float) -> tuple[float, float]:
        """Page mm of a point ``across`` the widest part (0 medial, 1 lateral) at ``y`` along the foot."""
        return self.cx + self.side * (across - 0.5) * self.width, self.heel_y - y * self.length

    def outline_path(self) -> str:
        """The outline as a closed SVG path: a Catmull-Rom curve through the outline's points.

        At the points on the back of the heel and on the toe tip the curve's tangent is made
        level, so it never reaches past y = 0 or y = 1: the drawn outline is exactly one foot
        length long (every control point lies within it, and a Bézier curve stays inside its
        control points)."""
        pts = [self.page(m, y) for y, m, _ in OUTLINE] + [self.page(lat, y) for y, _, lat in reversed(OUTLINE)]
        n = len(pts)
        ends = (self.heel_y, self.heel_y - self.length)
        tangents = []
        for i, p in enumerate(pts):
            tx, ty = ((pts[(i + 1) % n][k] - pts[i - 1][k]) / 6 for k in (0, 1))
            tangents.append((tx, 0.0 if any(abs(p[1] - e) < 1e-9 for e in ends) else ty))
        d = [f"M {pts[0][0]:.2f} {pts[0][1]:.2f}"]
        for i in range(n):
            p1, p2, t1, t2 = pts[i], pts[(i + 1) % n], tangents[i], tangents[(i + 1) % n]
            c1 = (p1[0] + t1[0], p1[1] + t1[1])
            c2 = (p2[0] - t2[0], p2[1] - t2[1])
            d.append(f"C {c1[0]:.2f} {c1[1]:.2f} {c2[0]:.2f} {c2[1]:.2f} {p2[0]:.2f} {p2[1]:.2f}")
        return " ".join(d) + " Z"

    def mark(self, s, diameter_mm: float) -> Mark:
        cx, cy = self.page(sensor_across(s.x, s.y), s.y)
        return Mark(s.name, cx, cy, diameter_mm / 2, s.y * self.length)


def _text(x, y, s, size=3.2, anchor="start", weight="normal") -> str:
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (f'<text x="{x:.2f}" y="{y:.2f}" font-size="{size}" text-anchor="{anchor}" '
            f'font-weight="{weight}">{s}</text>')


def _sensor(m: Mark, label_x: float, label_y: float, anchor: str) -> list[str]:
    arm = m.r + 3.0
    return [f'<g id="sensor-{m.name}">',
            f'<circle class="sensor" data-name="{m.name}" cx="{m.cx:.2f}" cy="{m.cy:.2f}" r="{m.r:.3f}" '
            f'fill="#d9d9d9" stroke="black" stroke-width="0.3"/>',
            f'<path d="M {m.cx - arm:.2f} {m.cy:.2f} H {m.cx + arm:.2f} M {m.cx:.2f} {m.cy - arm:.2f} '
            f'V {m.cy + arm:.2f}" stroke="black" stroke-width="0.2"/>',
            _text(label_x, label_y - 0.6, m.name, 3.4, anchor, "bold"),
            _text(label_x, label_y + 3.4, f"{m.from_heel_mm:.0f} mm from heel", 2.8, anchor),
            "</g>"]


def _label_box(x: float, y: float, anchor: str) -> tuple[float, float, float, float]:
    """The box (x0, y0, x1, y1) a two-line sensor label at (x, y) covers, mm: ~0.6 em a character."""
    w = 0.6 * 2.8 * len("000 mm from heel")
    x0 = x - (w if anchor == "end" else w / 2 if anchor == "middle" else 0)
    return x0, y - 4.2, x0 + w, y + 4.2


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _label_places(marks: list[Mark], foot: _Foot) -> list[tuple[float, float, str]]:
    """Where each sensor's name goes: beside it towards the middle of the foot (so it stays
    inside the outline), or above it for a sensor on the middle line; moved down the page until
    it covers no other label and no sensor."""
    circles = [(m.cx - m.r - 3, m.cy - m.r - 3, m.cx + m.r + 3, m.cy + m.r + 3) for m in marks]
    boxes, places = [], [None] * len(marks)
    for i in sorted(range(len(marks)), key=lambda i: marks[i].cy):
        m = marks[i]
        if abs(m.cx - foot.cx) < 0.12 * foot.width:
            x, y, anchor = m.cx, m.cy - m.r - 8.0, "middle"
        elif m.cx < foot.cx:
            x, y, anchor = m.cx + m.r + 4.0, m.cy, "start"
        else:
            x, y, anchor = m.cx - m.r - 4.0, m.cy, "end"
        for _ in range(60):
            box = _label_box(x, y, anchor)
            if not any(_overlaps(box, b) for b in boxes + circles):
                break
            y += 1.0
        boxes.append(box)
        places[i] = (x, y, anchor)
    return places


def _scale_bar(x: float, y: float) -> list[str]:
    """A 50 mm bar with 10 mm ticks, its left end at (x, y)."""
    ticks = " ".join(f"M {x + t:.1f} {y:.1f} V {y - (3 if t % 50 == 0 else 1.8):.1f}"
                     for t in range(0, int(SCALE_BAR_MM) + 1, 10))
    return [f'<path id="scale-bar" data-length-mm="{SCALE_BAR_MM:g}" d="M {x:.1f} {y:.1f} H {x + SCALE_BAR_MM:.1f} '
            f'{ticks}" stroke="black" stroke-width="0.4" fill="none"/>',
            _text(x, y - 8.5, "this bar must measure 50 mm:", 2.8),
            _text(x, y - 5, "if not, print again at 100 %", 2.8),
            _text(x + SCALE_BAR_MM / 2, y + 4, "50 mm", 3, "middle")]


def template_pages(kit, foot: str, eu_size: int) -> list[str]:
    """The SVG page(s) for one foot of ``kit`` at an EU shoe size: one page, or two that overlap
    when the foot is longer than an A4 page allows."""
    length = foot_length_mm(eu_size)
    usable = PAGE_H_MM - 2 * MARGIN_MM
    if length <= usable:
        heel_ys = [MARGIN_MM + (usable + length) / 2]                   # centred on the page
    else:                                                               # toe end, then heel end
        heel_ys = [MARGIN_MM + length, PAGE_H_MM - MARGIN_MM]
    sensors = kit.layout.foot_sensors(foot)
    pages = []
    for k, heel_y in enumerate(heel_ys):
        f = _Foot(foot, length, PAGE_W_MM / 2, heel_y)
        marks = [f.mark(s, kit.fsr_diameter_mm) for s in sensors]
        body = [f'<path id="outline" d="{f.outline_path()}" fill="none" stroke="black" stroke-width="0.5"/>']
        for m, (x, y, anchor) in zip(marks, _label_places(marks, f)):
            body += _sensor(m, x, y, anchor)
        for across, words in zip(edges(SIDE_LABEL_Y), ("big-toe side", "little-toe side")):
            x, y = f.page(across, SIDE_LABEL_Y)
            out = -1 if x < f.cx else 1          # just outside the outline at that height
            body.append(_text(x + out * 4, y, words, 3, "end" if out < 0 else "start"))
        title = [f"{foot.upper()} foot", f"EU {eu_size}, foot length {length:.0f} mm",
                 f"sensors of {kit.path.name}", f"circles: {kit.fsr_diameter_mm:g} mm sensing area",
                 "print at 100 % (actual size)",
                 "seen from above: lay it on the", "top of the insole, heel to heel"]
        if len(heel_ys) > 1:
            title.append(f"page {k + 1} of {len(heel_ys)} ({'toe' if k == 0 else 'heel'} end)")
            cut_y = f.page(0.5, 0.5)[1]
            body.append(f'<path id="cut-line" d="M {MARGIN_MM} {cut_y:.2f} H {PAGE_W_MM - MARGIN_MM}" '
                        f'stroke="black" stroke-width="0.3" stroke-dasharray="3 2"/>')
            # short lines: they must end left of the outline (~55 mm in at the cut)
            above, below = (("cut here; keep the toe part", "its edge on page 2's line") if k == 0 else
                            ("page 1's cut edge on this line,", "outlines matching; tape"))
            body.append(_text(MARGIN_MM, cut_y - 1.5, above, 2.6))
            body.append(_text(MARGIN_MM, cut_y + 3.5, below, 2.6))
        ty = PAGE_H_MM - MARGIN_MM - 4.2 * (len(title) - 1)
        body += [_text(MARGIN_MM, ty + 4.2 * i, line, 4.2 if i == 0 else 3, weight="bold" if i == 0 else "normal")
                 for i, line in enumerate(title)]
        body += _scale_bar(PAGE_W_MM - MARGIN_MM - SCALE_BAR_MM, PAGE_H_MM - MARGIN_MM - 2)
        pages.append("\n".join([
            '<?xml version="1.0" encoding="UTF-8"?>',
            f"<!-- generated by insole drawings from {kit.path.name}: print at 100 % -->",
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{PAGE_W_MM:g}mm" height="{PAGE_H_MM:g}mm" '
            f'viewBox="0 0 {PAGE_W_MM:g} {PAGE_H_MM:g}" data-foot="{foot}" data-eu-size="{eu_size}" '
            f'data-foot-length-mm="{length:.2f}" data-heel-y-mm="{heel_y:.2f}" font-family="{FONT}">',
            f'<rect width="{PAGE_W_MM:g}" height="{PAGE_H_MM:g}" fill="white"/>',
            *body, "</svg>", ""]))
    return pages


def write_templates(kit, out_dir: Path, sizes=EU_SIZES) -> list[Path]:
    """Every template for ``sizes`` and each foot of the kit into ``out_dir``. Earlier pages of
    those sizes that are not rewritten are removed (a page split or a foot that changed must not
    leave a stale page behind); other sizes' templates are left alone. Returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for size in sizes:
        for foot in kit.layout.feet:
            pages = template_pages(kit, foot, size)
            for k, svg in enumerate(pages):
                suffix = f"-page{k + 1}" if len(pages) > 1 else ""
                path = out_dir / f"insole-EU{size}-{foot}{suffix}.svg"
                path.write_text(svg, encoding="utf-8")
                written.append(path)
    for size in sizes:
        for old in out_dir.glob(f"insole-EU{size}-*.svg"):
            if old not in written:
                old.unlink()
    return written
