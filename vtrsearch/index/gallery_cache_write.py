"""Streaming the store into a gallery cache build's files (see :mod:`.gallery_cache`).

Each writer reads one table in batches of :data:`BATCH` rows into new memory-mapped ``.npy``
files of the build folder: the float32 copy and, for a compact precision, its codes (and int8
scales). The caller fsyncs, hashes and publishes the folder; a writer only raises
:class:`Changed` when the table's row count moved under it, and the caller copies again.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.lib.format import open_memmap

from ..stores import VectorStore
from .compact import encode
from .schema import SEGMENTS, VIDEOS, vectors_from_column

#: Rows read from the store per batch.
BATCH = 8192


class Changed(Exception):
    """The table changed size while it was being copied: copy again."""


def _vector_files(
    folder: Path, prefix: str, precision: str, n: int, dim: int
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """New memory-mapped ``<prefix>exact.npy`` (float32) and, for a compact precision,
    ``<prefix>codes.npy`` (+ ``<prefix>scales.npy`` for int8) of ``n`` rows."""
    exact = open_memmap(folder / f"{prefix}exact.npy", mode="w+", dtype=np.float32, shape=(n, dim))
    codes = scales = None
    if precision != "float32":
        dtype = np.float16 if precision == "float16" else np.int8
        codes = open_memmap(folder / f"{prefix}codes.npy", mode="w+", dtype=dtype, shape=(n, dim))
    if precision == "int8":
        scales = open_memmap(
            folder / f"{prefix}scales.npy", mode="w+", dtype=np.float32, shape=(n,)
        )
    return exact, codes, scales


def write_videos(
    store: VectorStore, dim: int, precision: str, folder: Path
) -> tuple[int, list[str]]:
    n = store.count(VIDEOS)
    exact, codes, scales = _vector_files(folder, "", precision, n, dim)
    category = open_memmap(folder / "category.npy", mode="w+", dtype=np.int32, shape=(n,))
    split_codes = open_memmap(folder / "split_codes.npy", mode="w+", dtype=np.int32, shape=(n,))
    names: dict[str, int] = {}
    schema = pa.schema([("video_id", pa.string())])
    i = 0
    with pa.OSFile(str(folder / "ids.arrow"), "wb") as sink, pa.ipc.new_file(sink, schema) as w:
        columns = ["video_id", "category", "split", "vector"]
        for batch in store.iter_batches(VIDEOS, columns=columns, batch_size=BATCH):
            j = i + batch.num_rows
            if j > n:
                raise Changed
            block = vectors_from_column(batch["vector"], dim)
            exact[i:j] = block
            c, s = encode(block, precision)
            if codes is not None:
                codes[i:j] = c
            if scales is not None:
                scales[i:j] = s
            category[i:j] = batch["category"].to_numpy(zero_copy_only=False)
            splits = [v or "" for v in batch["split"].to_pylist()]
            split_codes[i:j] = [names.setdefault(v, len(names)) for v in splits]
            w.write_table(pa.table({"video_id": batch["video_id"].cast(pa.string())}))
            i = j
    if i != n:
        raise Changed
    for arr in (exact, codes, scales, category, split_codes):
        if arr is not None:
            arr.flush()
    del exact, codes, scales, category, split_codes
    return n, list(names)


def write_segments(
    store: VectorStore, dim: int, precision: str, folder: Path, video_ids: pa.ChunkedArray
) -> int:
    """Segments sorted by video row, then start (orphans dropped), streamed through a raw file."""
    n = store.count(SEGMENTS)
    raw_path = folder / "seg_raw.npy"
    raw = open_memmap(raw_path, mode="w+", dtype=np.float32, shape=(n, dim))
    ids = video_ids.combine_chunks()
    video_row, segment, start, end = [], [], [], []
    i = 0
    columns = ["video_id", "segment", "start", "end", "vector"]
    for batch in store.iter_batches(SEGMENTS, columns=columns, batch_size=BATCH):
        j = i + batch.num_rows
        if j > n:
            raise Changed
        raw[i:j] = vectors_from_column(batch["vector"], dim)
        found = pc.index_in(batch["video_id"], value_set=ids).fill_null(-1)
        video_row.append(found.to_numpy(zero_copy_only=False).astype(np.int64))
        segment.append(batch["segment"].to_numpy(zero_copy_only=False).astype(np.int32))
        start.append(batch["start"].to_numpy(zero_copy_only=False).astype(np.float64))
        end.append(batch["end"].to_numpy(zero_copy_only=False).astype(np.float64))
        i = j
    if i != n:
        raise Changed
    vrow = np.concatenate(video_row) if video_row else np.zeros(0, np.int64)
    keep = np.flatnonzero(vrow >= 0)
    st = np.concatenate(start) if start else np.zeros(0)
    order = keep[np.lexsort((st[keep], vrow[keep]))]
    m = len(order)
    exact, codes, scales = _vector_files(folder, "seg_", precision, m, dim)
    for a in range(0, m, BATCH):
        block = np.asarray(raw[order[a : a + BATCH]])
        exact[a : a + len(block)] = block
        c, s = encode(block, precision)
        if codes is not None:
            codes[a : a + len(block)] = c
        if scales is not None:
            scales[a : a + len(block)] = s
    for name, values in (
        ("seg_video_row", vrow[order]),
        ("seg_segment", (np.concatenate(segment) if segment else np.zeros(0, np.int32))[order]),
        ("seg_start", st[order]),
        ("seg_end", (np.concatenate(end) if end else np.zeros(0))[order]),
    ):
        np.save(folder / f"{name}.npy", values)
    for arr in (exact, codes, scales):
        if arr is not None:
            arr.flush()
    del raw, exact, codes, scales
    raw_path.unlink()
    return m
