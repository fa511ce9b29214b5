"""Reading an input table -- CSV, TSV, Excel or Parquet -- into a pandas DataFrame (see ``docs/tables.md``).

:func:`read_table` is the one way every command reads an assay, concentration, dosing or parameter table.

* **Format** -- from the content first, then the name: Parquet (``PAR1`` magic or ``.parquet``/``.pq``), Excel
  (a zip/OLE workbook or ``.xlsx``/``.xlsm``/``.xls``; the sheet by name or number, default the first), else
  text (gzip-compressed text is unpacked).
* **Encoding** (text) -- UTF-8 with or without a byte-order mark, UTF-16 with a byte-order mark, else cp1252
  (Windows software: ``µg/mL``); ``encoding=`` forces one.
* **Separator** (text) -- ``sep=``, else tab for ``.tsv``/``.tab``, else sniffed from the first lines: the one of
  tab, ``;``, ``,`` and ``|`` that splits the header into the most fields and every sampled line into as many.
* **Decimal comma** -- ``decimal=","`` forces it; otherwise, in a file not separated by commas, it is detected
  when the sampled cells hold numbers like ``1,25`` and none like ``1.25``; a column all of whose cells are such
  numbers is converted even when they appear only further down.
* Blank lines and lines of separators only are skipped; empty columns without a name (trailing separators) are
  dropped; header names are stripped of surrounding spaces.

The table carries where it came from in ``df.attrs``: ``source`` (the path as given), ``first_line`` (the line --
Excel: row -- of the first data row), ``line_word`` (``"line"`` for text, ``"row"`` for Excel and Parquet) and
``skipped_lines`` (blank lines inside the data), so :mod:`adcbridge.validation` names the file and the line.

Every failure is one line naming the file (a :class:`~adcbridge.validation.TableError`, i.e. a ValueError): no
such file, an empty file, no header line, a duplicated column name, a row with more fields than the header (with
its line number), an unknown sheet (with the sheets there are), text that cannot be decoded in the encoding given,
or an unreadable workbook / Parquet file.  (A quoted cell that spans lines shifts the line numbers of the rows
after it.)
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from adcbridge.validation import TableError

__all__ = ["read_table"]

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
PARQUET_SUFFIXES = (".parquet", ".pq")
TAB_SUFFIXES = (".tsv", ".tab")
SEPARATORS = ("\t", ";", ",", "|")
_SEP_ALIASES = {"\\t": "\t", "tab": "\t", "TAB": "\t"}
_SNIFF_LINES = 50
_DECIMAL_SAMPLE = 200_000            # characters of the text sampled for decimal commas
_COMMA_NUMBER = re.compile(r"[+-]?\d+,\d+(?:[eE][+-]?\d+)?")
_DOT_NUMBER = re.compile(r"[+-]?\d*\.\d+(?:[eE][+-]?\d+)?")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def read_table(path: str | Path, *, sheet: str | int | None = None, decimal: str | None = None,
               sep: str | None = None, encoding: str | None = None, allow_empty: bool = False,
               text_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    r"""The table in ``path`` (CSV, TSV, Excel or Parquet; see the module docstring for the detection rules).

    ``sheet`` (Excel: name or 0-based number; default the first sheet), ``decimal`` (``"."`` or ``","``),
    ``sep`` (``","``, ``";"``, ``"\t"``, ...) and ``encoding`` override the detection; ``decimal``, ``sep`` and
    ``encoding`` apply to text files only.  ``df.attrs["source"]`` is ``str(path)``.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "conc.csv"
    >>> _ = path.write_bytes("ID;TIME;CONC (µg/mL)\n1;0,5;1,25\n".encode("cp1252"))
    >>> df = read_table(path)
    >>> df.columns.tolist(), float(df.iloc[0, 2]), df.attrs["first_line"]
    (['ID', 'TIME', 'CONC (µg/mL)'], 1.25, 2)
    """
    name = str(path)
    path = Path(path)
    if not path.exists():
        raise _error(name, "no such file")
    if path.is_dir():
        raise _error(name, "is a folder, not a file")
    if decimal not in (None, ".", ","):
        raise _error(name, f"decimal must be '.' or ','; got {decimal!r}")
    with open(path, "rb") as fh:
        head = fh.read(8)
    suffix = path.suffix.lower()
    if not head:
        raise _error(name, "the file is empty")
    if head.startswith(b"PAR1") or suffix in PARQUET_SUFFIXES:
        df, first, word = _read_parquet(path, name), 1, "row"
        skipped: tuple[int, ...] = ()
    elif head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")) or suffix in EXCEL_SUFFIXES:
        (df, skipped), first, word = _read_excel(path, name, sheet, text_columns), 2, "row"
    else:
        if sheet is not None:
            raise _error(name, f"sheet {sheet!r} was asked for, but this is a text table, not an Excel workbook")
        if suffix == ".gz":
            suffix = Path(path.stem).suffix.lower()
        df, first, skipped = _read_text(path, name, head, suffix, decimal, sep, encoding, text_columns)
        word = "line"
    df.attrs.update(source=name, first_line=first, line_word=word, skipped_lines=skipped)
    if len(df) == 0 and not allow_empty:
        raise _error(name, "the table has a header but no data rows")
    return df


def _error(name: str, message: str) -> TableError:
    """The one-line error naming the file (a :class:`~adcbridge.validation.TableError`, so a ValueError)."""
    return TableError(f"{name}: {message}", source=name)


# --------------------------------------------------------------------------------------------- binary formats
def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _read_parquet(path: Path, name: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(path, engine="pyarrow")
    except ImportError as exc:                                    # pragma: no cover - pyarrow is a dependency
        raise _error(name, f"reading Parquet needs pyarrow ({_first_line(exc)})") from None
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds; each becomes one line naming the file
        raise _error(name, f"not a readable Parquet file ({_first_line(exc)})") from None


def _read_excel(path: Path, name: str, sheet: str | int | None, text_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except ImportError as exc:                                    # pragma: no cover - openpyxl is a dependency
        raise _error(name, f"reading Excel needs openpyxl ({_first_line(exc)})") from None
    except Exception as exc:  # noqa: BLE001 - zip, XML and openpyxl errors alike become one line
        hint = "; an Excel 97-2003 .xls workbook must be saved as .xlsx or CSV first" \
            if path.suffix.lower() == ".xls" else ""
        raise _error(name, f"not a readable Excel workbook ({_first_line(exc)}){hint}") from None
    with book:
        sheets = [str(s) for s in book.sheet_names]
        listed = ", ".join(sheets)
        if sheet is None:
            target = book.sheet_names[0]
        elif isinstance(sheet, int) and not isinstance(sheet, bool):
            if not 0 <= sheet < len(sheets):
                raise _error(name, f"no sheet number {sheet} (sheets, from 0: {listed})")
            target = book.sheet_names[sheet]
        elif str(sheet) in sheets:
            target = book.sheet_names[sheets.index(str(sheet))]
        else:
            raise _error(name, f"no sheet {str(sheet)!r} (sheets: {listed})")
        try:
            df = pd.read_excel(book, sheet_name=target, dtype={c: str for c in text_columns} or None)
        except Exception as exc:  # noqa: BLE001 - as above
            raise _error(name, f"sheet {str(target)!r} is not a readable table ({_first_line(exc)})") from None
    if df.columns.empty:
        raise _error(name, f"sheet {str(target)!r} is empty")
    header = [str(c).strip() for c in df.columns]
    if all(_NUMBER.fullmatch(h) for h in header):
        raise _error(name, f"sheet {str(target)!r} has no header row: row 1 holds numbers ({_listed(header)}), not "
                           f"column names")
    df = _tidy_columns(df, name, _unmangled(df.columns), f"sheet {str(target)!r}: ")
    empty = df.isna().all(axis=1).to_numpy()
    skipped: tuple[int, ...] = ()
    if empty.any():
        rows = [i + 2 for i in range(len(df)) if empty[i]]
        last = len(df) + 1 - int(np.argmax(~empty[::-1])) if (~empty).any() else 0
        skipped = tuple(r for r in rows if r < last)
        df = df[~empty].reset_index(drop=True)
    return df, skipped


def _listed(names: list[str], n: int = 5) -> str:
    return ", ".join(names[:n]) + (", ..." if len(names) > n else "")


def _unmangled(columns) -> list:
    """The header as written: pandas renames a repeated name 'A' to 'A.1'; undo that where 'A' is present."""
    names = [c.strip() if isinstance(c, str) else c for c in columns]
    out = []
    for c in names:
        stem = re.sub(r"\.\d+$", "", c) if isinstance(c, str) else c
        out.append(stem if stem != c and stem in names else c)
    return out


# ------------------------------------------------------------------------------------------------------- text
def _decode(raw: bytes, name: str, encoding: str | None) -> str:
    def line_of(pos: int) -> int:
        return raw.count(b"\n", 0, pos) + 1

    if encoding:
        try:
            text = raw.decode(encoding)
        except LookupError:
            raise _error(name, f"unknown encoding {encoding!r}") from None
        except UnicodeDecodeError as exc:
            raise _error(name, f"not readable as {encoding} (byte 0x{raw[exc.start]:02x} on line "
                             f"{line_of(exc.start)}); give the file's encoding") from None
        return text.removeprefix("\ufeff")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise _error(name, "starts with a UTF-16 byte-order mark but is not UTF-16 text") from None
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return raw[len(codecs.BOM_UTF8):].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _error(name, f"starts with a UTF-8 byte-order mark but is not UTF-8 text (byte "
                             f"0x{raw[exc.start + 3]:02x} on line {line_of(exc.start + 3)})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:                 # the five bytes cp1252 leaves undefined
        return raw.decode("latin-1")


def _utf8_compatible(raw: bytes) -> bool:
    """The file's bytes are valid UTF-8 (so pandas can parse them as they are)."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _blank_lines(text: str, sep: str) -> list[tuple[int, int, int]]:
    """(line number, start, end) of every line that is empty or holds only spaces and separators."""
    chars = rf"[ \t{re.escape(sep)}]*\r?"
    blank = re.compile(chars)
    out: list[tuple[int, int, int]] = []
    pos, line = 0, 1
    while pos < len(text):                         # blank lines before the header
        end = blank.match(text, pos).end()
        if end < len(text) and text[end] == "\n":
            out.append((line, pos, end + 1))
            pos, line = end + 1, line + 1
        elif end == len(text):
            out.append((line, pos, end))
            return out
        else:
            break
    last = pos
    for m in re.compile(rf"\n{chars}(?=\n)").finditer(text, pos):     # a line break, a blank line, a line break
        start = m.start() + 1
        line += text.count("\n", last, start)
        last = start
        out.append((line, start, m.end() + 1))
    tail = text.rfind("\n") + 1                    # a last line without a line break
    if pos < tail < len(text) and blank.fullmatch(text, tail):
        out.append((line + text.count("\n", last, tail), tail, len(text)))
    return out


