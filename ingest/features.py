"""Readers for pre-extracted video features.

Two layouts are accepted:

* a folder with one file per video, named ``<video_id>.npy`` / ``.npz`` / ``.pt`` / ``.pth``,
  holding a clip-level vector (D) or frame-level features (T x D);
* one matrix file (``.npy`` N x D or N x T x D, or ``.npz`` with ``features`` and ``ids``
  arrays) plus an id list (text file, one id per line, or a JSON list) when the ids are not
  inside the file.

Frame-level features are kept (:attr:`Features.frames`, one row per frame, to become the
video's segments) and mean-pooled into the video's vector.

Files are read without unpickling: ``np.load(allow_pickle=False)`` and
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vtrsearch.errors import DimensionMismatchError, IngestError, InvalidVectorError

from .annotations import read_json, regular_file

FEATURE_SUFFIXES = (".npy", ".npz", ".pt", ".pth")


@dataclass
class Features:
    """Pooled, validated (not yet normalised) vectors for the videos that have them."""

    ids: list[str]
    vectors: np.ndarray  # (n, d) float32
    missing: list[str]  # requested ids without a feature file
    frames: list[np.ndarray | None] | None = None  # per id: (T, d) frame features, or None

    def frames_of(self, i: int) -> np.ndarray | None:
        """The (T, d) frame features of the ``i``-th video, or ``None`` when clip-level."""
        return None if self.frames is None else self.frames[i]

    @property
    def has_frames(self) -> bool:
        """Whether any video came with frame-level features."""
        return self.frames is not None and any(f is not None for f in self.frames)

    @property
    def dim(self) -> int:
        """Feature dimension."""
        return int(self.vectors.shape[1])


def _numeric_array(array: np.ndarray, path: Path) -> np.ndarray:
    """``array`` when it holds real numbers (not a structured, string or complex array)."""
    if array.dtype.kind not in "fiub":
        raise IngestError(
            f"{path}: features must be a plain numeric array, got dtype {array.dtype} "
            f"(shape {array.shape}); save the vectors as a float array"
        )
    return array


def _load_array(path: Path, mmap: bool = False) -> np.ndarray:
    suffix = path.suffix.lower()
    regular_file(path, "feature file")
    return _numeric_array(_read_array(path, suffix, mmap), path)


def _read_array(path: Path, suffix: str, mmap: bool = False) -> np.ndarray:
    try:
        if suffix == ".npy":  # a big matrix is memory-mapped: rows are read as written
            return np.load(path, allow_pickle=False, mmap_mode="r" if mmap else None)
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as npz:
                keys = list(npz.keys())
                key = next((k for k in ("features", "feature", "arr_0") if k in keys), None)
                if key is None and len(keys) == 1:
                    key = keys[0]
                if key is None:
                    raise IngestError(f"{path}: cannot tell which array holds features: {keys}")
                return npz[key]
        if suffix in (".pt", ".pth"):
            import torch

            obj = torch.load(path, map_location="cpu", weights_only=True)
            if isinstance(obj, dict):
                tensors = [v for v in obj.values() if isinstance(v, torch.Tensor)]
                if len(tensors) != 1:
                    raise IngestError(f"{path}: expected one tensor, found keys {list(obj)}")
                obj = tensors[0]
            if not isinstance(obj, torch.Tensor):
                raise IngestError(f"{path}: expected a tensor, found {type(obj).__name__}")
            return obj.detach().float().cpu().numpy()
    except IngestError:
        raise
    except Exception as exc:  # corrupt file, pickle refused, ...
        raise IngestError(f"{path}: cannot read features ({type(exc).__name__}: {exc})") from None
    raise IngestError(f"{path}: unsupported feature file type (use {', '.join(FEATURE_SUFFIXES)})")


def split_frames(array: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The clip-level vector and, for frame-level input, the (T, D) frames of one video.

    A (D,) array is a clip-level vector; a (T, D) (or (1, T, D)) array holds T frames, which
    are kept and mean-pooled into the clip-level vector.
    """
    arr = np.asarray(array, dtype=np.float32)
    if arr.ndim == 3 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim == 2 and arr.shape[0] >= 1:
        return arr.mean(axis=0), arr
    if arr.ndim != 1:
        raise IngestError(f"{where}: expected a (D,) or (T, D) array, got shape {array.shape}")
    return arr, None


