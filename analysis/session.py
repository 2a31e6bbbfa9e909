"""The session folder, format ``insole-session/1`` (DESIGN.md contract 2): writer and reader.

::

    SESSION/
      session.json   metadata
      samples.csv    t_s,<sensor>,…   one row per frame (t_s: s since start, monotonic clock)
      landings.csv   one row per landing found live
      truth.csv      simulated sessions only: the true landings

Crash safety: the writer flushes the CSV files at least every ``flush_s`` (0.5 s) and fsyncs
them at least every ``fsync_s`` (2 s), and ``session.json`` is replaced atomically (written to a
temporary file, fsynced, renamed), so a power cut loses at most ~2 s of frames and leaves a
folder the reader accepts: it drops a torn last line of any CSV.
"""

from __future__ import annotations

import errno
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from .errors import ConfigError, SessionError
from .layout import Layout
from .samples_csv import read_samples

FORMAT = "insole-session/1"
#: A session is personal health data: its folder is its owner's alone (files 0600, the folder
#: 0700, less what the umask takes away). ``INSOLE_SESSION_MODE`` (octal, e.g. 750) gives the
#: folder's mode instead, its files the same less the execute bits.
PRIVATE_DIR_MODE = 0o700


def session_modes() -> tuple[int, int]:
    """(folder mode, file mode) for a new session folder's contents."""
    raw = os.environ.get("INSOLE_SESSION_MODE")
    mode = PRIVATE_DIR_MODE
    if raw:
        try:
            mode = int(raw, 8)
        except ValueError:
            raise ConfigError(f"INSOLE_SESSION_MODE: expected an octal mode such as 750, got {raw!r}") from None
        if not 0 <= mode <= 0o777 or not mode & 0o700 == 0o700:
            raise ConfigError(f"INSOLE_SESSION_MODE: expected a mode from 700 to 777 (the owner keeps all), got {raw!r}")
    return mode, mode & 0o666


def open_private(path: Path, mode: str = "w", **kw):
    """``open(path, mode)`` for a file of a session folder, created with the session's file mode."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, session_modes()[1])
    return open(fd, mode, **kw)
LANDING_COLUMNS = ("foot", "t_on_s", "t_off_s", "contact_ms", "strike", "strike_index",
                   "first_region", "rear_lag_ms", "peak_force_n", "peak_force_bw", "loading_rate_bw_s",
                   "flight_ms")
TRUTH_COLUMNS = ("foot", "t_on_s", "t_off_s", "strike", "strike_index", "contact_ms")


def write_json_atomic(path: Path, data: dict) -> None:
    """Replace ``path`` with ``data`` as JSON so that a crash leaves the old or the new file."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open_private(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, allow_nan=False, default=_json_default)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)      # the old session.json stays as it was
        raise
    _fsync_dir(path.parent)


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def csv_cell(v) -> str:
    """A value as this format writes it in a CSV cell: 6 decimals at most, empty for None/NaN."""
    if v is None:
        return ""
    if isinstance(v, float):
        if not math.isfinite(v):
            return ""
        return f"{v:.6f}".rstrip("0").rstrip(".") if abs(v) < 1e6 else repr(v)
    return str(v)


class _CsvAppender:
    """An append-only CSV file with the flush/fsync policy of the session."""

    def __init__(self, path: Path, header: Iterable[str]):
        self.path = path
        self.fh = open_private(path, "w", encoding="utf-8", newline="")
        self.bytes = 0            # written so far (ASCII: characters are bytes)
        self.write_text(",".join(header) + "\n")
        self.flush(True)          # a crash in the first half second still leaves the header

    def write_text(self, text: str) -> None:
        self.fh.write(text)
        self.bytes += len(text)

    def flush(self, sync: bool) -> None:
        self.fh.flush()
        if sync:
            os.fsync(self.fh.fileno())

    def close(self) -> None:
        if not self.fh.closed:
            try:
                self.flush(True)
            finally:
                self.fh.close()