def _split(lines: list[str], sep: str) -> list[list[str]]:
    try:
        return list(csv.reader(lines, delimiter=sep))
    except csv.Error:
        return [line.split(sep) for line in lines]


def _sniff_separator(sample: list[str]) -> str:
    """The separator that splits the header into the most fields and every sampled line into as many."""
    best, best_n = ",", 1
    for cand in SEPARATORS:
        rows = _split(sample, cand)
        n = len(rows[0])
        if n > best_n and all(len(r) == n or not any(f.strip() for f in r[n:]) for r in rows[1:]):
            best, best_n = cand, n
    if best_n == 1:                            # no separator splits every line alike: the header decides
        counts = {cand: sample[0].count(cand) for cand in SEPARATORS}
        top = max(counts, key=lambda c: counts[c])
        best = top if counts[top] else ","
    return best


def _sniff_decimal(text: str, sep: str) -> str:
    if sep == ",":
        return "."
    comma = dot = 0
    for row in _split(text[:_DECIMAL_SAMPLE].splitlines()[1:], sep):
        for cell in row:
            cell = cell.strip()
            if _COMMA_NUMBER.fullmatch(cell):
                comma += 1
            elif _DOT_NUMBER.fullmatch(cell):
                dot += 1
    return "," if comma and not dot else "."


