"""``insole import FILE --out DIR``: another system's recording → a session folder.

A thin layer over :mod:`analysis.importers`: picks the format (``--format``, or from the file's
content), checks that the options fit it, reads with a progress bar on long files, writes the
session and says what it did and what the user should know (notes).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from analysis.errors import UsageError
from analysis.importers import FORMATS, ImportOptions, detect, read, write_session

def choose_format(args) -> str:
    if args.format != "auto":
        return args.format
    if args.layout:
        return "csv"
    found = detect(args.file)
    if found is None:
        raise UsageError(f"cannot tell the format of {Path(args.file).name}: give --format csv with --layout "
                         f"and --units, or --format {' or '.join(f for f in FORMATS if f != 'csv')}")
    return found


def import_options(args) -> ImportOptions:
    """The import's options from ``insole import``'s arguments."""
    return ImportOptions(mass_kg=args.mass, on_gap=args.on_gap, layout=args.layout, units=args.units,
                         time_column=args.time_column, time_units=args.time_units, delimiter=args.delimiter,
                         rate_hz=args.rate, demographics=args.demographics)


def import_main(args) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    fmt = choose_format(args)
    err = Console(stderr=True, highlight=False)
    started = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeRemainingColumn(), console=err, transient=True, disable=not err.is_terminal) as prog:
        reading = prog.add_task("reading", total=1)
        rec = read(args.file, fmt, import_options(args), lambda d, n: prog.update(reading, completed=d / n))
        writing = prog.add_task("writing", total=1)
        out = write_session(rec, args.out, lambda d, n: prog.update(writing, completed=d / n))
    took = time.perf_counter() - started
    feet = ", ".join(f"{len(rec.layout.index[f])} {f}" for f in rec.layout.feet)
    mass = f"body mass {rec.body_mass_kg:g} kg" if rec.body_mass_kg else "body mass unknown"
    print(f"wrote {out}: {fmt} {rec.file}, {rec.t_s[-1]:.1f} s at {rec.rate_hz:g} frames/s, sensors {feet}, "
          f"{mass}, in {took:.1f} s", file=sys.stderr)
    for note in rec.notes:
        print(f"  note: {note}", file=sys.stderr)
    print(f"next: insole report {out}", file=sys.stderr)
    return 0