def pool(array: np.ndarray, where: str) -> np.ndarray:
    """A clip-level vector from a (D,) or (T, D) array (frames are mean-pooled)."""
    return split_frames(array, where)[0]


def _check(ids: Sequence[str], mat: np.ndarray, where: Sequence[str]) -> None:
    bad = np.flatnonzero(~np.isfinite(mat).all(axis=1))
    if bad.size:
        listed = ", ".join(f"{ids[i]} ({where[i]})" for i in bad[:10])
        raise InvalidVectorError(
            f"NaN or infinite feature values for {bad.size} video(s): {listed}"
        )
    zero = np.flatnonzero(~mat.any(axis=1))
    if zero.size:
        listed = ", ".join(ids[i] for i in zero[:10])
        raise InvalidVectorError(f"all-zero feature vectors for {zero.size} video(s): {listed}")


def _check_frames(
    ids: Sequence[str], frames: Sequence[np.ndarray | None], where: Sequence[str]
) -> None:
    """Every frame must become a valid segment: finite and not all zero (names video, frame)."""
    for vid, mat, path in zip(ids, frames, where, strict=True):
        if mat is None:
            continue
        bad = np.flatnonzero(~np.isfinite(mat).all(axis=1) | ~mat.any(axis=1))
        if bad.size:
            raise InvalidVectorError(
                f"video {vid} ({path}): frame {int(bad[0])} of {mat.shape[0]} is all zero or "
                f"not finite ({bad.size} such frame(s)); every frame becomes a segment"
            )