class SessionWriter:
    """Writes one session folder as frames and landings arrive.

    Not thread-safe: one thread (the writer thread of the logger) owns it. ``meta`` is the
    ``session.json`` content; ``health`` and ``markers`` are kept up to date through
    :meth:`update_meta`.
    """

    def __init__(self, folder: str | os.PathLike, meta: dict, layout: Layout, integer_values: bool = True,
                 flush_s: float = 0.5, fsync_s: float = 2.0, with_truth: bool = False,
                 with_landings: bool = True):
        self.folder = Path(folder)
        made = not self.folder.exists()
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=session_modes()[0])
        except OSError as e:
            raise SessionError(f"cannot create the session folder {self.folder}: {e.strerror}") from e
        if (self.folder / "session.json").exists():
            raise SessionError(f"{self.folder} already holds a session; choose another --out")
        try:
            self._begin(meta, layout, integer_values, flush_s, fsync_s, with_truth, with_landings)
        except OSError as e:
            # a full disk (or a read-only one) before the first frame: no empty session is left
            for f in (getattr(self, a, None) for a in ("samples", "landings", "truth")):
                if f is not None:
                    try:
                        f.fh.close()
                    except OSError:
                        pass
            for name in ("samples.csv", "landings.csv", "truth.csv", "session.json", "session.json.tmp"):
                (self.folder / name).unlink(missing_ok=True)
            if made:
                try:
                    self.folder.rmdir()
                except OSError:
                    pass
            raise SessionError(f"cannot start a session in {self.folder}: "
                               f"{e.strerror or e}{' (is the disk full?)' if e.errno in (errno.ENOSPC, errno.EFBIG) else ''}") from e

    def _begin(self, meta, layout, integer_values, flush_s, fsync_s, with_truth, with_landings) -> None:
        self.meta = dict(meta)
        self.meta.setdefault("format", FORMAT)
        self.meta.setdefault("markers", [])
        self.meta.setdefault("health", {"frames": 0, "late_frames": 0, "skipped_frames": 0, "bus_errors": 0})
        self.meta["sensors"] = layout.to_json()
        self.n_sensors = len(layout)
        fmt_value = "%d" if integer_values else "%.6g"
        self._row_fmt = "%.6f" + ("," + fmt_value) * self.n_sensors + "\n"
        self.integer_values = integer_values
        self.flush_s, self.fsync_s = flush_s, fsync_s
        write_json_atomic(self.folder / "session.json", self.meta)
        self.samples = _CsvAppender(self.folder / "samples.csv", ["t_s", *layout.names])
        # an imported session has no live landings (contract 2): no landings.csv at all
        self.landings = _CsvAppender(self.folder / "landings.csv", LANDING_COLUMNS) if with_landings else None
        self.truth = _CsvAppender(self.folder / "truth.csv", TRUTH_COLUMNS) if with_truth else None
        self._files = [f for f in (self.samples, self.landings, self.truth) if f]
        now = time.monotonic()
        self._last_flush = self._last_sync = now
        self.frames_written = 0          # handed to the file
        self.frames_saved = 0            # of those, written out to the system (flushed) without an error

    def write_frames(self, t_s: np.ndarray, values: np.ndarray) -> None:
        """Append frames: ``t_s`` (n,) s, ``values`` (n, n_sensors) stored values, NaN where a
        sensor was not sampled (written as an empty cell)."""
        if len(t_s) == 0:
            return
        vals = np.asarray(values)
        times = np.asarray(t_s, dtype=float).tolist()
        if vals.dtype.kind == "f" and np.isnan(vals).any():
            # a sensor not sampled (its chip did not answer) is an empty cell (contract 2)
            text = "".join(f"{t:.6f}," + ",".join("" if v != v else self._cell(v) for v in row) + "\n"
                           for t, row in zip(times, vals.tolist()))
        else:
            vals = np.rint(vals).astype(np.int64) if self.integer_values else vals.astype(float)
            fmt = self._row_fmt
            text = "".join(fmt % (t, *v) for t, v in zip(times, vals.tolist()))
        self.samples.write_text(text)
        self.frames_written += len(t_s)

    def _cell(self, v: float) -> str:
        return "%d" % round(v) if self.integer_values else "%.6g" % v

    @property
    def bytes_written(self) -> int:
        """Bytes handed to the session's files so far (what the disk must take)."""
        return sum(f.bytes for f in self._files)

    def write_landing(self, row: dict) -> None:
        if self.landings is None:
            raise SessionError("this session was not opened with a landings file")
        self.landings.write_text(",".join(csv_cell(row.get(c)) for c in LANDING_COLUMNS) + "\n")

    def write_truth(self, rows: Iterable[dict]) -> None:
        if self.truth is None:
            raise SessionError("this session was not opened with a truth file")
        self.truth.write_text("".join(",".join(csv_cell(r.get(c)) for c in TRUTH_COLUMNS) + "\n" for r in rows))

    def update_meta(self, **changes: Any) -> None:
        """Change top-level keys of session.json (health, markers, …); written at the next sync."""
        self.meta.update(changes)
        self._meta_dirty = True

    def add_marker(self, t_s: float, label: str) -> None:
        self.meta["markers"].append({"t_s": round(float(t_s), 6), "label": str(label)})
        self._meta_dirty = True

    def tick(self, now: float | None = None) -> None:
        """Flush/fsync on schedule; call it often (every batch)."""
        now = time.monotonic() if now is None else now
        if now - self._last_flush >= self.flush_s:
            sync = now - self._last_sync >= self.fsync_s
            written = self.frames_written
            for f in self._files:
                f.flush(sync)
                if f is self.samples:
                    self.frames_saved = written
            self._last_flush = now
            if sync:
                self._last_sync = now
                if getattr(self, "_meta_dirty", False):
                    write_json_atomic(self.folder / "session.json", self.meta)
                    self._meta_dirty = False

    def close(self, **final_meta: Any) -> None:
        """Flush and fsync everything and write the final session.json. Every file is closed
        and session.json attempted even if one of them fails (a full disk); the first error is
        raised after that."""
        first: BaseException | None = None
        for f in self._files:
            try:
                written = self.frames_written
                f.close()
                if f is self.samples:
                    self.frames_saved = written
            except OSError as e:
                first = first or e
        self.meta.update(final_meta)
        try:
            write_json_atomic(self.folder / "session.json", self.meta)
            _fsync_dir(self.folder)
        except OSError as e:
            first = first or e
        if first is not None:
            raise SessionError(f"could not finish writing {self.folder}: {first}") from first


