"""A delimited text file of numbers (CSV, TSV, whitespace), read fast and checked line by line.

Every importer reads its file through :class:`TextTable`: the header (if any) and the comment
lines before the data are read in Python; the data itself is parsed by numpy's C reader in
chunks of rows (so a long file reports progress), and every check is vectorised over the whole
file, so a million lines take seconds. Every problem raises
:class:`~analysis.errors.FileFormatError` with one line naming the file, the line (1-based, as
an editor counts them) and the column.

Conventions: lines starting with the comment marker (``#``) and blank lines are skipped
wherever they are; CRLF and LF line ends are both read; quoted fields (``"1.5"``) are accepted;
an empty cell between two delimiters reads as NaN, which the caller accepts or refuses
(:meth:`TextTable.refuse_nan`).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..errors import FileFormatError

DELIMITERS = {"tab": "\t", "comma": ",", "semicolon": ";", "space": None, "auto": "auto"}
_NAMES = {"\t": "tabs", ",": "commas", ";": "semicolons", None: "spaces"}
CHUNK_ROWS = 100_000          # rows per numpy parse: progress granularity, bounded peak memory
_WS = (9, 32)                 # tab, space


def _decode(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("latin-1")      # older Windows exports; names only, numbers are ASCII


def _detect_delimiter(line: str) -> str | None:
    """The delimiter of a header or data line: tab, then semicolon, then comma, else spaces."""
    for d in ("\t", ";", ","):
        if d in line:
            return d
    return None


def _split(line: str, delimiter: str | None) -> list[str]:
    cells = line.split() if delimiter is None else line.split(delimiter)
    return [c.strip().strip('"').strip() for c in cells]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


class TextTable:
    """The header and data layout of one text file; :meth:`read` parses chosen columns.

    ``delimiter``: ``"auto"`` or one of ``"\\t"``, ``","``, ``";"``, ``None`` (runs of spaces or
    tabs). ``header``: ``"auto"`` (the first line that is not a comment is a header if any of
    its cells is not a number), ``"none"``, or ``"last-comment"`` (the header is the last
    comment line before the data, with its marker removed, as in Moticon's export).
    """

    def __init__(self, path: str | Path, delimiter: str | None = "auto", header: str = "auto",
                 comment: str = "#"):
        self.path = Path(path)
        self.file = self.path.name
        try:
            raw = self.path.read_bytes()
        except IsADirectoryError:
            raise FileFormatError(f"{self.path} is a folder, not a recording file") from None
        except FileNotFoundError:
            raise FileFormatError(f"no such file: {self.path}") from None
        except OSError as e:
            raise FileFormatError(f"{self.path}: cannot read: {e.strerror or e}") from e
        if raw.startswith(b"\xef\xbb\xbf"):            # a UTF-8 byte-order mark (spreadsheet exports)
            raw = raw[3:]
        if b"\0" in raw[:4096]:
            raise FileFormatError(f"{self.file}: not a text file (binary data)")
        self._data = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        self.comment = comment
        self.comments: list[str] = []       # comment lines before the data, marker removed
        self._comment_line = 0              # line number of the last of them
        body_at, first_line, head = self._head()
        self.first_line = first_line        # 1-based line number of the first data (or header) line
        if head is None and header != "last-comment":
            raise FileFormatError(f"{self.file}: empty (no data lines)")
        if header == "last-comment":
            if not self.comments:
                raise FileFormatError(f"{self.file}: no header line (expected a '{comment} time…' line "
                                      f"before the data)")
            header_text = self.comments[-1]
        else:
            header_text = head
        if delimiter == "auto":
            delimiter = _detect_delimiter(header_text)
        self.delimiter = delimiter
        cells = _split(header_text, delimiter)
        if header == "none" or (header == "auto" and all(_is_number(c) for c in cells if c)):
            self.has_header = False
            self.names = [str(i + 1) for i in range(len(cells))]
            self._body_at = body_at
        else:
            self.has_header = True
            self.names = cells
            if header == "last-comment":
                self._body_at = body_at
            else:                           # the header line itself is not data
                nl = self._data.find(b"\n", body_at)
                self._body_at = len(self._data) if nl < 0 else nl + 1
                self.first_line += 1
        self.header_line = self._comment_line if header == "last-comment" else first_line

    # ------------------------------------------------------------------------------ header ---
    def _head(self) -> tuple[int, int, str | None]:
        """(byte offset, line number, text) of the first line that is neither blank nor a
        comment; comment lines before it are kept in ``self.comments``."""
        pos, line_no = 0, 1
        marker = self.comment.encode()
        data = self._data
        while pos < len(data):
            nl = data.find(b"\n", pos)
            end = len(data) if nl < 0 else nl
            line = data[pos:end]
            text = _decode(line)
            if text.strip():
                if marker and line.startswith(marker):
                    self.comments.append(text[len(self.comment):].strip(" "))
                    self._comment_line = line_no
                else:
                    return pos, line_no, text
            pos, line_no = end + 1, line_no + 1
        return pos, line_no, None

    def column_index(self, column: str | int, who: str) -> int:
        """The 0-based index of a column given by header name or 1-based number; ``who`` asks
        for it, in messages ("--time-column", "sensor 'L1' of layout.toml")."""
        if isinstance(column, int) or (isinstance(column, str) and column.isdigit() and column not in self.names):
            i = int(column) - 1
            if not 0 <= i < len(self.names):
                raise FileFormatError(f"{self.file}: {who} names column {column}, but the file has columns "
                                      f"1-{len(self.names)}{self.header_hint()}")
            return i
        if column in self.names:
            return self.names.index(column)
        folded = [n.casefold() for n in self.names]
        if column.casefold() in folded:
            return folded.index(column.casefold())
        raise FileFormatError(f"{self.file}: {who} names column {column!r}, which is not in the header "
                              f"(line {self.header_line}){self.header_hint()}")

    def header_hint(self) -> str:
        """What the header holds, for a message about a column not found there."""
        if not self.has_header:
            return "; the file has no header line: name columns by number, 1-" + str(len(self.names))
        shown = ", ".join(repr(n) for n in self.names[:8]) + (", …" if len(self.names) > 8 else "")
        hint = f"; its columns are {shown}"
        if len(self.names) == 1:
            other = [_NAMES[d] for d in ("\t", ";", ",") if d != self.delimiter and d in self.names[0]]
            if other:
                hint += f" (one column holding {other[0]}: is the delimiter right? --delimiter auto finds it)"
        return hint

    # ------------------------------------------------------------------------------ data ---
    def read(self, columns: Sequence[int], progress: Callable[[int, int], None] | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
        """Parse the given 0-based columns of every data row.

        Returns ``(values, line)``: ``values`` (rows, len(columns)) float64 with NaN for empty
        cells; ``line`` (rows,) the 1-based line number of each row, for messages. Rows must
        all have as many cells as the header (or the first data row).
        """
        body = self._data[self._body_at:]
        lines_before = self.first_line - 1
        starts, ends = _line_bounds(body)
        arr = np.frombuffer(body, np.uint8)
        keep = _data_lines(arr, starts, ends, self.comment.encode())
        if not keep.any():
            raise FileFormatError(f"{self.file}: no data lines after the header (line {self.header_line})")
        line_no = np.flatnonzero(keep) + 1 + lines_before
        if not keep.all():                   # blank or comment lines inside the data: drop them
            body = b"\n".join(body[s:e] for s, e in zip(starts[keep].tolist(), ends[keep].tolist()))
            starts, ends = _line_bounds(body)
            arr = np.frombuffer(body, np.uint8)
        self._check_field_counts(arr, starts, ends, line_no)
        if self.delimiter is not None:       # empty cells → "nan", so numpy reads them as NaN
            body = _fill_empty(body, self.delimiter.encode())
            starts, ends = _line_bounds(body)
        n = len(starts)
        out = np.empty((n, len(columns)), dtype=float)
        for a in range(0, n, CHUNK_ROWS):
            b = min(n, a + CHUNK_ROWS)
            chunk = body[starts[a]:ends[b - 1]]
            try:
                out[a:b] = np.loadtxt(io.BytesIO(chunk), delimiter=self.delimiter, usecols=list(columns),
                                      ndmin=2, dtype=float, comments=None, quotechar='"', encoding="latin-1")
            except ValueError:
                self._diagnose(body[starts[a]:ends[b - 1]], line_no[a:b], columns)
                raise
            if progress:
                progress(b, n)
        return out, line_no

    def _check_field_counts(self, arr, starts, ends, line_no) -> None:
        counts = _field_counts(arr, starts, ends, self.delimiter)
        expected = len(self.names)
        bad = np.flatnonzero(counts != expected)
        if bad.size:
            i = int(bad[0])
            more = f" ({bad.size} such lines)" if bad.size > 1 else ""
            source = "the header" if self.has_header else f"line {self.first_line}"
            raise FileFormatError(f"{self.file}: line {line_no[i]}: {counts[i]} cells, expected {expected} as "
                                  f"{source} has{more}")

    def _diagnose(self, chunk: bytes, line_no: np.ndarray, columns: Sequence[int]) -> None:
        """numpy refused a cell: find the first one in Python and say where (error path only)."""
        for k, line in enumerate(chunk.split(b"\n")):
            cells = _split(line.decode("latin-1"), self.delimiter)
            for c in columns:
                cell = cells[c] if c < len(cells) else ""
                if cell.lower() == "nan" or _is_number(cell):
                    continue
                hint = ""
                if "," in cell and _is_number(cell.replace(",", ".")):
                    hint = " (a decimal comma: export with decimal points)"
                raise FileFormatError(f"{self.file}: line {line_no[k]}, column {self.names[c]!r}: "
                                      f"not a number: {cell!r}{hint}")

    def refuse_nan(self, values: np.ndarray, line_no: np.ndarray, columns: Sequence[int]) -> None:
        """Raise on the first NaN or infinite value (an empty cell, ``NaN``, ``inf``)."""
        bad = ~np.isfinite(values)
        if not bad.any():
            return
        rows, cols = np.nonzero(bad)
        r, c = int(rows[0]), int(cols[0])
        if not np.isnan(values[r, c]):
            what = f"not a finite number ({values[r, c]:g})"
        else:
            what = "NaN" if self._cell_says_nan(line_no[r], columns[c]) else "empty cell"
        more = f"; {int(bad.sum())} such cells in all" if bad.sum() > 1 else ""
        raise FileFormatError(f"{self.file}: line {line_no[r]}, column {self.names[columns[c]]!r}: {what}{more}")

    def _cell_says_nan(self, line: int, column: int) -> bool:
        text = self._data.split(b"\n", line)[line - 1].decode("latin-1")
        cells = _split(text, self.delimiter)
        return column < len(cells) and cells[column].lower() == "nan"


def _line_bounds(body: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) byte offsets of each line; a final newline ends the last line."""
    arr = np.frombuffer(body, np.uint8)
    nl = np.flatnonzero(arr == 10)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [len(arr)]))
    if not body or body.endswith(b"\n"):
        starts, ends = starts[:-1], ends[:-1]
    return starts, ends


