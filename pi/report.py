"""``insole report DIR``: re-analyse a session from its samples with the gait core.

Prints a console summary (rich tables, per foot), or with ``--json`` the JSON of DESIGN.md
contract 3 on stdout; ``--out REPORT`` also writes the HTML report, its PNGs, the landings CSV
and the summary JSON into the folder REPORT (:mod:`analysis.html_report`).
"""

from __future__ import annotations

import json
import sys

from analysis.html_report import summary_rows
from analysis.plots import clock
from analysis.load import LoadedSession, load_part, parse_settings


def report(session_dir, **overrides) -> tuple[dict, LoadedSession]:
    """(contract-3 summary, the LoadedSession) of a session folder (or ``FOLDER:SEGMENT``, one
    part of it between markers), re-analysed from its samples (detection ``overrides`` by name)."""
    s, _ = load_part(str(session_dir), **overrides)
    return s.summary, s


def report_main(args) -> int:
    summary, s = report(args.dir, **parse_settings(getattr(args, "set", None)))
    if args.out:
        from analysis.html_report import write_report
        from rich.console import Console

        err = Console(stderr=True)
        with err.status("writing the report", spinner="dots") as status:
            page = write_report(s, args.out, progress=lambda msg: status.update(msg))
        err.print(f"wrote {page} (open it in a browser), with its PNGs, landings.csv and summary.json beside it")
    if args.json:
        json.dump(summary, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console()
    dur = float(s.t_s[-1] - s.t_s[0]) if len(s.t_s) > 1 else 0.0
    source = s.meta.get("source") or {}
    src = source.get("kind", "?")
    if src == "import":                  # which system's file it came from
        src += f" ({source.get('format', '?')} {source.get('file', '')})".replace(" )", ")")
    part = f" part '{s.label}' ({clock(s.t_s[0])}–{clock(s.t_s[-1])})" if s.label else ""
    console.print(f"[bold]{s.path}{part}[/bold]  {s.meta.get('started_at', '')}  source {src}, "
                  f"{len(s.t_s)} frames, {dur:.1f} s at {s.rate_hz:g} frames/s"
)
    for n in s.notes:                    # what is wrong with the data comes before any figure
        console.print(f"[yellow]note:[/yellow] {n}", highlight=False)
    cols = [("all", summary)] + [(f, summary["feet"][f]) for f in s.layout.feet]
    t = Table(title="Landings", title_justify="left")
    t.add_column("")
    for name, _ in cols:
        t.add_column(name, justify="right")
    for label, cells in summary_rows(cols):
        t.add_row(label, *cells)
    console.print(t)
    parts = s.segments() if s.label is None and len(s.segment_bounds()) > 1 else []
    if parts:                            # the parts between markers, side by side
        pt = Table(title="Between markers (insole report DIR:LABEL for one)", title_justify="left")
        pt.add_column("")
        for p in parts:
            pt.add_column(f"{p.label}\n{clock(p.t_s[0])}–{clock(p.t_s[-1])}", justify="right")
        for label, cells in summary_rows([(p.label, p.summary) for p in parts]):
            pt.add_row(label, *cells)
        console.print(pt)
    h = summary.get("health") or {}
    if h:
        # null: not known (an imported file cannot tell late frames or bus errors)
        console.print("sampling health: " + ", ".join(f"{k.replace('_', ' ')} {'–' if v is None else v}"
                                                      for k, v in h.items()))
    if s.meta.get("markers"):
        console.print("markers: " + ", ".join(f"{m.get('t_s')} s {m.get('label')}" for m in s.meta["markers"]))
    return 0
