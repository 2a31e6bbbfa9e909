"""``insole report DIR``: re-analyse a session from its samples with the batch gait core.

Prints a console summary (rich tables, per foot), or with ``--json`` the JSON of DESIGN.md
contract 3 on stdout.
"""

from __future__ import annotations

import json
import sys

from analysis.errors import UsageError
from analysis.gait import analyse, gap_starts
from analysis.session import read_session
from analysis.summary import STRIKES, summarise


def report(session_dir) -> tuple[dict, object]:
    """(contract-3 summary, the Session) of a session folder, re-analysed from its samples."""
    s = read_session(session_dir)
    landings = analyse(s.t_s, s.values, s.layout, s.rate_hz, s.body_mass_kg)
    breaks = s.t_s[gap_starts(s.t_s, s.rate_hz)] if len(s.t_s) > 1 else []
    summary = summarise(landings, s.layout.feet, s.meta.get("health"), breaks)
    return summary, s


def _fmt(v, unit="", digits=1):
    if v is None:
        return "–"
    return f"{v:.{digits}f}{unit}" if isinstance(v, float) else f"{v}{unit}"


def report_main(args) -> int:
    if args.out:
        raise UsageError("--out (HTML report and plots) is not available yet in this version")
    summary, s = report(args.dir)
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
    console.print(f"[bold]{s.path}[/bold]  {s.meta.get('started_at', '')}  source {src}, "
                  f"{len(s.t_s)} frames, {dur:.1f} s at {s.rate_hz:g} frames/s"
                  + (f"  ({s.torn_lines} torn line dropped)" if s.torn_lines else ""))
    cols = [("all", summary)] + [(f, summary["feet"][f]) for f in s.layout.feet]
    t = Table(title="Landings", title_justify="left")
    t.add_column("")
    for name, _ in cols:
        t.add_column(name, justify="right")
    t.add_row("landings", *[str(c["landings"]) for _, c in cols])
    for k in STRIKES:
        label = "heel (rearfoot)" if k == "rearfoot" else k
        t.add_row(label, *[f"{c['strike_counts'][k]}" + (f" ({100 * c['strike_counts'][k] / c['landings']:.0f} %)" if c["landings"] else "") for _, c in cols])
    t.add_row("forefoot %", *[_fmt(c["forefoot_pct"], " %") for _, c in cols])
    t.add_row("strike index, median", *[_fmt(c["strike_index_median"]) for _, c in cols])
    t.add_row("cadence, steps/min", *[_fmt(c["cadence_spm"]) for _, c in cols])
    t.add_row("contact time, median", *[_fmt(c["contact_ms_median"], " ms", 0) for _, c in cols])
    t.add_row("flight time, median", *[_fmt(c["flight_ms_median"], " ms", 0) for _, c in cols])
    console.print(t)
    if "ended_at" not in s.meta:
        console.print("[yellow]note:[/yellow] this session did not end cleanly (power cut or killed); "
                      "it is analysed up to its last saved frame")
    h = summary.get("health") or {}
    if h:
        # null: not known (an imported file cannot tell late frames or bus errors)
        console.print("sampling health: " + ", ".join(f"{k.replace('_', ' ')} {'–' if v is None else v}"
                                                      for k, v in h.items()))
    if s.meta.get("markers"):
        console.print("markers: " + ", ".join(f"{m.get('t_s')} s {m.get('label')}" for m in s.meta["markers"]))
    return 0
