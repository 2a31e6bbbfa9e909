"""``insole sessions [DIR]``: the sessions saved under a folder, one line each.

Start time (local), duration, landings, forefoot % and size, read from the files the logger
wrote (:mod:`analysis.overview` says where each figure comes from), never by re-analysing the
samples; sessions that were not closed cleanly are marked. ``--json`` prints the same as a list.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

from analysis import plots
from analysis.overview import list_sessions


def local_time(iso_utc: str | None) -> str:
    """``started_at`` (UTC, ISO 8601) as local time, ``YYYY-MM-DD HH:MM:SS``; "?" if unreadable."""
    if not iso_utc:
        return "?"
    try:
        return datetime.fromisoformat(iso_utc).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return "?"


def clock(seconds: float | None) -> str:
    """A duration as ``m:ss`` or, from an hour, ``h:mm:ss``; "?" if unknown."""
    return "?" if seconds is None else plots.clock(seconds)


def size(n_bytes: int) -> str:
    """Bytes in SI units, as ls -h --si and file managers show them: ``812 kB``, ``18.2 MB``."""
    value, unit = float(n_bytes), "B"
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            break
        value /= 1000
    return f"{value:.0f} {unit}" if unit in ("B", "kB") or value >= 100 else f"{value:.1f} {unit}"


HEADER = ("folder", "started", "duration", "landings", "forefoot", "size")
RIGHT = {"duration", "landings", "forefoot", "size"}


def table_lines(found) -> list[str]:
    """The listing as plain aligned columns (never wrapped or cut: the folder name is what
    ``insole report`` needs), the status of a session not complete at the end of its line."""
    rows = []
    for o in found:
        mark = "" if o.status == "complete" else o.status
        if o.note:
            mark = f"{mark} ({o.note})" if mark else o.note
        rows.append(([Path(o.folder).name, local_time(o.started_at), clock(o.duration_s),
                      "–" if o.landings is None else str(o.landings),
                      "–" if o.forefoot_pct is None else f"{o.forefoot_pct:.1f} %",
                      size(o.size_bytes)], mark))
    widths = [max(len(h), *(len(r[0][i]) for r in rows)) for i, h in enumerate(HEADER)]

    def line(cells, mark=""):
        text = "  ".join(c.rjust(w) if h in RIGHT else c.ljust(w) for c, w, h in zip(cells, widths, HEADER))
        return f"{text}  {mark}".rstrip()
    return [line(HEADER)] + [line(cells, mark) for cells, mark in rows]


def sessions_main(args) -> int:
    from pi.common import DEFAULT_OUT
    if args.dir is None and not Path(DEFAULT_OUT).exists():
        # the default folder before the first `insole run`: nothing saved yet, not a mistake
        if args.json:
            print("[]")
        else:
            print(f"no sessions yet under ./{DEFAULT_OUT} (insole run saves them there)")
        return 0
    args.dir = args.dir or DEFAULT_OUT
    found, others = list_sessions(args.dir)
    if args.json:
        json.dump([o.to_json() for o in found], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if not found:
        print(f"no sessions in {args.dir}")
    else:
        print(f"{len(found)} session{'s' if len(found) > 1 else ''} in {args.dir}:")
        print("\n".join(table_lines(found)))
        if any(o.status == "unfinished" for o in found):
            print("unfinished: not closed cleanly (power cut or killed); `insole report` reads it up to "
                  "its last saved frame")
    if others:
        print(f"not sessions (no session.json), left out: {', '.join(others)}")
    return 0