# --------------------------------------------------------------------------------- reading ---


@dataclass
class Session:
    """A session folder in memory. ``values`` are the stored values (see each sensor's
    calibration); ``landings``/``truth`` are lists of dicts as in the CSV files (numbers parsed)."""

    path: Path
    meta: dict
    layout: Layout
    t_s: np.ndarray
    values: np.ndarray
    landings: list[dict] | None = None
    truth: list[dict] | None = None
    torn_lines: int = 0
    notes: list[str] = field(default_factory=list)   # problems found in the data, one line each
    tables_read: bool = True             # False: landings/truth were not read (read_session(tables=False))
    #: indices of frames that follow skipped lines or rows of samples.csv (nothing is measured
    #: across them); NaN in ``values`` is a sensor not sampled in that frame
    breaks: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    bad_cell: tuple[int, str, str] | None = None     # the first unreadable cell: (line, column, text)

    @property
    def rate_hz(self) -> float:
        r = self.meta.get("rate_hz")
        if isinstance(r, (int, float)) and not isinstance(r, bool) and math.isfinite(r) and r > 0:
            return float(r)
        steps = np.diff(self.t_s)
        steps = steps[steps > 0]
        return 1.0 / float(np.median(steps)) if steps.size else 100.0

    @property
    def body_mass_kg(self) -> float | None:
        subject = self.meta.get("subject")
        m = subject.get("body_mass_kg") if isinstance(subject, dict) else None
        return float(m) if isinstance(m, (int, float)) and not isinstance(m, bool) and m > 0 else None


def _complete_lines(data: bytes) -> tuple[bytes, int]:
    """Drop a torn last line (no newline at the end); returns (data, lines dropped)."""
    if not data or data.endswith(b"\n"):
        return data, 0
    cut = data.rfind(b"\n")
    return (data[: cut + 1] if cut >= 0 else b""), 1


def _num(s: str):
    if s == "":
        return None
    try:
        v = float(s)
    except ValueError:
        return s
    return v


MAX_LINE_BYTES = 64 << 10      # a row of a landings/truth table is < 300 B: a longer line is damage


def iter_lines(fh, max_bytes: int = MAX_LINE_BYTES):
    """(line number from 1, the line without its end, or None when it is longer than
    ``max_bytes``) of a file opened in binary mode, without ever holding more than ``max_bytes``
    of it; a torn last line (no line end) is left out."""
    no = 0
    while True:
        line = fh.readline(max_bytes)
        if not line:
            return
        no += 1
        if line.endswith(b"\n"):
            yield no, line[:-1]
            continue
        if len(line) < max_bytes:       # the end of the file without a line end: torn
            return
        while line and not line.endswith(b"\n"):     # over-long: skip to its end unread
            line = fh.readline(max_bytes)
        yield no, None                  # damage, even at the end of the file (not a torn row)
        if not line:
            return