def load_feature_folder(
    folder: Path,
    video_ids: Sequence[str],
    expected_dim: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Features:
    """Read one feature file per requested video from ``folder``."""
    if not folder.is_dir():
        raise IngestError(f"features folder not found: {folder}")
    files: dict[str, list[Path]] = {}
    for path in folder.iterdir():
        if path.suffix.lower() in FEATURE_SUFFIXES:
            files.setdefault(path.stem, []).append(path)
    ambiguous = [vid for vid in video_ids if len(files.get(vid, ())) > 1]
    if ambiguous:
        shown = "; ".join(
            f"{vid}: {', '.join(sorted(p.name for p in files[vid]))}" for vid in ambiguous[:5]
        )
        raise IngestError(
            f"{folder}: {len(ambiguous)} video(s) have more than one feature file ({shown}); "
            "keep one file per video"
        )
    found, vectors, where, missing = [], [], [], []
    frames: list[np.ndarray | None] = []
    dim = expected_dim
    for vid in video_ids:
        if vid not in files:
            missing.append(vid)
            continue
        path = files[vid][0]
        vec, per_frame = split_frames(_load_array(path), str(path))
        if dim is None:
            dim = vec.shape[0]
        elif vec.shape[0] != dim:
            raise DimensionMismatchError(
                f"video {vid} ({path}): feature dimension {vec.shape[0]}, expected {dim}"
            )
        found.append(vid)
        vectors.append(vec)
        frames.append(per_frame)
        where.append(str(path))
        if progress is not None:
            progress(1)
    mat = np.stack(vectors) if vectors else np.zeros((0, dim or 0), dtype=np.float32)
    _check(found, mat, where)
    _check_frames(found, frames, where)
    return Features(found, mat, missing, frames)


def _read_ids(path: Path) -> list[str]:
    regular_file(path, "id list")
    if path.suffix.lower() == ".json":
        data = read_json(path)
        if not isinstance(data, list):
            raise IngestError(f"{path}: expected a JSON list of video ids")
        return [str(v) for v in data]
    try:
        return [
            line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
        ]
    except FileNotFoundError:
        raise IngestError(f"id list not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise IngestError(f"cannot read id list {path}: {exc}") from None


def load_feature_matrix(
    path: Path,
    video_ids: Sequence[str],
    ids_path: Path | None = None,
    expected_dim: int | None = None,
) -> Features:
    """Read one (N, D) matrix (or (N, T, D) frame features) plus its id list."""
    regular_file(path, "feature matrix")
    if path.suffix.lower() == ".npz" and ids_path is None:
        ids, mat = _read_npz_matrix(path)
    else:
        if ids_path is None:
            raise IngestError(f"{path}: a feature matrix needs an id list (--feature-ids FILE)")
        ids = _read_ids(ids_path)
        mat = np.asarray(_load_array(path, mmap=True), dtype=np.float32)  # no copy if float32
    _check_unique_ids(ids, str(ids_path or path))
    per_frame = mat if mat.ndim == 3 else None
    if per_frame is not None:
        mat = per_frame.mean(axis=1)
    if mat.ndim != 2 or mat.shape[0] != len(ids):
        raise IngestError(
            f"{path}: {mat.shape[0] if mat.ndim else 0} feature rows (shape {mat.shape}) but "
            f"{len(ids)} ids"
        )
    if expected_dim is not None and mat.shape[1] != expected_dim:
        raise DimensionMismatchError(
            f"video {ids[0]} ({path}): feature dimension {mat.shape[1]}, expected {expected_dim}"
        )
    row = {vid: i for i, vid in enumerate(ids)}
    wanted = [vid for vid in video_ids if vid in row]
    missing = [vid for vid in video_ids if vid not in row]
    rows = [row[v] for v in wanted]
    if rows == list(range(len(ids))):  # every row, in file order: no copy of the matrix
        sub = mat
    else:
        sub = mat[rows] if wanted else np.zeros((0, mat.shape[1]), np.float32)
    _check(wanted, sub, [str(path)] * len(wanted))
    frames = None
    if per_frame is not None:
        frames = [per_frame[row[v]] for v in wanted]
        _check_frames(wanted, frames, [str(path)] * len(wanted))
    return Features(wanted, sub, missing, frames)


def _read_npz_matrix(path: Path) -> tuple[list[str], np.ndarray]:
    """Ids and features of an ``.npz`` holding both (``ids``/``video_ids``, ``features``)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            id_key = next((k for k in ("ids", "video_ids") if k in npz), None)
            feat_key = next((k for k in ("features", "feature", "arr_0") if k in npz), None)
            if id_key is None or feat_key is None:
                raise IngestError(f"{path}: an .npz matrix needs 'features' and 'ids' arrays")
            ids = [str(v) for v in npz[id_key].tolist()]
            mat = np.asarray(_numeric_array(npz[feat_key], path), dtype=np.float32)
    except IngestError:
        raise
    except Exception as exc:  # not a zip, truncated, pickled arrays refused, ...
        raise IngestError(f"{path}: cannot read features ({type(exc).__name__}: {exc})") from None
    return ids, mat


def _check_unique_ids(ids: Sequence[str], where: str) -> None:
    """Refuse an id list naming a video twice: one of its rows would silently win."""
    seen: set[str] = set()
    dupes = sorted({v for v in ids if v in seen or seen.add(v)})  # type: ignore[func-returns-value]
    if dupes:
        shown = ", ".join(dupes[:10]) + (f" ... ({len(dupes)} in all)" if len(dupes) > 10 else "")
        raise IngestError(f"{where}: video ids listed more than once: {shown}")


def find_features(root: Path) -> Path | None:
    """A features folder under an MSR-VTT root (``*feature*`` directory), if exactly one."""
    if not root.is_dir():
        return None
    dirs = sorted(p for p in root.iterdir() if p.is_dir() and "feat" in p.name.lower())
    return dirs[0] if len(dirs) == 1 else None
