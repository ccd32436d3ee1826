"""The gallery cached on disk next to the index and memory-mapped.

Building the gallery reads every vector of the store (a minute at 1M x 1024); reading it back
from ``.npy`` files with ``np.load(mmap_mode="r")`` costs nothing until a page is touched, and
every process searching the same index shares those pages. The cache lives in
:func:`vtrsearch.stores.uri.cache_dir` (``<lance dir>/_vtrsearch_cache``, else
``$VTRSEARCH_CACHE_DIR/<hash>``); a store without one (``:memory:``) gets an in-RAM gallery.

Layout of the cache folder::

    gallery-<precision>.json   the pointer: manifest of the current build and its folder
    g-XXXXXXXX/                one build: exact.npy (float32), codes.npy + scales.npy
                               (float16 / int8), category.npy, split_codes.npy, ids.arrow,
                               seg_*.npy for segments, manifest.json
    gallery.lock               serialises builders (a killed builder's lock is released)

Files that do not depend on the precision (``exact.npy``, ids, categories, segments) are hard
links into another precision's build of the same table versions when one exists.

The manifest records the table versions (:func:`~.gallery_loader.table_versions`) with the
index's creation time (a deleted and re-created index restarts its versions), dim,
counts, precision, split names and, per file, its size and a hash of sampled 4 KiB blocks
(header, 8 evenly spaced blocks, the tail). A reader checks the versions and the row count
(a mismatch means writes since: rebuild) and every file's size and sampled hash (a truncated
or overwritten file means rebuild, never wrong results; a flipped bit between sampled blocks
is not detected: hashing 6 GB at every open would cost seconds).

A build streams the store in batches (:meth:`~vtrsearch.stores.VectorStore.iter_batches`) into
files of a fresh ``g-*`` folder (:mod:`.gallery_cache_write`), fsyncs them, then replaces the
pointer (``os.replace``): a reader sees the old build or the new one, a build killed midway
leaves the old one (its folder is removed by the next build), and two builders take turns
under the lock (the second finds the first's build current and uses it).
"""

from __future__ import annotations

import contextlib
import filecmp
import hashlib
import json
import logging
import mmap
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ..stores import VectorStore
from .compact import CompactVectors
from .gallery import Gallery
from .gallery_cache_write import Changed, write_segments, write_videos
from .schema import SEGMENTS, VIDEOS
from .segment_block import SegmentBlock

FORMAT = 1
_SAMPLE = 4096
logger = logging.getLogger(__name__)
#: Builds done by this process (tests assert a current cache is reused, not rebuilt).
builds = 0


def _versions_key(versions: Any) -> str:
    return json.dumps(versions, default=str, sort_keys=True)


def _pointer(cache: Path, precision: str) -> Path:
    return cache / f"gallery-{precision}.json"