def iter_rows(path: Path, bad: list[int] | None = None):
    """The rows of a landings/truth CSV as dicts (numbers parsed, empty cells None), read a line
    at a time; a line that is not a row (a cell count unlike the header's, a carriage return,
    quote or NUL inside, an over-long line) is skipped and its number appended to ``bad``."""
    with open(path, "rb") as fh:
        header = None
        for no, line in iter_lines(fh):
            if line is not None:
                line = line[:-1] if line.endswith(b"\r") else line
                if not line:
                    continue
            if line is None or any(c in line for c in (b"\r", b'"', b"\x00")):
                cells = None
            else:
                cells = line.decode("utf-8", errors="replace").split(",")
            if header is None:
                if cells is None:
                    raise SessionError(f"{path}: line {no}: not a header line")
                header = cells
                continue
            if cells is None or len(cells) != len(header):
                if bad is not None:
                    bad.append(no)
                continue
            yield {h: _num(v) for h, v in zip(header, cells)}


def read_rows(path: Path, bad: list[int] | None = None) -> list[dict]:
    """A landings/truth CSV as a list of dicts (see :func:`iter_rows`)."""
    return list(iter_rows(path, bad))


def markers_of(meta: dict) -> list[tuple[float, str]]:
    """A session's markers as (t_s, label), in time order (read_session has checked them)."""
    return sorted((float(m["t_s"]), str(m.get("label", ""))) for m in meta.get("markers") or [])


#: session.json's numbers, each checked where present: key path → (lowest, highest, what)
META_NUMBERS = {
    ("rate_hz",): (0.1, 100_000.0, "frames per second"),
    ("duration_s",): (0.0, 1e7, "seconds"),
    ("subject", "body_mass_kg"): (1.0, 500.0, "a body mass in kg"),
    **{("health", k): (0, 1e12, "a count") for k in ("frames", "frames_read", "late_frames", "skipped_frames",
                                                       "bus_errors")},
}


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:12]}… ({len(text)} characters)"


def check_meta_numbers(meta: dict, where) -> None:
    """Raise :class:`SessionError` naming ``where`` (the file) and the key when one of
    ``META_NUMBERS`` is not a finite number in its range (1e308 frames/s, a 300-digit
    duration, NaN: each would give a figure that is wrong, or an overflow, later)."""
    for keys, (lo, hi, what) in META_NUMBERS.items():
        node = meta
        for k in keys[:-1]:
            node = node.get(k) if isinstance(node, dict) else None
        if not isinstance(node, dict) or node.get(keys[-1]) is None:
            continue
        value = node[keys[-1]]
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok:
            try:
                ok = math.isfinite(float(value)) and lo <= value <= hi
            except OverflowError:                       # an int too large for a float
                ok = False
        if not ok:
            raise SessionError(f"{where}: {'.'.join(keys)}: expected {what} from {lo:g} to {hi:g}, got {_shown(value)}")
    for i, m in enumerate(meta.get("markers") or []):
        t = m.get("t_s") if isinstance(m, dict) else None
        if isinstance(t, float) and not math.isfinite(t):
            raise SessionError(f"{where}: markers[{i}].t_s: expected a time in seconds, got {_shown(t)}")


