"""Writing tables fast, chunk by chunk, as CSV or Parquet (pyarrow), to a path the caller has made safe.

The format follows the file suffix: ``.csv`` or ``.parquet``.  The functions here write to the path they are
given; atomicity (a temporary name, then one rename) comes from :mod:`adcbridge.io.files`, which calls them.

CSV as pandas reads it back, value for value:

* numbers in their shortest form that reads back to the same double (``0.1``, ``2.5e-7``; a whole-valued float
  is written without ``.0``, so an all-whole column reads back as integers with the same values);
* missing values (NaN, None) as empty fields;
* the header and every value quoted only when it needs it (a comma, a quote or a line break), quotes doubled,
  like :data:`csv.QUOTE_MINIMAL`.  pyarrow's writer either quotes every string or refuses one that needs quotes,
  so rows without such a value are written unquoted and the (rare) rows with one are written with every string
  of the row quoted; when such rows are scattered thinly through a chunk, the whole chunk is written quoted.
  Either way the values read back the same;
* booleans as ``true``/``false``.

Parquet: one file, one row group per chunk, plain column types (categories become strings), no pandas index.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["TABLE_SUFFIXES", "table_suffix", "write_frames"]

TABLE_SUFFIXES = (".csv", ".parquet")
_NEEDS_QUOTES = r'[,"\r\n]'
_MAX_RUNS = 64          # above this many quoted/unquoted row runs in a chunk, quote the whole chunk


def table_suffix(path: str | os.PathLike, allowed: tuple[str, ...] = TABLE_SUFFIXES) -> str:
    """The table format of ``path`` from its suffix (lower case), or a ValueError naming the allowed ones."""
    suffix = Path(path).suffix.lower()
    if suffix not in allowed:
        raise ValueError(f"cannot write a table to {path}: use {' or '.join(allowed)}")
    return suffix


def write_frames(path: str | os.PathLike, tables: Iterable, suffix: str | None = None) -> int:
    """Write pandas DataFrames (all with the same columns) one after another to ``path`` as one CSV or Parquet
    table; returns the number of rows.  Not atomic by itself: use :func:`adcbridge.io.write_table_chunks`."""
    suffix = suffix or table_suffix(path)
    if suffix == ".csv":
        return _write_csv(path, tables)
    return _write_parquet(path, tables)


def _arrow(frame, dictionaries: bool = False):
    """A DataFrame as an Arrow table with plain types: text as (large) strings (all-missing text too), mixed-type
    object columns as text, categories as their values -- or, with ``dictionaries``, as dictionary arrays (cheap
    to convert and to check for quotes; the CSV writer writes their values)."""
    import pandas as pd
    import pyarrow as pa

    arrays, names = [], []
    for name in frame.columns:
        col = frame[name]
        try:
            arr = pa.array(col, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arr = pa.array(col.map(lambda v: None if pd.isna(v) else str(v)), type=pa.large_string(),
                           from_pandas=True)
        if pa.types.is_null(arr.type) or pa.types.is_string(arr.type):
            arr = arr.cast(pa.large_string())
        elif pa.types.is_dictionary(arr.type):
            if not dictionaries:
                arr = arr.cast(arr.type.value_type)
            if pa.types.is_string(arr.type) or (pa.types.is_dictionary(arr.type)
                                                and pa.types.is_string(arr.type.value_type)):
                arr = arr.cast(pa.dictionary(arr.type.index_type, pa.large_string()) if dictionaries
                               else pa.large_string())
        arrays.append(arr)
        names.append(str(name))
    return pa.Table.from_arrays(arrays, names=names)


def _header(columns) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL).writerow([str(c) for c in columns])
    return buf.getvalue().encode("utf-8")


def _quoted_rows(table):
    """A boolean mask of the rows with a text value that needs quotes, or None when there is none.  Each text
    column is checked on its distinct values (a dictionary), which is fast for the few distinct strings of an
    NCA table."""
    import pyarrow as pa
    import pyarrow.compute as pc

    mask = None
    for col in table.columns:
        col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        if pa.types.is_dictionary(col.type):
            values, indices = col.dictionary, col.indices
        elif pa.types.is_large_string(col.type) or pa.types.is_string(col.type):
            encoded = pc.dictionary_encode(col)
            values, indices = encoded.dictionary, encoded.indices
        else:
            continue
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            continue
        hit = pc.match_substring_regex(values, _NEEDS_QUOTES)
        if not pc.any(hit).as_py():
            continue
        rows = pc.fill_null(pc.take(hit, indices), False)
        mask = rows if mask is None else pc.or_(mask, rows)
    return None if mask is None else mask.to_numpy(zero_copy_only=False)


def _write_csv(path, tables) -> int:
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    plain = pacsv.WriteOptions(include_header=False, quoting_style="none")
    quoted = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    rows, columns = 0, None
    with pa.OSFile(os.fspath(path), "wb") as sink:
        for frame in tables:
            if columns is None:
                columns = list(frame.columns)
                sink.write(_header(columns))
            elif list(frame.columns) != columns:
                raise ValueError(f"{path}: a chunk has columns {list(frame.columns)}, the first had {columns}")
            if not len(frame):
                continue
            table = _arrow(frame, dictionaries=True)
            mask = _quoted_rows(table)
            if mask is None:
                pacsv.write_csv(table, sink, plain)
            else:
                edges = np.flatnonzero(np.diff(mask.astype(np.int8))) + 1
                if len(edges) + 1 > _MAX_RUNS:
                    pacsv.write_csv(table, sink, quoted)
                else:
                    for start, stop in zip(np.r_[0, edges], np.r_[edges, len(mask)]):
                        pacsv.write_csv(table.slice(start, stop - start), sink, quoted if mask[start] else plain)
            rows += len(frame)
        if columns is None:
            raise ValueError(f"{path}: no table to write")
    return rows


def _write_parquet(path, tables) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer, schema, rows = None, None, 0
    try:
        for frame in tables:
            table = _arrow(frame)
            if writer is None:
                schema = table.schema.remove_metadata()
                writer = pq.ParquetWriter(os.fspath(path), schema)
            elif table.schema.names != schema.names:
                raise ValueError(f"{path}: a chunk has columns {table.schema.names}, the first had {schema.names}")
            else:
                try:
                    table = table.cast(schema)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                    raise ValueError(f"{path}: a chunk's column types differ from the first chunk's "
                                     f"({str(exc).splitlines()[0]})") from None
            if len(table):
                writer.write_table(table)
            rows += len(table)
        if writer is None:
            raise ValueError(f"{path}: no table to write")
    finally:
        if writer is not None:
            writer.close()
    return rows
