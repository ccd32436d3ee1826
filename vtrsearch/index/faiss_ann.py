"""In-process ANN over the gallery with faiss: IVF lists, inner product, compressed codes.

Kinds: ``faiss-ivf-fp16`` (``IVF<nlist>,SQfp16``), ``faiss-ivf-sq8`` (``IVF<nlist>,SQ8``) and
``faiss-ivf-pq4fs`` (``IVF<nlist>,PQ<m>x4fs``: 4-bit product quantiser scanned with SIMD, ``m``
sub-vectors, default ``dim / 4``; cheap to scan, so it probes many lists and re-scores).
Parameters (stored with the index; ``nprobe``/``rescore`` may be overridden per query):

- ``nlist``: inverted lists (default ``2 * sqrt(n)``, at most ``n / 39`` so k-means trains;
  k-means costs ``train_size x nlist x dim``, which dominates the build on two cores).
- ``nprobe``: lists scanned per query (default: enough lists for ~40,000 vectors, at least
  8; see :data:`SCAN_VECTORS`). A filtered query probes by *matches* instead: it takes the
  lists nearest the query first, skips lists that hold no video the filter keeps, and stops
  once the lists taken hold :data:`FILTER_SCAN` times as many kept videos as ``nprobe``
  lists hold videos, scaled by ``sqrt(s)`` for a filter keeping a fraction ``s``. So a filter
  that follows the clusters (its kept videos sit in a few lists, none of them near the query)
  still scans kept videos rather than lists full of videos it excludes.
- ``rescore``: fetch ``k * rescore`` candidates and re-score them exactly in float32 from the
  gallery (default 2 for fp16, 4 for sq8, 10 for pq4fs; 0 = faiss's own quantised scores).
  A filtered query fetches :data:`FILTER_FETCH` times as many: its nearest matches are
  further from the query and closer to each other, where compressed codes rank less well.
- ``train_size``: vectors k-means trains on (default ``40 * nlist``, at least 20k), ``niter``
  its iterations (default 10).
- ``filter_exact_below``: a filter keeping at most this many videos is answered exactly over
  the rows it keeps (faster than probing, and exact; default 20,000).

Files: ``cache_dir(index.uri)/ann/<kind>-<token>/`` holds ``index.faiss``, ``ids.arrow`` (the
video id and a vector fingerprint of each faiss id) and ``manifest.json``; ``ann/current.json``
names the live folder and is replaced atomically, last. A killed build leaves only a
``.build-*`` folder that the next build removes, and the previous index stays live. In-memory
stores keep the faiss index in RAM only.

Staleness: when videos are written after the build, the faiss ids are mapped to the current
gallery by video id; deleted videos and videos whose vector changed (fingerprint) are excluded
through the id selector, and videos the index does not cover (added or changed since) are
searched **exactly** and merged, so results never include a deleted video nor miss a new one.
``vtrsearch info`` reports such an index as stale; rebuild when many videos were added.
"""

from __future__ import annotations

import json
import logging
import math
import os
import secrets
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from ..stores.uri import cache_dir
from .ann import ProgressFn, register_backend
from .faiss_state import (
    FaissState,
    fingerprints,
    gallery_float32,
    load_faiss,
    search_by_matches,
    top_k_of_scores_by_row,
)

if TYPE_CHECKING:
    from ..results import Hit
    from .index import Index

