"""Inputs of an evaluation: the split's gallery and queries, heads, cached caption vectors.

Helpers of :func:`vtrsearch.eval.evaluate_index`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DimensionMismatchError, MissingCaptionVectorsError, UnknownSplitError
from .progress import StepReporter

if TYPE_CHECKING:
    from ..heads.io import LoadedHead
    from ..index.caption_cache import CaptionVectors
    from ..index.index import Index


@dataclass
class EvalSplit:
    """The gallery (videos of the split) and its queries (their captions), row-aligned."""

    ids: np.ndarray
    vectors: np.ndarray
    category: np.ndarray
    category_names: list[str]
    sen_ids: list[str]
    texts: list[str]
    cv: np.ndarray  # gallery row of each caption's video
    categorised: bool = True  # False: the index has no categories (no per-category breakdown)

    @property
    def query_categories(self) -> list[str]:
        """Category name of each query's ground-truth video."""
        return [self.category_names[r] for r in self.cv.tolist()]


def check_split(index: Index, split: str, what: str) -> None:
    """Raise :class:`UnknownSplitError` naming the index's splits when ``split`` is not one."""
    known = index.splits()
    if split not in known:
        raise UnknownSplitError(
            f"unknown {what} {split!r}; the index has: "
            + (", ".join(repr(s) for s in sorted(known)) or "no videos")
        )


def load_split(index: Index, split: str | None) -> EvalSplit:
    """The videos of ``split`` (all when ``None``) and the captions of those videos."""
    if split is not None:
        check_split(index, split, "split")
    m = index.gallery()
    rows = m.split_rows(split)
    ids = m.ids[rows]
    row_of = {v: i for i, v in enumerate(ids.tolist())}
    captions = index.caption_table(columns=["sen_id", "video_id", "text"])
    vids = captions["video_id"].to_pylist()
    keep = [i for i, v in enumerate(vids) if v in row_of]
    if not keep:
        where = "the index" if split is None else f"split {split!r}"
        raise ValueError(f"{where} has no captions to use as queries")
    sen_ids, texts = captions["sen_id"].to_pylist(), captions["text"].to_pylist()
    cmap = index.category_map
    category = m.category[rows]
    return EvalSplit(
        ids=ids,
        vectors=m.vectors[rows],
        category=category,
        category_names=[_cat_name(cmap, int(c)) for c in category.tolist()],
        sen_ids=[sen_ids[i] for i in keep],
        texts=[texts[i] for i in keep],
        cv=np.fromiter((row_of[vids[i]] for i in keep), dtype=np.intp, count=len(keep)),
        categorised=cmap.has_categories,
    )


def _cat_name(cmap: Any, cid: int) -> str:
    try:
        return cmap.name(cid)
    except (KeyError, ValueError):
        return f"category {cid}"


def check_bank_split(index: Index, split: str | None, bank: str) -> None:
    """Refuse a QB-Norm bank split that would contain the evaluated queries."""
    if split is None or bank == split:
        raise ValueError(
            f"QB-Norm bank split {bank!r} would include the evaluated queries "
            f"(split {split!r}): use a different --qb-bank-split (e.g. 'train')"
        )
    check_split(index, bank, "QB-Norm bank split")


def check_baseline_space(spec: str, index: Index, foreign: bool) -> None:
    """Raise :class:`SpaceMismatchError` when ``spec`` is not in the index's space."""
    from ..encoders.space import UnknownSpaceWarning, check_space

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownSpaceWarning)
        check_space(spec, index.feature_model, allow_foreign_space=foreign)


def load_checked_head(index: Index, ref: str | Path, foreign: bool) -> LoadedHead:
    """Load a head (a directory or a registered name) and check it against the index."""
    from ..encoders.space import UnknownSpaceWarning, check_space
    from ..heads.io import load_head
    from ..heads.resolve import resolve_head_dir

    path = resolve_head_dir(ref, index.heads())
    head = load_head(path)
    if not head.config.base_encoder:
        raise ValueError(f"head {path} does not record its base encoder (config base_encoder)")
    if head.out_dim != index.dim:
        raise DimensionMismatchError(
            f"head {path} outputs {head.out_dim}-d vectors, the index holds {index.dim}-d "
            "video vectors"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownSpaceWarning)
        check_space(
            head.config.base_encoder,
            index.feature_model,
            head_feature_model=head.config.feature_model,
            has_head=True,
            allow_foreign_space=foreign,
        )
    return head