def read_session(path: str | os.PathLike, tables: bool = True) -> Session:
    """Read a session folder; raise :class:`SessionError` with a one-line reason if it is not one.
    ``tables=False`` skips landings.csv and truth.csv (their fields are then None)."""
    folder = Path(path)
    if not folder.exists():
        raise SessionError(f"no such session folder: {folder}")
    if not folder.is_dir():
        raise SessionError(f"{folder} is a file, not a session folder")
    meta_path = folder / "session.json"
    if not meta_path.exists():
        inside = sorted(d.name for d in folder.iterdir() if (d / "session.json").is_file())
        if inside:                       # e.g. the --out folder of `insole run`: name one of its sessions
            more = f" (and {len(inside) - 1} more)" if len(inside) > 1 else ""
            raise SessionError(f"{folder} holds session folders; name one, e.g. {folder / inside[-1]}{more}")
        raise SessionError(f"{folder} is not a session folder (no session.json)")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise SessionError(f"{meta_path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from e
    except UnicodeDecodeError as e:
        raise SessionError(f"{meta_path}: not UTF-8 text (byte {e.start})") from e
    except OSError as e:
        raise SessionError(f"{meta_path}: cannot read: {e.strerror}") from e
    if not isinstance(meta, dict):
        raise SessionError(f"{meta_path}: expected a JSON object")
    fmt = meta.get("format")
    if fmt != FORMAT:
        raise SessionError(f"{meta_path}: format must be {FORMAT!r}, got {fmt!r}")
    for key, kind in (("subject", dict), ("markers", list), ("health", dict), ("source", dict)):
        if key in meta and meta[key] is not None and not isinstance(meta[key], kind):
            raise SessionError(f"{meta_path}: {key} must be a JSON {'object' if kind is dict else 'list'}, "
                               f"got {type(meta[key]).__name__}")
    for i, m in enumerate(meta.get("markers") or []):
        if not isinstance(m, dict) or isinstance(m.get("t_s"), bool) or not isinstance(m.get("t_s"), (int, float)):
            raise SessionError(f"{meta_path}: markers[{i}] must be an object with a number t_s, got {m!r}")
    gaps = meta.get("gaps")
    if gaps is not None and (not isinstance(gaps, list) or not all(isinstance(g, dict) for g in gaps)):
        raise SessionError(f"{meta_path}: gaps must be a list of objects (t_s, duration_s, reason), got {gaps!r}")
    check_meta_numbers(meta, meta_path)
    try:
        layout = Layout.from_json(meta.get("sensors"), where=f"{meta_path}: sensors")
        from .calibration import validate
        for i, s in enumerate(layout):
            validate(s.calibration, f"{meta_path}: sensors[{i}].calibration")
    except ConfigError as e:
        raise SessionError(str(e)) from e
    samples = read_samples(folder / "samples.csv", list(layout.names))
    landings = read_rows(folder / "landings.csv") if tables and (folder / "landings.csv").exists() else None
    truth = read_rows(folder / "truth.csv") if tables and (folder / "truth.csv").exists() else None
    return Session(folder, meta, layout, samples.t_s, samples.values, landings, truth, samples.torn,
                   notes=samples.notes() + health_notes(meta, samples.frames, folder / "samples.csv"), tables_read=tables,
                   breaks=samples.breaks, bad_cell=samples.first_bad_cell)


#: a session not closed whose samples.csv changed this recently (s) is being recorded; the
#: writer flushes every 0.5 s, so a live session is never older than that
RECORDING_S = 5.0


def recording(meta: dict, samples: Path, now: float | None = None) -> bool:
    """Whether the session is being recorded now: not closed, and samples.csv written lately."""
    if "ended_at" in meta:
        return False
    try:
        return (time.time() if now is None else now) - samples.stat().st_mtime < RECORDING_S
    except OSError:
        return False


def health_notes(meta: dict, frames_read: int, samples: Path) -> list[str]:
    """Notes on the rows read against what the logger counted (``health.frames``) and on how
    the session ended."""
    out = []
    kind = (meta.get("source") or {}).get("kind")
    closed = "ended_at" in meta or kind == "import"
    counted = (meta.get("health") or {}).get("frames")
    if isinstance(counted, (int, float)) and not isinstance(counted, bool):
        counted = int(counted)
        if frames_read < counted:
            out.append(f"samples.csv holds {frames_read} frames, {counted - frames_read} fewer than the "
                       f"{counted} the logger counted (session.json): the file was cut or damaged")
        elif frames_read > counted and not closed:      # health is saved every 2 s while logging
            out.append(f"session.json's health was last saved before the end: it counts {counted} frames, "
                       f"samples.csv holds {frames_read}; its figures leave out the last "
                       f"{frames_read - counted} frames")
        elif frames_read > counted:
            out.append(f"samples.csv holds {frames_read} frames, {frames_read - counted} more than the "
                       f"{counted} session.json counts")
    if recording(meta, samples):
        out.append("this session is still being recorded; it is analysed up to its last saved frame")
    elif not closed:
        out.append("this session did not end cleanly (power cut or killed); "
                   "it is analysed up to its last saved frame")
    return out