def _per_line(positions: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """How many of the sorted byte ``positions`` fall in each line [start, end)."""
    return np.searchsorted(positions, ends) - np.searchsorted(positions, starts)


def _spaces(arr: np.ndarray) -> np.ndarray:
    return (arr == _WS[0]) | (arr == _WS[1])


def _data_lines(arr: np.ndarray, starts: np.ndarray, ends: np.ndarray, marker: bytes) -> np.ndarray:
    """Lines that hold data: not blank (spaces and tabs only) and not comments."""
    keep = _per_line(np.flatnonzero(_spaces(arr)), starts, ends) < ends - starts
    if marker:
        lead = np.zeros(len(starts), dtype=bool)
        nonempty = ends > starts
        lead[nonempty] = arr[starts[nonempty]] == marker[0]
        keep &= ~lead
    return keep


def _field_counts(arr: np.ndarray, starts: np.ndarray, ends: np.ndarray, delimiter: str | None) -> np.ndarray:
    """Cells per line: delimiters + 1, or for whitespace the runs of non-space characters."""
    if delimiter is not None:
        return _per_line(np.flatnonzero(arr == ord(delimiter)), starts, ends) + 1
    ink = ~_spaces(arr) & (arr != 10)
    begins = ink.copy()
    begins[1:] &= ~ink[:-1]                 # a cell begins where ink follows a space or a newline
    return _per_line(np.flatnonzero(begins), starts, ends)


def _fill_empty(body: bytes, d: bytes) -> bytes:
    """Write ``nan`` into every empty cell (between two delimiters or at a line's ends)."""
    nan = b"nan"
    body = body.replace(d + d, d + nan + d).replace(d + d, d + nan + d)   # twice: runs overlap
    body = body.replace(b"\n" + d, b"\n" + nan + d).replace(d + b"\n", d + nan + b"\n")
    if body.startswith(d):
        body = nan + body
    if body.endswith(d):
        body = body + nan
    return body