def _sample_hash(path: Path) -> str:
    size = path.stat().st_size
    digest = hashlib.blake2b(str(size).encode(), digest_size=16)
    offsets = sorted({min(size, i * size // 8) for i in range(8)} | {max(0, size - _SAMPLE)})
    with path.open("rb") as f:
        for offset in offsets:
            f.seek(offset)
            digest.update(f.read(_SAMPLE))
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# reading --------------------------------------------------------------------------------------
def _read_manifest(cache: Path, precision: str) -> dict[str, Any] | None:
    try:
        manifest = json.loads(_pointer(cache, precision).read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and manifest.get("format") == FORMAT else None


def _load(cache: Path, manifest: dict[str, Any]) -> Gallery | None:
    """The gallery of a build whose files all check out, else ``None``."""
    folder = cache / str(manifest.get("folder", ""))
    try:
        for name, (size, digest) in manifest["files"].items():
            path = folder / name
            if path.stat().st_size != size or _sample_hash(path) != digest:
                logger.warning("gallery cache file %s is damaged; rebuilding", path)
                return None
        return _open_build(folder, manifest)
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowInvalid) as exc:
        logger.warning("gallery cache in %s is unreadable (%s); rebuilding", folder, exc)
        return None


def _open_build(folder: Path, manifest: dict[str, Any]) -> Gallery:
    def arr(name: str) -> np.ndarray:
        return np.load(folder / name, mmap_mode="r", allow_pickle=False)

    precision, rows, dim = manifest["precision"], int(manifest["rows"]), int(manifest["dim"])
    exact = _random_access(arr("exact.npy"))
    if exact.shape != (rows, dim):
        raise ValueError(f"exact.npy holds {exact.shape}, the manifest says {(rows, dim)}")
    codes = None if precision == "float32" else arr("codes.npy")
    scales = arr("scales.npy") if precision == "int8" else None
    ids = pa.ipc.open_file(pa.memory_map(str(folder / "ids.arrow"))).read_all().column(0)
    if len(ids) != rows:
        raise ValueError(f"ids.arrow holds {len(ids)} ids, the manifest says {rows}")
    gallery = Gallery(
        ids=ids,
        vectors=exact,
        category=arr("category.npy"),
        compact=CompactVectors(
            exact, precision, codes, scales, (str(folder / "exact.npy"), exact.offset)
        ),
        split_codes=arr("split_codes.npy"),
        split_names=list(manifest["split_names"]),
    )
    if manifest.get("segments") is not None:
        seg_exact = _random_access(arr("seg_exact.npy"))
        gallery.segments = SegmentBlock(
            vectors=seg_exact,
            video_row=arr("seg_video_row.npy"),
            segment=arr("seg_segment.npy"),
            start=arr("seg_start.npy"),
            end=arr("seg_end.npy"),
            n_videos=rows,
            compact=CompactVectors(
                seg_exact,
                precision,
                None if precision == "float32" else arr("seg_codes.npy"),
                arr("seg_scales.npy") if precision == "int8" else None,
                (str(folder / "seg_exact.npy"), seg_exact.offset),
            ),
        )
    return gallery


def _random_access(array: np.ndarray) -> np.ndarray:
    """Tell the kernel not to read ahead around the pages of ``array`` (a memory map).

    Only candidate rows of the float32 copy are read; with the default read-ahead each row
    would pull in ~128 KiB of its neighbours, and the resident memory would creep up to the
    whole float32 file (measured: +13-58 MB per query at 200k x 1024).
    """
    handle = getattr(array, "_mmap", None)
    if handle is not None and hasattr(mmap, "MADV_RANDOM"):
        with contextlib.suppress(OSError, ValueError):
            handle.madvise(mmap.MADV_RANDOM)
    return array


def load_cached(
    store: VectorStore, dim: int, precision: str, cache: Path, versions: Any
) -> Gallery:
    """The gallery from the cache when it is current, else rebuilt into the cache first."""
    key = _versions_key(versions)

    def current(manifest: dict[str, Any] | None) -> bool:
        return (
            manifest is not None
            and manifest.get("versions") == key
            and manifest.get("dim") == dim
            and manifest.get("rows") == store.count(VIDEOS)
        )

    manifest = _read_manifest(cache, precision)
    if current(manifest):
        gallery = _load(cache, manifest)
        if gallery is not None:
            return gallery
    from filelock import FileLock

    cache.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache / "gallery.lock")):
        manifest = _read_manifest(cache, precision)  # another process may have just built it
        if current(manifest):
            gallery = _load(cache, manifest)
            if gallery is not None:
                return gallery
        for _attempt in range(3):
            try:
                manifest = _build(store, dim, precision, cache, key)
                break
            except Changed:
                continue
        else:
            raise Changed("the videos table kept changing while the gallery was cached")
        _remove_stale(cache)
    gallery = _load(cache, manifest)
    if gallery is None:  # pragma: no cover - just written and checked
        raise OSError(f"the gallery cache just written in {cache} does not read back")
    return gallery


# building -------------------------------------------------------------------------------------
def _build(store: VectorStore, dim: int, precision: str, cache: Path, key: str) -> dict[str, Any]:
    global builds
    builds += 1
    folder = Path(tempfile.mkdtemp(prefix="g-", dir=cache))
    try:
        n, split_names = write_videos(store, dim, precision, folder)
        n_segments = None
        if store.has_table(SEGMENTS):
            ids = pa.ipc.open_file(pa.memory_map(str(folder / "ids.arrow"))).read_all()
            n_segments = write_segments(store, dim, precision, folder, ids.column(0))
        files = {}
        for path in sorted(folder.iterdir()):
            _fsync(path)
            files[path.name] = [path.stat().st_size, _sample_hash(path)]
        _share_with_other_precisions(cache, precision, key, folder, files)
        manifest = {
            "format": FORMAT,
            "folder": folder.name,
            "versions": key,
            "dim": dim,
            "rows": n,
            "segments": n_segments,
            "precision": precision,
            "split_names": split_names,
            "files": files,
        }
        (folder / "manifest.json").write_text(json.dumps(manifest))
        _fsync(folder)
        pointer = _pointer(cache, precision)
        tmp = pointer.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(manifest))
        _fsync(tmp)
        os.replace(tmp, pointer)
        _fsync(cache)
        return manifest
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