def _ragged_line(text: str, sep: str, n_header: int, first_line: int) -> str | None:
    """The first row with more non-empty fields than the header, as 'line N has K fields'."""
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    try:
        for row in reader:
            if len(row) > n_header and any(f.strip() for f in row[n_header:]):
                return f"line {reader.line_num + first_line - 1} has {len(row)} fields"
    except csv.Error as exc:
        return f"line {reader.line_num + first_line - 1} cannot be split ({exc})"
    return None


def _read_text(path: Path, name: str, head: bytes, suffix: str, decimal: str | None, sep: str | None,
               encoding: str | None, text_columns: tuple[str, ...] = ()) -> tuple[pd.DataFrame, int, tuple[int, ...]]:
    raw = path.read_bytes()
    if head.startswith(b"\x1f\x8b"):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise _error(name, f"not a readable gzip file ({_first_line(exc)})") from None
    text = _decode(raw, name, encoding)
    if not text.strip():
        raise _error(name, "the file is empty")
    sep = _SEP_ALIASES.get(sep, sep) if sep else None
    if sep is None and suffix in TAB_SUFFIXES:
        sep = "\t"
    if sep is None:
        sample = [ln for ln in text[:_DECIMAL_SAMPLE].splitlines() if ln.strip()][:_SNIFF_LINES]
        sep = _sniff_separator(sample)
    if decimal == "," and sep == ",":
        raise _error(name, "decimal=',' needs a separator other than ',' (the file is comma-separated); "
                         "give sep=';' or sep='\\t' if it is not")
    blanks = _blank_lines(text, sep)
    if blanks:
        pieces, last = [], 0
        for _, start, end in blanks:
            pieces.append(text[last:start])
            last = end
        pieces.append(text[last:])
        body = "".join(pieces)
    else:
        body = text
    if not body.strip():
        raise _error(name, "the file is empty")
    removed = [line for line, _, _ in blanks]
    header_line = 1
    while header_line in removed:
        header_line += 1
    cut = body.find("\n")
    header = _split([body[:cut] if cut >= 0 else body], sep)[0]
    names = [h.strip() for h in header]
    if all(_NUMBER.fullmatch(h) for h in names):
        raise _error(name, f"no header line: line {header_line} holds numbers ({_listed(names)}), not "
                         f"column names")
    dec = decimal or _sniff_decimal(body, sep)
    dtype = {c: str for c in text_columns if c in names} or None
    # pandas parses bytes: a StringIO of the whole text would hold 4 bytes per character (1 GB for a 250 MB
    # export); UTF-8 bytes hold one per ASCII character, and the file's own bytes are reused when nothing was cut
    as_given = encoding is None or encoding.lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig")
    if body is text and (raw.isascii() or (as_given and _utf8_compatible(raw))):
        data, enc = raw, ("utf-8-sig" if raw.startswith(codecs.BOM_UTF8) else "utf-8")
    else:
        data, enc = body.encode("utf-8"), "utf-8"
    del raw
    try:
        df = pd.read_csv(io.BytesIO(data), sep=sep, decimal=dec, skipinitialspace=True, low_memory=False,
                         encoding=enc, dtype=dtype)
    except pd.errors.EmptyDataError:
        raise _error(name, "the file is empty") from None
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        ragged = _ragged_line(text, sep, len(header), 1)
        if ragged:
            raise _error(name, f"{ragged}, the header (line {header_line}) has {len(header)}") from None
        raise _error(name, f"not a readable table ({_first_line(exc)})") from None
    if not df.index.equals(pd.RangeIndex(len(df))):  # pandas took the first column as an index: long rows
        ragged = _ragged_line(text, sep, len(header), 1)
        if ragged:
            raise _error(name, f"{ragged}, the header (line {header_line}) has {len(header)}")
        df = pd.read_csv(io.BytesIO(data), sep=sep, decimal=dec, skipinitialspace=True, low_memory=False,
                         encoding=enc, index_col=False, dtype=dtype)   # only trailing separators: drop them
    df = _tidy_columns(df, name, names)
    if decimal is None and dec == "." and sep != ",":
        df = _decimal_comma_columns(df)
    after = [line for line in removed if line > header_line]
    if after and len(df):                      # keep the skipped lines before the last data row
        last = header_line + len(df)
        kept = []
        for line in after:
            if line <= last:
                kept.append(line)
                last += 1
        after = kept
    return df, header_line + 1, tuple(after)