logger = logging.getLogger(__name__)
ANN_FOLDER = "ann"
POINTER = "current.json"
STATE_ATTR = "_faiss_ann_state"
CLEAN_GRACE_S = 120.0
#: The default ``nprobe`` scans about this many vectors (``nprobe = SCAN_VECTORS * nlist / n``):
#: on CLIP-like data recall@10 follows the number of vectors scanned more than the share of
#: lists (bench/ann_recall.py: ~25k gave 0.95 over 200k, 32k 0.97 and 64k 0.99 over 1M).
SCAN_VECTORS = 40_000
#: A filtered query scans lists until they hold this many times ``sqrt(s)`` x the vectors
#: that ``nprobe`` unfiltered lists hold (kept videos only; see the module docstring).
#: bench/scale.py at 1M, filter ``cluster % 20`` in 3 of 20 (15%): by-list probing gave
#: recall@10 0.851; by matches x1 0.87, x2 0.93, x4 0.97 (fetch x4), x8 0.997.
FILTER_SCAN = 4.0
#: A filtered query fetches this many times ``k * rescore`` candidates for re-scoring.
FILTER_FETCH = 4


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean(folder: Path, keep: str | None) -> None:
    """Remove every built folder but ``keep`` and the ``.build-*`` folders of dead builders.

    A finished folder younger than :data:`CLEAN_GRACE_S` is left alone: a concurrent builder
    may be about to point ``current.json`` at it (a later build removes it).
    """
    now = time.time()
    for child in folder.iterdir():
        if not child.is_dir() or child.name == keep:
            continue
        if not child.name.startswith(".build-") and now - child.stat().st_mtime < CLEAN_GRACE_S:
            continue
        if child.name.startswith(".build-"):
            try:
                pid = int(child.name.split("-")[1])
            except (IndexError, ValueError):
                pid = -1
            if pid != os.getpid() and _pid_alive(pid):
                continue
        shutil.rmtree(child, ignore_errors=True)