def head_label(index: Index, head: LoadedHead, taken: set[str]) -> str:
    """``head:<registered name or directory name>``, made unique among ``taken``."""
    resolved = str(Path(head.path).resolve())
    name = next((n for n, p in index.heads().items() if p == resolved), Path(head.path).name)
    label, i = f"head:{name}", 2
    while label in taken:
        label, i = f"head:{name}#{i}", i + 1
    return label


# ----------------------------------------------------------------------------- vectors


def caption_vectors_for(
    index: Index,
    spec: str,
    split: str | None,
    in_dim: int,
    who: str,
    reporter: StepReporter | None = None,
    label: str = "",
) -> CaptionVectors:
    """Cached caption vectors of ``spec`` (encoding every caption first when missing).

    Encoding is reported to ``reporter`` as an ``"encode"`` stage of row ``label``.
    """
    from ..encoders.space import canonical_spec
    from ..index.caption_cache import cache_info, caption_vectors, encode_captions

    def check(dim: int) -> None:
        if dim != in_dim:
            raise DimensionMismatchError(
                f"encoder {spec!r} makes {dim}-d vectors, {who} expects {in_dim}-d vectors"
            )

    info = cache_info(index).get(canonical_spec(spec))
    if info is not None:
        check(int(info["dim"]))
    try:
        return caption_vectors(index, spec, split=split)
    except MissingCaptionVectorsError:
        from ..encoders import load_encoder

        enc = load_encoder(spec)
        check(int(enc.dim))
        reporter = reporter or StepReporter(None, 0)
        update = reporter.begin(
            "encode",
            label,
            index.caption_table(columns=["sen_id"]).num_rows,  # at most this many
            f"caption vectors for {spec} are not cached: encoding the index's captions now",
            new_step=False,
        )
        encode_captions(index, enc, progress=False, on_chunk=update)
        return caption_vectors(index, spec, split=split)


def aligned(cached: CaptionVectors, data: EvalSplit) -> np.ndarray:
    """The cached vectors in the order of ``data``'s queries."""
    if cached.sen_ids == data.sen_ids:
        return cached.vectors
    row = {s: i for i, s in enumerate(cached.sen_ids)}
    missing = [s for s in data.sen_ids if s not in row]
    if missing:
        raise MissingCaptionVectorsError(
            f"{len(missing)} caption(s) have no cached vector for {cached.spec!r} "
            f"(e.g. {missing[0]}); run `vtrsearch encode --encoder {cached.spec}`"
        )
    return cached.vectors[[row[s] for s in data.sen_ids]]


def unit_rows(x: np.ndarray) -> np.ndarray:
    """float32 rows scaled to unit L2 norm (zero rows stay zero)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def query_vectors(
    index: Index,
    spec: str,
    split: str | None,
    head: LoadedHead | None,
    data: EvalSplit,
    cache: dict[str, CaptionVectors],
    reporter: StepReporter | None = None,
    label: str = "",
) -> np.ndarray:
    """Unit query vectors of ``data``'s captions: cached ``spec`` vectors, through ``head``.

    ``cache`` keeps the caption vectors read per encoder and split, for the next row;
    encoding missing vectors is reported to ``reporter`` (see :func:`caption_vectors_for`).
    """
    key = f"{spec}\0{split}"
    if key not in cache:
        in_dim = index.dim if head is None else head.in_dim
        who = "the index" if head is None else f"head {head.path}"
        cache[key] = caption_vectors_for(index, spec, split, in_dim, who, reporter, label)
    vecs = aligned(cache[key], data)
    if head is not None:
        if vecs.shape[1] != head.in_dim:
            raise DimensionMismatchError(
                f"encoder {spec!r} makes {vecs.shape[1]}-d vectors, head {head.path} "
                f"expects {head.in_dim}-d vectors"
            )
        vecs = head.project(vecs)
    return unit_rows(vecs)
