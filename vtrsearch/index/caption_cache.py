"""Caption embedding cache: every stored caption encoded once per encoder spec.

Vectors live in the index's own store, one table per spec (``caption_vectors_<hash of spec>``),
so two encoders never mix. Each row keeps a hash of the caption text, so an edited caption is
re-encoded. Encoding runs in chunks, each written atomically: an interrupted run resumes where
it stopped. Evaluation and the trainer read these vectors instead of re-encoding.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from ..errors import MissingCaptionVectorsError
from .schema import (
    CAPTION_KEY,
    caption_vectors_schema,
    caption_vectors_table,
    vector_array,
    vectors_from_column,
)

if TYPE_CHECKING:
    from .index import Index


def text_hash(text: str) -> str:
    """Short stable hash of a caption text."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class CaptionVectors:
    """Captions with their cached vectors, row-aligned."""

    spec: str
    sen_ids: list[str]
    video_ids: list[str]
    texts: list[str]
    vectors: np.ndarray  # (n, dim) float32

    def __len__(self) -> int:
        return len(self.sen_ids)


@dataclass
class EncodeReport:
    """What one ``encode_captions`` run did."""

    spec: str
    table: str
    total: int
    encoded: int
    already_cached: int


def cache_info(index: Index) -> dict[str, dict[str, Any]]:
    """Encoder spec -> {table, dim} for every cache of this index.

    Read from the store, not from the handle's copy of the metadata taken at open: a cache
    recorded meanwhile by another handle or process (``vtrsearch encode``, an evaluation) is
    seen, and recording a new one never drops theirs.
    """
    stored = index.store.get_metadata().get("caption_cache")
    return dict(stored or index.metadata.get("caption_cache") or {})


def _cached_hashes(index: Index, table: str) -> dict[str, str]:
    if not index.store.has_table(table):
        return {}
    rows = index.store.scan(table, columns=["sen_id", "text_hash"])
    return dict(zip(rows["sen_id"].to_pylist(), rows["text_hash"].to_pylist(), strict=True))


def encode_captions(
    index: Index,
    encoder: Any,
    *,
    batch_size: int = 64,
    chunk_size: int = 2048,
    progress: bool = True,
    on_chunk: Callable[[int, int], None] | None = None,
) -> EncodeReport:
    """Encode every caption of ``index`` not yet cached for ``encoder`` (a spec or an encoder).

    Args:
        index: the index whose captions to encode.
        encoder: an encoder spec string or a loaded text encoder (``.spec``, ``.encode``).
        batch_size: texts per forward pass.
        chunk_size: captions per atomic write (the resume granularity).
        progress: show a progress bar.
        on_chunk: called as ``on_chunk(done, total)`` after each chunk is written.

    Raises:
        ValueError: ``batch_size`` or ``chunk_size`` is not a whole number >= 1.
    """
    for name, value in (("batch_size", batch_size), ("chunk_size", chunk_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    if isinstance(encoder, str):
        from ..encoders import load_encoder

        encoder = load_encoder(encoder)
    spec = encoder.spec
    table = caption_vectors_table(spec)
    captions = index.caption_table(columns=["sen_id", "text"])
    sen_ids = captions["sen_id"].to_pylist()
    texts = captions["text"].to_pylist()
    cached = _cached_hashes(index, table)
    todo = [
        i
        for i, (s, t) in enumerate(zip(sen_ids, texts, strict=True))
        if cached.get(s) != text_hash(t)
    ]
    if todo and spec not in cache_info(index):
        # Record the cache first: a kill between the two steps leaves a findable table.
        info = cache_info(index)
        info[spec] = {"table": table, "dim": int(encoder.dim)}
        index.set_metadata(caption_cache=info)
    if todo and not index.store.has_table(table):
        index.store.create_table(table, caption_vectors_schema(int(encoder.dim)), CAPTION_KEY)
    from tqdm.auto import tqdm

    with tqdm(
        total=len(todo), desc=f"encoding captions ({spec})", unit="caption", disable=not progress
    ) as bar:
        for start in range(0, len(todo), chunk_size):
            chunk = todo[start : start + chunk_size]
            chunk_texts = [texts[i] for i in chunk]
            # MSR-VTT repeats captions ("a man is talking"): encode each distinct text once.
            unique, inverse = np.unique(np.array(chunk_texts, dtype=object), return_inverse=True)
            vecs = np.asarray(encoder.encode(list(unique), batch_size=batch_size))[inverse]
            rows = pa.table(
                {
                    "sen_id": [sen_ids[i] for i in chunk],
                    "text_hash": [text_hash(t) for t in chunk_texts],
                    "vector": vector_array(np.asarray(vecs, dtype=np.float32)),
                }
            )
            with index.store.write_lock():  # one writer at a time, as for Index writes
                index.store.upsert(table, rows, CAPTION_KEY)
            bar.update(len(chunk))
            if on_chunk is not None:
                on_chunk(start + len(chunk), len(todo))
    return EncodeReport(spec, table, len(sen_ids), len(todo), len(sen_ids) - len(todo))


def caption_vectors(index: Index, spec: str, *, split: str | None = None) -> CaptionVectors:
    """Every caption (of videos in ``split``, if given) with its cached vector for ``spec``.

    Raises:
        MissingCaptionVectorsError: some captions have no (current) cached vector.
    """
    from ..encoders.space import canonical_spec

    spec = canonical_spec(spec)
    info = cache_info(index).get(spec)
    hint = f"run `vtrsearch encode {index.uri} --encoder {spec}` first"
    if info is None or not index.store.has_table(info["table"]):
        raise MissingCaptionVectorsError(f"no cached caption vectors for {spec!r}; {hint}")
    captions = index.caption_table(columns=["sen_id", "video_id", "text"])
    if split is not None:
        m = index.gallery()
        keep = set(m.ids[m.split_rows(split)].tolist())
        mask = [v in keep for v in captions["video_id"].to_pylist()]
        captions = captions.filter(pa.array(mask, pa.bool_()))
    cached = index.store.scan(info["table"], columns=["sen_id", "text_hash", "vector"])
    row = {s: i for i, s in enumerate(cached["sen_id"].to_pylist())}
    hashes = cached["text_hash"].to_pylist()
    sen_ids = captions["sen_id"].to_pylist()
    texts = captions["text"].to_pylist()
    stale = [
        s
        for s, t in zip(sen_ids, texts, strict=True)
        if s not in row or hashes[row[s]] != text_hash(t)
    ]
    if stale:
        shown = ", ".join(stale[:5]) + (" ..." if len(stale) > 5 else "")
        raise MissingCaptionVectorsError(
            f"{len(stale)} caption(s) have no current vector for {spec!r} ({shown}); {hint}"
        )
    all_vecs = vectors_from_column(cached["vector"], int(info["dim"]))
    order = np.fromiter((row[s] for s in sen_ids), dtype=np.int64, count=len(sen_ids))
    return CaptionVectors(
        spec=spec,
        sen_ids=sen_ids,
        video_ids=captions["video_id"].to_pylist(),
        texts=texts,
        vectors=all_vecs[order],
    )
