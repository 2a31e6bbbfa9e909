"""Reading ``samples.csv`` (DESIGN.md contract 2): every good sample kept, every problem said.

The file is read in blocks of :data:`BLOCK_BYTES`, so a damaged file (a gigabyte of NUL bytes,
a line without end) costs no more memory than its good rows. Each problem found becomes one line
of :meth:`SamplesRead.notes`, which ``insole report`` prints at the top and puts in the JSON's
``notes``:

* a torn last line (the file was cut while being written) is dropped;
* a line that is not a row (wrong number of cells, a ``t_s`` that is not a finite number, NUL
  bytes, a blank line) is skipped and counted; nothing is measured across it (a break);
* a sensor cell that is not a number, or is beyond any stored value (|v| > :data:`MAX_STORED`),
  is read as not sampled, like an empty cell (contract 2: its chip did not answer): that foot
  has a gap there, the other foot is whole;
* rows whose ``t_s`` goes back are left out until time passes the last kept row (a break); a
  file whose time goes back at many places (shuffled rows) is refused, naming the first line.

Line numbers are the file's, counted from 1 (the header).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import SessionError

BLOCK_BYTES = 4 << 20          # read this much of the file at a time
MAX_LINE_BYTES = 64 << 10      # a row is < 200 B; a "line" this long is damage, skipped unread
#: no ADC count (16-bit) or force in newtons comes near this; a larger value is not a reading
MAX_STORED = 1e7
#: time going back at more places than this share of the rows: the rows are out of order
SHUFFLED_SHARE = 0.01
SHOWN_LINES = 5                # line numbers named in a note


@dataclass
class SamplesRead:
    """What :func:`read_samples` found. ``values`` holds NaN where a sensor was not sampled
    (an empty or unreadable cell); ``breaks`` are the indices of rows that follow skipped lines
    or rows (nothing is measured across them)."""

    path: Path
    names: list[str]
    t_s: np.ndarray
    values: np.ndarray
    breaks: np.ndarray
    torn: int = 0
    bad_lines: list[int] = field(default_factory=list)     # the first few, by line number
    n_bad_lines: int = 0
    bad_cells: int = 0
    first_bad_cell: tuple[int, str, str] | None = None     # (line, column, text)
    back_rows: int = 0
    first_back: tuple[int, float, float] | None = None     # (line, its t_s, the t_s before)

    @property
    def frames(self) -> int:
        return len(self.t_s)

    def notes(self) -> list[str]:
        """One line per problem found in the file (empty for a clean file)."""
        name = self.path.name
        out = []
        if self.torn:
            out.append(f"{name}: its last line was torn (cut while being written) and was left out")
        if self.n_bad_lines:
            shown = ", ".join(str(n) for n in self.bad_lines)
            more = ", …" if self.n_bad_lines > len(self.bad_lines) else ""
            out.append(f"{name}: {_n(self.n_bad_lines, 'line')} could not be read and "
                       f"{'were' if self.n_bad_lines > 1 else 'was'} skipped (line {shown}{more}); "
                       "nothing is measured across them")
        if self.bad_cells:
            line, col, text = self.first_bad_cell
            out.append(f"{name}: {_n(self.bad_cells, 'cell')} held no reading (first at line {line}, "
                       f"column {col}: {text!r}) and {'were' if self.bad_cells > 1 else 'was'} read as not sampled")
        if self.back_rows:
            line, t, before = self.first_back
            out.append(f"{name}: t_s goes back (first at line {line}: {t:g} s after {before:g} s); "
                       f"{_n(self.back_rows, 'row')} before time caught up {'were' if self.back_rows > 1 else 'was'} "
                       "left out, and nothing is measured across them")
        if self.frames and abs(float(self.t_s[0])) > 60.0:
            out.append(f"{name}: t_s starts at {float(self.t_s[0]):g} s, not near 0 as the logger writes it; "
                       "times in this report are as recorded")
        if self.frames:
            empty = ~np.isfinite(self.values)
            dead = [n for n, e in zip(self.names, empty.all(axis=0)) if e]
            if dead:
                out.append(f"{name}: {', '.join(dead)} {'has' if len(dead) == 1 else 'have'} no data at all; "
                           "read as no load, so centre-of-pressure figures near "
                           f"{'it are' if len(dead) == 1 else 'them are'} biased")
        return out


def _n(count: int, what: str) -> str:
    return f"{count} {what}{'s' if count != 1 else ''}"


def read_samples(path: Path, names: list[str]) -> SamplesRead:
    """Read ``path`` (a samples.csv whose header must be ``t_s`` and ``names``); raise
    :class:`SessionError` naming the file (and the line) when it cannot be read at all."""
    if not path.exists():
        raise SessionError(f"{path.parent} has no samples.csv")
    ncol = len(names) + 1
    try:
        with open(path, "rb") as fh:
            return _read(fh, path, names, ncol)
    except SessionError:
        raise
    except OSError as e:
        raise SessionError(f"{path}: cannot read: {e.strerror or e}") from e


#: an analysis holds each frame ~3 times over (the rows read, the forces, the features' work)
BYTES_PER_VALUE_HELD = 3 * 8


def available_memory() -> int | None:
    """Bytes of memory this machine can still give (Linux's MemAvailable), or None."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _check_fits(path: Path, head: bytes, nl: int, ncol: int) -> None:
    """Refuse, with the figures, a samples.csv whose frames would not fit in this machine's
    memory (a 1 GB file on a 1 GB Pi), before reading it, rather than be killed half way."""
    size = path.stat().st_size
    rows = head[nl + 1:].split(b"\n")[:-1]
    good = [r for r in rows if r and b"\x00" not in r]
    if size < (64 << 20) or len(good) < 10:        # small, or no rows to judge by (damage: read in blocks)
        return
    frames = size / (sum(map(len, good)) / len(good) + 1)
    need = frames * ncol * BYTES_PER_VALUE_HELD
    free = available_memory()
    if free is not None and need > free:
        raise SessionError(f"{path}: {size / 1e9:.1f} GB, about {frames / 1e6:.0f} million frames: analysing it "
                           f"needs about {need / 1e9:.1f} GB of memory and this machine has {free / 1e9:.1f} GB "
                           "free; analyse it on a larger machine, or cut it into parts")


def _read(fh, path: Path, names: list[str], ncol: int) -> SamplesRead:
    head = fh.read(MAX_LINE_BYTES)
    nl = head.find(b"\n")
    if nl < 0:
        raise SessionError(f"{path}: empty (no header line)" if not head.strip(b"\x00 \r\t")
                           else f"{path}: no header line (no line end in its first {MAX_LINE_BYTES >> 10} kB)")
    header = head[:nl].decode("utf-8", errors="replace").strip().split(",")
    expected = ["t_s", *names]
    if header != expected:
        raise SessionError(f"{path}: header should be {','.join(expected)!r} (from session.json), "
                           f"got {','.join(header)[:200]!r}")
    _check_fits(path, head, nl, ncol)
    out = SamplesRead(path, list(names), np.zeros(0), np.zeros((0, ncol - 1)), np.zeros(0, dtype=np.intp))
    parts: list[np.ndarray] = []          # good rows, per block
    lines: list[np.ndarray] = []          # their line numbers
    rest = head[nl + 1:]
    line_no = 2                           # of the first line in ``rest``
    skipping = False                      # inside an over-long line, discarding to its end
    while True:
        block = fh.read(BLOCK_BYTES)
        data = rest + block
        end = data.rfind(b"\n")
        if end < 0:
            if not block:                 # the end of the file: what is left is a torn line
                out.torn = int(bool(data) and not skipping)
                break
            if len(data) > MAX_LINE_BYTES:    # no line end in sight: damage, not a row
                if not skipping:
                    _bad_line(out, line_no)
                skipping = True
                rest = b""
            else:
                rest = data
            continue
        body, rest = data[:end + 1], data[end + 1:]
        if skipping:                      # the rest of the over-long line
            cut = body.find(b"\n")
            body = body[cut + 1:]
            line_no += 1
            skipping = False
        count = body.count(b"\n")
        if count:
            arr, nums = _parse_block(body, line_no, ncol, out)
            parts.append(arr)
            lines.append(nums)
            line_no += count
        if not block:
            out.torn = int(bool(rest) and not skipping)
            break
    if parts:
        arr = np.concatenate(parts) if len(parts) > 1 else parts[0]
        nums = np.concatenate(lines) if len(lines) > 1 else lines[0]
    else:
        arr, nums = np.zeros((0, ncol)), np.zeros(0, dtype=np.int64)
    arr, nums = _in_time_order(arr, nums, path, out)
    out.t_s = arr[:, 0].copy()
    out.values = arr[:, 1:]
    # a break: a row after a skipped line or a left-out row
    out.breaks = np.flatnonzero(np.diff(nums) > 1) + 1 if len(nums) > 1 else np.zeros(0, dtype=np.intp)
    return out


def _bad_line(out: SamplesRead, line_no: int) -> None:
    out.n_bad_lines += 1
    if len(out.bad_lines) < SHOWN_LINES:
        out.bad_lines.append(line_no)


def _parse_block(body: bytes, first_line: int, ncol: int, out: SamplesRead) -> tuple[np.ndarray, np.ndarray]:
    """(rows, their line numbers) of a block of whole lines; pandas' C reader when the block is
    clean (the common case), else line by line."""
    count = body.count(b"\n")
    arr = _parse_clean(body, ncol, count)
    if arr is not None:
        return arr, np.arange(first_line, first_line + count, dtype=np.int64)
    rows, nums = [], []
    nan = math.nan
    for i, line in enumerate(body.split(b"\n")[:count]):
        cells = line.split(b",")
        if len(cells) != ncol:
            _bad_line(out, first_line + i)
            continue
        try:
            t = float(cells[0])
        except ValueError:
            t = nan
        if not math.isfinite(t):
            _bad_line(out, first_line + i)
            continue
        row = [t]
        for j in range(1, ncol):
            c = cells[j].strip()
            if not c:
                row.append(nan)
                continue
            try:
                v = float(c)
            except ValueError:
                v = None
            if v is None or not (abs(v) <= MAX_STORED or v != v):
                out.bad_cells += 1
                if out.first_bad_cell is None:
                    out.first_bad_cell = (first_line + i, out.names[j - 1], c[:20].decode("utf-8", "replace"))
                v = nan
            row.append(v)
        rows.append(row)
        nums.append(first_line + i)
    arr = np.array(rows, dtype=np.float64).reshape(-1, ncol)
    return arr, np.array(nums, dtype=np.int64)


def _parse_clean(body: bytes, ncol: int, count: int) -> np.ndarray | None:
    """The block as an array when every line is a clean row of finite numbers within
    :data:`MAX_STORED` (empty cells allowed), else None."""
    if b"\x00" in body:
        return None
    try:
        import pandas as pd
    except ImportError:                   # a minimal install reads line by line, more slowly
        return None
    try:
        frame = pd.read_csv(io.BytesIO(body), header=None, dtype=np.float64, engine="c",
                            skip_blank_lines=False, na_filter=True, keep_default_na=False, na_values=[""])
    except Exception:                     # noqa: BLE001 - any failure: read it line by line
        return None
    arr = frame.to_numpy(dtype=np.float64)
    if arr.ndim != 2 or arr.shape != (count, ncol):
        return None
    finite = np.isfinite(arr)
    if not finite[:, 0].all() or np.isinf(arr).any() or np.any(np.abs(arr[:, 1:][finite[:, 1:]]) > MAX_STORED):
        return None
    if not finite.all():
        # pandas fills a short row with NaN, which would pass as empty cells: count the cells
        if any(line.count(b",") != ncol - 1 for line in body.split(b"\n")[:count]):
            return None
    return arr


def _in_time_order(arr: np.ndarray, nums: np.ndarray, path: Path, out: SamplesRead):
    """The rows with those whose time goes back (not after every row before) left out."""
    if len(arr) < 2:
        return arr, nums
    t = arr[:, 0]
    descents = np.flatnonzero(np.diff(t) <= 0) + 1
    if not descents.size:
        return arr, nums
    first = int(descents[0])
    if descents.size > max(3, SHUFFLED_SHARE * len(t)):
        raise SessionError(f"{path}: the rows are out of time order: t_s goes back at {descents.size} "
                           f"of {len(t)} rows (first at line {nums[first]}: {t[first]:g} s after "
                           f"{t[first - 1]:g} s); the file was shuffled or damaged")
    keep = np.ones(len(t), dtype=bool)
    keep[1:] = t[1:] > np.maximum.accumulate(t)[:-1]
    out.back_rows = int(np.count_nonzero(~keep))
    out.first_back = (int(nums[first]), float(t[first]), float(t[first - 1]))
    return arr[keep], nums[keep]
