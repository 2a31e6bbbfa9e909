"""``insole compare A B``: two sessions, or two marker-delimited parts of one, side by side.

``A`` and ``B`` are session folders, or ``FOLDER:SEGMENT`` for one part of a session cut at its
markers (:meth:`analysis.load.LoadedSession.segments`): the segment's label or its number.
Prints each measure of :mod:`analysis.compare` for both, B − A and its 95 % interval; ``--out``
also writes the page of :mod:`analysis.compare_report`.
"""

from __future__ import annotations

from analysis.compare import compare, signed, warnings
from analysis.load import load_part, parse_settings


def compare_main(args) -> int:
    from rich.console import Console
    from rich.table import Table

    cache: dict = {}
    overrides = parse_settings(getattr(args, "set", None))
    a, name_a = load_part(args.a, cache, **overrides)
    b, name_b = load_part(args.b, cache, **overrides)
    if name_a == name_b:
        name_a, name_b = f"{name_a} (A)", f"{name_b} (B)"
    console = Console()
    err = Console(stderr=True)
    with err.status("bootstrapping the intervals", spinner="dots"):
        rows = compare(a, b, resamples=args.resamples)
    t = Table(title=f"A: {name_a} ({len(a.landings)} landings)   B: {name_b} ({len(b.landings)} landings)",
              title_justify="left")
    for col in ("", "A", "B", "B − A", "95 % interval", ""):
        t.add_column(col, justify="left" if col == "" else "right")
    for r in rows:
        m = r.measure
        d = m.digits
        t.add_row(m.label + (f" ({m.unit})" if m.unit else ""),
                  "–" if r.a is None else f"{r.a:.{d}f}", "–" if r.b is None else f"{r.b:.{d}f}",
                  "–" if r.diff is None else signed(r.diff, d),
                  "–" if r.lo is None else f"{signed(r.lo, d)} to {signed(r.hi, d)}",
                  "" if r.differs is None else ("[bold]differs[/bold]" if r.differs else "[dim]no clear difference[/dim]"))
    console.print(t)
    for w in warnings(a, b):
        console.print(f"[yellow]note:[/yellow] {w}", highlight=False)
    console.print(f"[dim]means or medians over landings, as named (strides for cadence); intervals: {args.resamples} moving-block bootstrap resamples of each side; "
                  "'differs': the interval excludes zero[/dim]")
    if args.out:
        from analysis.compare_report import write_compare
        with err.status("writing the comparison page", spinner="dots"):
            page = write_compare(a, b, rows, name_a, name_b, args.out, resamples=args.resamples)
        err.print(f"wrote {page} (open it in a browser), with its PNGs and compare.json beside it")
    return 0
