"""A session folder at a glance: what ``insole sessions`` lists, read without analysing it.

Every figure comes from what the logger wrote as it went, so listing an hour-long session takes
milliseconds, not the seconds a re-analysis of its samples would:

* **start**: ``started_at`` of ``session.json`` (UTC, ISO 8601);
* **duration**: ``duration_s`` of ``session.json`` (written when the session is closed); for a
  session that was not closed (power cut, killed, still recording), the ``t_s`` of the last
  complete line of ``samples.csv``, read from the end of the file;
* **landings** and **forefoot %**: the rows of ``landings.csv`` (the verdicts given live, by the
  same gait core ``insole report`` runs again on the samples) and their ``strike`` column; an
  imported session has no ``landings.csv``, so these are unknown (None);
* **size**: the bytes of the folder's files (what a copy to a laptop moves).

The **status** of a session: ``complete`` (closed cleanly: ``ended_at`` in ``session.json``),
``recording`` (not closed, and ``samples.csv`` written in the last ``RECORDING_S``: the logger is
at it now), ``unfinished`` (not closed and no longer written: a power cut or a kill; still
readable up to its last saved frame), ``damaged`` (``session.json`` unreadable or not a session's).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import SessionError
from .session import FORMAT, _complete_lines, check_meta_numbers, read_rows
from .summary import forefoot_pct

#: a session not closed whose samples.csv changed this recently (s) is being recorded; the
#: writer flushes every 0.5 s (analysis/session.py), so a live session is never older than that
RECORDING_S = 5.0
TAIL_BYTES = 64 * 1024        # the end of samples.csv read for its last frame (rows are < 200 B)


@dataclass(frozen=True)
class Overview:
    """One session folder's figures (see the module docstring); None where not known."""

    folder: str                 # the folder's path
    started_at: str | None      # UTC, ISO 8601
    duration_s: float | None
    landings: int | None
    forefoot_pct: float | None  # %, of ``landings``
    size_bytes: int
    status: str                 # complete | recording | unfinished | damaged
    note: str | None = None     # why damaged, or what is missing

    def to_json(self) -> dict:
        return asdict(self)


def overview(folder: str | os.PathLike, now: float | None = None) -> Overview:
    """The figures of the session folder ``folder`` (one holding ``session.json``); ``now``
    (time.time()) is for deciding whether it is being recorded."""
    folder = Path(folder)
    now = time.time() if now is None else now
    size = _size_bytes(folder)
    try:
        meta = json.loads((folder / "session.json").read_text(encoding="utf-8"))
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError(f"not an {FORMAT} session.json")
    except (OSError, ValueError) as e:      # JSONDecodeError and UnicodeDecodeError are ValueErrors
        why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        return Overview(str(folder), None, None, None, None, size, "damaged",
                        f"session.json unreadable: {why}")
    try:
        check_meta_numbers(meta, "session.json")
    except SessionError as e:
        return Overview(str(folder), None, None, None, None, size, "damaged", str(e))
    notes = []
    samples = folder / "samples.csv"
    duration = meta.get("duration_s")
    closed = "ended_at" in meta
    if not _is_number(duration):
        duration, torn = _last_t_s(samples)
        if torn:
            notes.append("torn last line")
    if closed:
        status = "complete"
    else:
        try:
            fresh = now - samples.stat().st_mtime < RECORDING_S
        except OSError:
            fresh = False
        status = "recording" if fresh else "unfinished"
    strikes = _strikes(folder / "landings.csv")
    if strikes is None:
        notes.append("no landings.csv (imported?)")
    started = meta.get("started_at")
    return Overview(str(folder), started if isinstance(started, str) else None,
                    float(duration) if _is_number(duration) else None,
                    None if strikes is None else len(strikes),
                    None if strikes is None else forefoot_pct(strikes),
                    size, status, "; ".join(notes) or None)


def list_sessions(folder: str | os.PathLike) -> tuple[list[Overview], list[str]]:
    """(the session folders in ``folder``, oldest first; names of the other folders in it).
    ``folder`` may also be one session folder itself."""
    folder = Path(folder)
    if not folder.exists():
        raise SessionError(f"no such folder: {folder}")
    if not folder.is_dir():
        raise SessionError(f"{folder} is a file, not a folder of sessions")
    if (folder / "session.json").exists():
        return [overview(folder)], []
    now = time.time()
    found, others = [], []
    try:
        entries = sorted(os.scandir(folder), key=lambda d: d.name)
    except OSError as e:
        raise SessionError(f"cannot read {folder}: {e.strerror}") from e
    for entry in entries:
        if not entry.is_dir():
            continue
        if (Path(entry.path) / "session.json").exists():
            found.append(overview(entry.path, now))
        else:
            others.append(entry.name)
    # by start time (the folder name where it is unknown: names are start times by default)
    found.sort(key=lambda o: (o.started_at or "", Path(o.folder).name))
    return found, others


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and v >= 0


def _last_t_s(samples: Path) -> tuple[float | None, bool]:
    """(``t_s`` of the last complete row of samples.csv or None, whether its last line is torn)."""
    try:
        with open(samples, "rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - TAIL_BYTES))
            tail = fh.read()
    except OSError:
        return None, False
    tail, torn = _complete_lines(tail)
    lines = tail.rstrip(b"\n").split(b"\n")
    try:
        return float(lines[-1].split(b",", 1)[0]), bool(torn)
    except ValueError:                     # only the header: no frame yet
        return None, bool(torn)


def _strikes(landings: Path) -> list[str] | None:
    """The ``strike`` of each complete row of landings.csv; None when there is no such file."""
    if not landings.exists():
        return None
    try:
        return [str(r.get("strike")) for r in read_rows(landings)]
    except OSError:
        return None


def _size_bytes(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:
                pass                       # removed while listing
    return total