#: Files every precision's build writes with the same bytes for the same table versions.
SHARED_FILES = tuple(
    "exact.npy category.npy split_codes.npy ids.arrow seg_exact.npy seg_video_row.npy "
    "seg_segment.npy seg_start.npy seg_end.npy".split()
)


def _share_with_other_precisions(
    cache: Path, precision: str, key: str, folder: Path, files: dict[str, list[Any]]
) -> None:
    """Replace this build's precision-independent files by hard links to another precision's
    current build of the same table versions: one float32 copy on disk and in the page cache
    instead of one per precision (3 x 4 GB at 1M x 1024). All or nothing per build: every
    shared file must match (size and sampled hash), and the small ones (ids, categories,
    splits, segment rows) byte for byte, so the rows are the same rows in the same order and
    the vectors of a version under those ids are the same. Where links fail, copies stay."""
    names = [name for name in SHARED_FILES if name in files]
    for other in (p for p in ("float32", "float16", "int8") if p != precision):
        manifest = _read_manifest(cache, other)
        if manifest is None or manifest.get("versions") != key:
            continue
        theirs = cache / str(manifest.get("folder", ""))
        if any(manifest.get("files", {}).get(name) != files[name] for name in names):
            continue
        try:  # their files as they are now, not only as their manifest says
            same = all(
                [(theirs / n).stat().st_size, _sample_hash(theirs / n)] == files[n]
                and (
                    n in ("exact.npy", "seg_exact.npy")
                    or filecmp.cmp(theirs / n, folder / n, shallow=False)
                )
                for n in names
            )
        except OSError:
            continue
        if not same:
            continue
        for name in names:
            mine, tmp = folder / name, folder / f".{name}.link"
            try:
                if os.path.samefile(theirs / name, mine):
                    continue  # linked already (a rename onto the same file would do nothing)
                os.link(theirs / name, tmp)
                os.replace(tmp, mine)
            except OSError:
                with contextlib.suppress(OSError):
                    tmp.unlink()
        return


def _remove_stale(cache: Path) -> None:
    """Remove build folders no pointer names (old builds, builds killed midway).

    Called under the build lock, so no build is in progress; a process still searching an
    old build keeps its memory maps (POSIX keeps unlinked files alive while mapped).
    """
    current = set()
    for pointer in cache.glob("gallery-*.json"):
        with contextlib.suppress(OSError, ValueError):
            current.add(json.loads(pointer.read_text()).get("folder"))
    for folder in cache.glob("g-*"):
        if folder.is_dir() and folder.name not in current:
            shutil.rmtree(folder, ignore_errors=True)
    for tmp in cache.glob("gallery-*.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()