def _tidy_columns(df: pd.DataFrame, name: str, written: list, where: str = "") -> pd.DataFrame:
    """Strip the header names, refuse a name written twice, drop unnamed empty columns (trailing separators).
    ``written``: the header names as in the file."""
    seen: set = set()
    for c in written:
        if isinstance(c, str) and (c == "" or c.startswith("Unnamed: ")):
            continue
        if c in seen:
            raise _error(name, f"{where}column {str(c)!r} appears more than once in the header")
        seen.add(c)
    names = [c.strip() if isinstance(c, str) else c for c in df.columns]
    df.columns = names
    drop = [c for c in names if isinstance(c, str) and c.startswith("Unnamed: ") and df[c].isna().all()]
    return df.drop(columns=drop) if drop else df


_COMMA_CELL = r"[+-]?(?:\d+(?:,\d*)?|,\d+)(?:[eE][+-]?\d+)?"


def _decimal_comma_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Text columns whose every cell is a number with a decimal comma (``1,25``) become numbers."""
    out = df
    for col in df.columns:
        s = df[col]
        if not (s.dtype == object or pd.api.types.is_string_dtype(s)):
            continue
        cells = s.dropna().astype(str).str.strip()
        if cells.empty or not cells.str.contains(",", regex=False).any():
            continue
        if cells.str.fullmatch(_COMMA_CELL).all():
            if out is df:
                out = df.copy()
            out[col] = pd.to_numeric(s.astype(str).str.strip().str.replace(",", ".", regex=False).where(s.notna()))
    return out
