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

import csv
import io
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
        self.fh.write(",".join(header) + "\n")
        self.flush(True)          # a crash in the first half second still leaves the header

    def write_text(self, text: str) -> None:
        self.fh.write(text)

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
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=session_modes()[0])
        except OSError as e:
            raise SessionError(f"cannot create the session folder {self.folder}: {e.strerror}") from e
        if (self.folder / "session.json").exists():
            raise SessionError(f"{self.folder} already holds a session; choose another --out")
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
        self.frames_written = 0

    def write_frames(self, t_s: np.ndarray, values: np.ndarray) -> None:
        """Append frames: ``t_s`` (n,) s, ``values`` (n, n_sensors) stored values."""
        if len(t_s) == 0:
            return
        vals = np.asarray(values)
        vals = np.rint(vals).astype(np.int64) if self.integer_values else vals.astype(float)
        fmt = self._row_fmt
        text = "".join(fmt % (t, *v) for t, v in zip(np.asarray(t_s, dtype=float).tolist(), vals.tolist()))
        self.samples.write_text(text)
        self.frames_written += len(t_s)

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
            for f in self._files:
                f.flush(sync)
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
                f.close()
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
    notes: list[str] = field(default_factory=list)
    tables_read: bool = True             # False: landings/truth were not read (read_session(tables=False))

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


def _read_table(path: Path) -> tuple[list[str], list[list[str]], int]:
    data, torn = _complete_lines(path.read_bytes())
    text = data.decode("utf-8", errors="replace")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return [], [], torn
    return rows[0], [r for r in rows[1:] if r], torn


def _num(s: str):
    if s == "":
        return None
    try:
        v = float(s)
    except ValueError:
        return s
    return v


def read_rows(path: Path) -> list[dict]:
    """A landings/truth CSV as dicts; numbers parsed, empty cells None, torn last line dropped."""
    header, rows, _ = _read_table(path)
    return [{h: _num(v) for h, v in zip(header, r)} for r in rows if len(r) == len(header)]


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
        layout = Layout.from_json(meta.get("sensors"), where=f"{meta_path.name}: sensors")
        from .calibration import validate
        for i, s in enumerate(layout):
            validate(s.calibration, f"{meta_path.name}: sensors[{i}].calibration")
    except ConfigError as e:
        raise SessionError(str(e)) from e
    t_s, values, torn = _read_samples(folder / "samples.csv", layout)
    landings = read_rows(folder / "landings.csv") if tables and (folder / "landings.csv").exists() else None
    truth = read_rows(folder / "truth.csv") if tables and (folder / "truth.csv").exists() else None
    return Session(folder, meta, layout, t_s, values, landings, truth, torn, tables_read=tables)


def _read_samples(path: Path, layout: Layout) -> tuple[np.ndarray, np.ndarray, int]:
    if not path.exists():
        raise SessionError(f"{path.parent} has no samples.csv")
    data, torn = _complete_lines(path.read_bytes())
    nl = data.find(b"\n")
    if nl < 0:
        raise SessionError(f"{path}: empty (no header line)")
    header = data[:nl].decode("utf-8", errors="replace").strip().split(",")
    expected = ["t_s", *layout.names]
    if header != expected:
        raise SessionError(f"{path}: header should be {','.join(expected)!r} (from session.json), got {','.join(header)!r}")
    body = data[nl + 1:]
    ncol = len(expected)
    if not body.strip():
        return np.zeros(0), np.zeros((0, ncol - 1)), torn
    # no torn line: pandas parses the file itself (faster than from a copy in memory), only the
    # rows already read whole (a file still being written may have grown since)
    arr = _parse_fast(path if not torn else body, ncol, header=not torn, rows=body.count(b"\n"))
    if arr is not None:
        return arr[:, 0].copy(), arr[:, 1:], torn
    try:                                   # the careful parser: says what is wrong, and where
        arr = np.loadtxt(io.BytesIO(body), delimiter=",", ndmin=2, dtype=float)
    except ValueError as e:
        reason = str(e).split(";")[0]            # numpy's advice after the ';' is not ours
        raise SessionError(f"{path}: malformed data: {reason}") from e
    if arr.shape[1] != ncol:
        raise SessionError(f"{path}: expected {ncol} columns, got {arr.shape[1]}")
    return arr[:, 0].copy(), arr[:, 1:].copy(), torn


def _parse_fast(source, ncol: int, header: bool = False, rows: int | None = None) -> np.ndarray | None:
    """Parse the CSV (a path, or the body as bytes) with pandas' C reader (~5× numpy.loadtxt on a
    long session), or None when it is not a clean table of ``ncol`` numeric columns; the caller
    then parses it with numpy, whose errors name the line at fault. ``header``: the source's
    first line is the header (already checked by the caller) and is skipped."""
    try:
        import pandas as pd
    except ImportError:                    # a minimal install still reads sessions, more slowly
        return None
    try:
        frame = pd.read_csv(io.BytesIO(source) if isinstance(source, bytes) else source,
                            header=0 if header else None, dtype=np.float64, engine="c", nrows=rows)
    except Exception:                      # noqa: BLE001 - any failure: let numpy explain it
        return None
    arr = frame.to_numpy(dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != ncol or np.isnan(arr).any():
        return None                        # empty cells, short rows: numpy gives the message
    return arr