class FaissIvfBackend:
    """``faiss-ivf-<codes>``: IVF lists over the gallery, codes ``SQfp16``, ``SQ8`` or
    ``PQ<m>x4fs`` (4-bit product quantiser, SIMD fast scan; ``m`` sub-vectors)."""

    needs_gallery = True

    def __init__(self, kind: str, codes: str, rescore: int) -> None:
        self.kind = kind
        self.codes = codes
        self.default_rescore = rescore

    def factory(self, d: int, p: Mapping[str, Any]) -> str:
        """The faiss ``index_factory`` string."""
        codes = self.codes
        if codes == "PQfs":
            m = int(p["m"])
            if m < 1 or d % m:
                raise ValueError(f"m must divide the dimension {d}, got {m}")
            codes = f"PQ{m}x4fs"
        return f"IVF{int(p['nlist'])},{codes}"

    # parameters ----------------------------------------------------------------------------
    def defaults(self, n: int, params: Mapping[str, Any]) -> dict[str, Any]:
        known = {"nlist", "nprobe", "rescore", "train_size", "niter", "filter_exact_below"}
        if self.codes == "PQfs":
            known.add("m")
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValueError(
                f"unknown {self.kind} parameter(s) {', '.join(unknown)}; known: "
                f"{', '.join(sorted(known))}"
            )
        out = dict(params)
        cap = max(1, n // 39)
        nlist = int(out.get("nlist") or max(1, min(int(2 * math.sqrt(n)), cap)))
        if nlist < 1 or nlist > n:
            raise ValueError(f"nlist must be between 1 and the {n} videos, got {nlist}")
        out["nlist"] = nlist
        scan = math.ceil(SCAN_VECTORS * nlist / max(1, n))
        out["nprobe"] = int(out.get("nprobe") or min(nlist, max(8, scan)))
        out["rescore"] = int(out.get("rescore", self.default_rescore))
        out["train_size"] = int(out.get("train_size") or min(n, max(40 * nlist, 20_000)))
        out["niter"] = int(out.get("niter") or 10)
        out["filter_exact_below"] = int(out.get("filter_exact_below", 20_000))
        if self.codes == "PQfs":
            out["m"] = int(out.get("m") or 0) or None
        for name in ("nprobe", "train_size", "niter"):
            if out[name] < 1:
                raise ValueError(f"{name} must be >= 1, got {out[name]}")
        if out["rescore"] < 0:
            raise ValueError(f"rescore must be >= 0, got {out['rescore']}")
        return out

    # building ------------------------------------------------------------------------------
    def build(
        self, index: Index, params: Mapping[str, Any], progress: ProgressFn | None
    ) -> dict[str, Any]:
        faiss = load_faiss()
        if index.searches_on_store:
            raise ValueError(
                f"{self.kind} runs over the in-memory gallery, but this index searches on the "
                "store (gallery='store'); open it with gallery='memory' or use a store ANN kind"
            )
        m = index.gallery()
        n, d = len(m), index.dim
        if n == 0:
            raise ValueError("the index has no videos: nothing to build an ANN index from")
        p = self.defaults(n, params)
        if self.codes == "PQfs" and p["m"] is None:
            p["m"] = d // 4 if d % 4 == 0 else d  # 4 dimensions per 4-bit code
        version = index._matrix_version[0]
        started = time.perf_counter()
        ivf = faiss.index_factory(d, self.factory(d, p), faiss.METRIC_INNER_PRODUCT)
        ivf.cp.niter = p["niter"]
        ivf.cp.max_points_per_centroid = max(1, -(-p["train_size"] // p["nlist"]))
        rng = np.random.default_rng(0)
        sample = np.sort(rng.choice(n, size=min(n, p["train_size"]), replace=False))
        ivf.train(gallery_float32(m, sample))
        if progress is not None:
            progress(0, n)
        batch = 50_000
        for start in range(0, n, batch):
            ivf.add(gallery_float32(m, np.arange(start, min(n, start + batch))))
            if progress is not None:
                progress(min(n, start + batch), n)
        fp = fingerprints(m)
        manifest = {
            "kind": self.kind,
            "params": p,
            "version": str(version),
            "n": n,
            "dim": d,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "build_seconds": round(time.perf_counter() - started, 3),
            "faiss": faiss.__version__,
        }
        state = FaissState(ivf, np.asarray(m.ids, dtype=object), fp, manifest)
        folder = cache_dir(index.uri)
        if folder is not None:
            state.pointer_mtime = self._save(folder / ANN_FOLDER, state)
        index.__dict__[STATE_ATTR] = state
        return p

    def _save(self, folder: Path, state: FaissState) -> int:
        faiss = load_faiss()
        folder.mkdir(parents=True, exist_ok=True)
        token = secrets.token_hex(6)
        work = folder / f".build-{os.getpid()}-{token}"
        work.mkdir()
        faiss.write_index(state.index, str(work / "index.faiss"))
        table = pa.table(
            {
                "video_id": pa.array(state.ids.tolist(), pa.string()),
                "fp0": pa.array(state.fp[:, 0]),
                "fp1": pa.array(state.fp[:, 1]),
            }
        )
        with pa.OSFile(str(work / "ids.arrow"), "wb") as sink:
            with pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
        (work / "manifest.json").write_text(json.dumps(state.manifest, indent=1))
        final = f"{self.kind}-{token}"
        os.replace(work, folder / final)
        _atomic_write(folder / POINTER, json.dumps({"folder": final}))
        _clean(folder, keep=final)
        return (folder / POINTER).stat().st_mtime_ns

    # loading -------------------------------------------------------------------------------
    def _state(self, index: Index) -> FaissState:
        state: FaissState | None = index.__dict__.get(STATE_ATTR)
        folder = cache_dir(index.uri)
        now = time.monotonic()
        if folder is None:
            if state is None:
                raise FileNotFoundError("no ANN index in memory for this in-memory index")
            return state
        if state is not None and now - state.checked_at < index.refresh_interval:
            return state
        pointer = folder / ANN_FOLDER / POINTER
        try:
            mtime = pointer.stat().st_mtime_ns
        except FileNotFoundError:
            if state is not None:
                return state
            raise FileNotFoundError(f"no ANN index files at {pointer.parent}") from None
        if state is None or state.pointer_mtime != mtime:
            state = self._load(pointer)
            state.pointer_mtime = mtime
            index.__dict__[STATE_ATTR] = state
        state.checked_at = now
        return state

    def _load(self, pointer: Path) -> FaissState:
        faiss = load_faiss()
        live = pointer.parent / json.loads(pointer.read_text())["folder"]
        manifest = json.loads((live / "manifest.json").read_text())
        ivf = faiss.read_index(str(live / "index.faiss"))
        with pa.memory_map(str(live / "ids.arrow")) as source:
            table = pa.ipc.open_file(source).read_all()
        ids = np.array(table["video_id"].to_pylist(), dtype=object)
        fp = np.stack(
            [
                table["fp0"].to_numpy().astype(np.float32),
                table["fp1"].to_numpy().astype(np.float32),
            ],
            axis=1,
        )
        return FaissState(ivf, ids, fp, manifest)

    def manifest(self, index: Index) -> dict[str, Any] | None:
        """The manifest of the live faiss index, or ``None`` when there is none."""
        try:
            return dict(self._state(index).manifest)
        except FileNotFoundError:
            return None

    # searching -----------------------------------------------------------------------------
    def search(
        self,
        index: Index,
        queries: np.ndarray,
        k: int,
        cats: frozenset[int] | None,
        splits: frozenset[str] | None,
        params: Mapping[str, Any],
    ) -> list[list[Hit]]:
        faiss = load_faiss()
        if index.searches_on_store:
            raise ValueError(
                f"{self.kind} needs the gallery in memory (this index has gallery='store')"
            )
        state = self._state(index)
        m = index.gallery()
        state.align(m)
        p = {**state.manifest["params"], **{k_: v for k_, v in params.items() if v is not None}}
        allowed = m.rows(cats, splits)
        if allowed is not None and len(allowed) == len(m):
            allowed, cats, splits = None, None, None  # a filter that keeps every video
        n_allowed = len(m) if allowed is None else len(allowed)
        if n_allowed == 0 or len(queries) == 0:
            return [[] for _ in range(len(queries))]
        if allowed is not None and n_allowed <= int(p["filter_exact_below"]):
            found = m.top_k_many(queries, k, allowed)
            return [index._hits(r, s, m, queries[i]) for i, (r, s) in enumerate(found)]
        nlist = int(state.index.nlist)
        nprobe = min(nlist, int(p["nprobe"]))
        rescore = int(p["rescore"])
        fetch = k * rescore if rescore > 0 else k
        sel = state.selector((cats, splits), allowed)
        q32 = np.ascontiguousarray(queries, dtype=np.float32)
        if allowed is None:  # no filter (a stale index still excludes gone ids through sel)
            sp = (
                faiss.SearchParametersIVF(nprobe=nprobe)
                if sel is None
                else faiss.SearchParametersIVF(nprobe=nprobe, sel=sel)
            )
            dist, ids = state.index.search(q32, fetch, params=sp)
        else:
            share = n_allowed / max(1, len(m))
            matches = state.matches_per_list((cats, splits), allowed)
            want_scan = FILTER_SCAN * nprobe * state.index.ntotal / nlist * math.sqrt(share)
            dist, ids = search_by_matches(
                state.index, q32, fetch * FILTER_FETCH, sel, matches, min(n_allowed, want_scan)
            )
        fresh, fresh_vecs = state.fresh_rows, state.fresh_vecs
        if allowed is not None and len(fresh):
            keep = np.isin(fresh, allowed, assume_unique=True)
            fresh, fresh_vecs = fresh[keep], state.fresh_vecs[keep]
        if not len(fresh):
            fresh_vecs = None
        want = min(k, n_allowed)
        out = []
        for i, q in enumerate(q32):
            got = ids[i][ids[i] >= 0]
            rows = state.row_of_id[got]
            keep = rows >= 0
            rows = rows[keep]
            if rescore > 0:
                scores = gallery_float32(m, rows) @ q
            else:
                scores = dist[i][ids[i] >= 0][keep]
            if fresh_vecs is not None:
                rows = np.concatenate([rows, fresh])
                scores = np.concatenate([scores, fresh_vecs @ q])
            if len(rows) < want:  # the probed lists held too few matches: answer exactly
                r, s = m.top_k(q, k, allowed)
            else:
                idx, s = top_k_of_scores_by_row(scores, rows, k)
                r = rows[idx]
            out.append(index._hits(r, s, m, q))
        return out


FAISS_KINDS = {
    "faiss-ivf-fp16": FaissIvfBackend("faiss-ivf-fp16", "SQfp16", rescore=2),
    "faiss-ivf-sq8": FaissIvfBackend("faiss-ivf-sq8", "SQ8", rescore=4),
    "faiss-ivf-pq4fs": FaissIvfBackend("faiss-ivf-pq4fs", "PQfs", rescore=10),
}
for _backend in FAISS_KINDS.values():
    register_backend(_backend)

__all__ = ["FAISS_KINDS", "FaissIvfBackend"]
