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
readable up to its last saved frame), ``damaged`` (``session.json`` unreadable or not a session's,
its ``sensors`` missing or bad, ``samples.csv`` missing, empty, with a header unlike the sensors
or no frame, or a line of ``landings.csv`` that is not a row), with the reason in ``note``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import ConfigError, SessionError
from .layout import Layout
from .session import FORMAT, _complete_lines, check_meta_numbers, iter_lines, iter_rows, recording
from .measures import forefoot_pct

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
    samples = folder / "samples.csv"
    try:
        check_meta_numbers(meta, "session.json")
        layout = Layout.from_json(meta.get("sensors"), where="session.json: sensors")
        _check_samples(samples, layout, recording(meta, samples, now))
        strikes = _strikes(folder / "landings.csv")
    except (SessionError, ConfigError) as e:
        started = meta.get("started_at")
        return Overview(str(folder), started if isinstance(started, str) else None, None, None, None, size,
                        "damaged", str(e))
    notes = []
    duration = meta.get("duration_s")
    closed = "ended_at" in meta
    if not _is_number(duration):
        duration, torn = _last_t_s(samples)
        if torn:
            notes.append("torn last line")
    status = "complete" if closed else "recording" if recording(meta, samples, now) else "unfinished"
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


def _check_samples(samples: Path, layout: Layout, live: bool) -> None:
    """Raise SessionError when samples.csv is missing, empty, has a header unlike the sensors of
    session.json, or (not being recorded) holds no frame; reads only its first lines."""
    try:
        with open(samples, "rb") as fh:
            first = next(iter_lines(fh), None)
            more = fh.read(1) != b""         # not the next line: it may be gigabytes of damage
    except FileNotFoundError:
        raise SessionError("no samples.csv") from None
    except OSError as e:
        raise SessionError(f"samples.csv unreadable: {e.strerror}") from None
    if first is None or first[1] is None or not first[1].strip():
        raise SessionError("samples.csv is empty")
    if first[1].decode("utf-8", "replace").strip().split(",") != ["t_s", *layout.names]:
        raise SessionError("samples.csv: its header does not match the sensors of session.json")
    if not more and not live:
        raise SessionError("samples.csv holds no frames")


def _strikes(landings: Path) -> list[str] | None:
    """The ``strike`` of each row of landings.csv, read a line at a time; None when there is no
    such file. Raises SessionError naming the first line that is not a row."""
    if not landings.exists():
        return None
    bad: list[int] = []
    try:
        strikes = [str(r.get("strike")) for r in iter_rows(landings, bad)]
    except OSError as e:
        raise SessionError(f"landings.csv unreadable: {getattr(e, 'strerror', None) or e}") from None
    if bad:
        raise SessionError(f"landings.csv: line {bad[0]} is not a row"
                           + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""))
    return strikes


def _size_bytes(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:
                pass                       # removed while listing
    return total
