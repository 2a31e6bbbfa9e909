"""The session report: one self-contained HTML page (plots embedded) and, beside it, each plot
as a PNG, the re-analysed landings as CSV and the summary as JSON.

::

    REPORT/
      report.html      opens offline in any browser (no scripts, no external files)
      *.png            the figures of analysis.plots.FIGURES
      landings.csv     one row per landing re-analysed from the samples, with its segment
      summary.json     DESIGN.md contract 3 (as `insole report --json`)
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from . import __version__
from .errors import SessionError
from .load import LoadedSession
from .measures import cell, shown
from .plots import FIGURES, STRIKE_LABEL, save
from .session import LANDING_COLUMNS, csv_cell
from .strike import STRIKES, StrikeParams, rule_text

#: what each figure shows and how to read it (shown under the figure)
READ_ME = {
    "cop_paths": "Each thin line is one landing's centre of pressure from initial contact to toe-off; the thick "
                 "line is the mean path of its class, the symbol where it starts and the arrow its direction. "
                 "The dotted lines cut the foot into thirds.",
    "strike_index": "Each point is a landing (filled: left foot, open: right), coloured and shaped by its class. "
                    "Shaded bands are the parts between the session's markers; hatched bands in time are breaks "
                    "in the recording. ",   # + the rule, with the session's figures (read_me)
    "force_curves": "The foot's summed force from initial contact, mean ± SD per class. A heel strike shows a "
                    "sharp early peak (the impact transient) in the first ~50 ms; a forefoot landing rises smoothly. "
                    "A class with fewer than 3 landings has each curve drawn thin instead.",
    "contact_cadence": "Ground contact time and cadence per landing, with a rolling median to show the trend.",
    "left_right": "The same measures for each foot: every landing a dot, the box its quartiles and median. A big "
                  "difference between feet is worth a look.",
    "timing": "How evenly the frames came: one tall bar at the nominal interval is a healthy recording.",
}


def read_me(stem: str, params: StrikeParams) -> str:
    """How to read one figure; the strike-index one with the rule as this session was analysed."""
    return READ_ME.get(stem, "") + (rule_text(params) if stem == "strike_index" else "")


def _fmt(v, unit="", digits=1) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}{unit}"
    return f"{v}{unit}"


def summary_rows(blocks: list[tuple[str, dict]]) -> list[tuple[str, list[str]]]:
    """The report's summary table (console and HTML): (row label, [cell per block]) for
    contract-3 blocks: the landings and their classes, then each measure of
    :data:`analysis.measures.MEASURES`."""
    rows = [("landings", [str(b["landings"]) for _, b in blocks])]
    for k in STRIKES:
        rows.append((STRIKE_LABEL[k], [f"{b['strike_counts'][k]}" + (
            f" ({100 * b['strike_counts'][k] / b['landings']:.0f} %)" if b["landings"] else "") for _, b in blocks]))
    rows += [(m.label, [cell(m, b.get(m.key)) for _, b in blocks]) for m in shown([b for _, b in blocks])]
    return rows


def _table(head: list[str], rows: list[tuple[str, list[str]]]) -> str:
    h = "".join(f"<th>{html.escape(x)}</th>" for x in head)
    body = "".join("<tr><th>" + html.escape(label) + "</th>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
                   + "</tr>" for label, cells in rows)
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


def landings_csv_text(s: LoadedSession) -> str:
    """The re-analysed landings with the label of the marker segment each starts in, as CSV."""
    bounds = s.segment_bounds()
    fh = io.StringIO(newline="")
    w = csv.writer(fh)
    w.writerow([*LANDING_COLUMNS, "segment"])
    for l in s.landings:
        row = l.csv_row()
        seg = next((b.label for b in bounds if b.t0_s <= l.t_on_s < b.t1_s), "")
        w.writerow([csv_cell(row.get(c)) for c in LANDING_COLUMNS] + [seg])
    return fh.getvalue()


#: the file that says a folder is one insole wrote its output into (and may write again)
OUTPUT_MARK = ".insole-output"


def output_folder(out, what: str) -> Path:
    """The ``--out`` folder for ``what``: made if it does not exist, or an empty one, or one
    insole wrote before (it holds ``OUTPUT_MARK``). Never a file, a session folder, a symlink,
    or a folder holding files of someone else's: those would be overwritten."""
    out = Path(out)
    if out.is_symlink():
        raise SessionError(f"{out} is a symbolic link; --out needs a real folder for {what}")
    if out.exists() and not out.is_dir():
        raise SessionError(f"{out} is a file; --out needs a folder for {what}")
    if (out / "session.json").exists():
        raise SessionError(f"{out} is a session folder; write {what} to another folder")
    if out.is_dir() and not (out / OUTPUT_MARK).is_file():
        try:
            theirs = next(iter(out.iterdir()), None)
        except OSError as e:
            raise SessionError(f"cannot read {out}: {e.strerror}") from e
        if theirs is not None:
            raise SessionError(f"{out} already holds files insole did not write ({theirs.name}, …); "
                               f"choose a new or empty folder for {what}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SessionError(f"cannot create {out}: {e.strerror}") from e
    write_file_atomic(out / OUTPUT_MARK, f"written by insole ({what}); insole may write here again\n".encode())
    return out


def write_file_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: written to a new file beside it, then renamed over it, so
    a symbolic link there is replaced and never written through, and a full disk leaves the old
    file (or none), not half of the new one. Raises SessionError naming the path."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
        with open(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise SessionError(f"cannot write {path}: {e.strerror or e}") from e


def png_bytes(fig) -> bytes:
    """The figure as PNG (and closed)."""
    buf = io.BytesIO()
    save(fig, buf)
    return buf.getvalue()


def write_report(s: LoadedSession, out, progress: Callable[[str], None] | None = None) -> Path:
    """Write the report folder ``out`` (created if needed; earlier report files in it are
    replaced); returns the path of ``report.html``."""
    out = output_folder(out, "the report")
    say = progress or (lambda _msg: None)
    figures = []
    for stem, caption, make in FIGURES:
        say(f"drawing {caption.lower()}")
        png = png_bytes(make(s))
        write_file_atomic(out / f"{stem}.png", png)
        figures.append((stem, caption, png))
    say("writing landings.csv, summary.json and report.html")
    write_file_atomic(out / "landings.csv", landings_csv_text(s).encode("utf-8"))
    write_file_atomic(out / "summary.json", (json.dumps(s.summary, indent=2) + "\n").encode("utf-8"))
    page = out / "report.html"
    write_file_atomic(page, render_html(s, figures).encode("utf-8"))
    return page


def render_html(s: LoadedSession, figures: list[tuple[str, str, bytes]]) -> str:
    meta = s.meta
    src = meta.get("source") or {}
    mass = s.body_mass_kg
    title = f"insole report: {s.path.name}" + (f", part '{s.label}'" if s.label else "")
    facts = [("session", str(s.path)), ("started", str(meta.get("started_at", "–"))),
             ("source", str(src.get("kind", "?")) + (f" ({src['format']})" if src.get("format") else "")),
             ("duration", f"{s.duration_s / 60:.1f} min ({len(s.t_s)} frames at {s.rate_hz:g} frames/s)"),
             ("body mass", f"{mass:g} kg" if mass else "unknown (forces in newtons)")]
    blocks = [("all", s.summary)] + [(f"{f} foot", s.summary["feet"][f]) for f in s.feet]
    parts = [f"<h1>{html.escape(title)}</h1>",
             "<dl>" + "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in facts) + "</dl>",
             *(["<p class=note>" + "<br>".join(html.escape(n) for n in s.notes) + "</p>"] if s.notes else []),
             "<h2>Summary</h2>", _table([""] + [b for b, _ in blocks],
                                        summary_rows(blocks))]
    segs = s.segments() if len(s.segment_bounds()) > 1 else []
    if segs:
        parts += ["<h2>Between markers</h2>",
                  _table([""] + [f"{g.label} ({g.t_s[0] / 60:.1f}–{g.t_s[-1] / 60:.1f} min)" for g in segs],
                         summary_rows([(g.label, g.summary) for g in segs]))]
    for stem, caption, png in figures:
        data = base64.b64encode(png).decode("ascii")
        parts.append(f"<section id={stem}><h2>{html.escape(caption)}</h2>"
                     f"<img src=\"data:image/png;base64,{data}\" alt=\"{html.escape(caption)}\">"
                     f"<p class=read>{html.escape(read_me(stem, s.params.strike))}</p></section>")
    health = s.summary.get("health") or {}
    gaps = meta.get("gaps") or []
    if health or gaps:
        rows = [(k.replace("_", " "), ["–" if v is None else str(v)]) for k, v in health.items()]
        rows += [(f"gap at {g.get('t_s', '?')} s", [f"{g.get('duration_s', '?')} s: {g.get('reason', '')}"])
                 for g in gaps if isinstance(g, dict)]
        parts += ["<h2>Sampling health (as logged)</h2>", _table(["", ""], rows)]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts.append(f"<footer>insole {html.escape(__version__)}, report made {when}. {html.escape(rule_text(s.params.strike))} "
                 "Landings re-analysed from the samples; their table is in landings.csv beside this page.</footer>")
    return _PAGE.format(title=html.escape(title), body="\n".join(parts))


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; max-width: 1250px;
       margin: 1.5em auto; padding: 0 1em; }}
h1 {{ font-size: 1.5em; margin-bottom: .3em; }}
h2 {{ font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }}
dl {{ display: grid; grid-template-columns: max-content auto; gap: .1em 1em; margin: 0; }}
dt {{ color: #666; }} dd {{ margin: 0; }}
table {{ border-collapse: collapse; margin: .5em 0; }}
th, td {{ padding: .2em .8em; border-bottom: 1px solid #e4e4e4; text-align: right; }}
tbody th {{ text-align: left; font-weight: normal; color: #444; }}
img {{ max-width: 100%; height: auto; }}
.read {{ color: #555; font-size: .92em; margin-top: 0; }}
.note {{ background: #fff6dc; padding: .5em .8em; }}
footer {{ margin-top: 2em; color: #777; font-size: .85em; }}
@media print {{ section {{ break-inside: avoid; }} }}
</style></head>
<body>
{body}
</body></html>
"""
