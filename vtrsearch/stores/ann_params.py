"""Kinds and parameters of the stores' own ANN indexes, checked in one place.

Each kind names the store that builds it, its build parameters (fixed when the index is
built, stored with it) and its search parameters (per query; the defaults below are what a
search uses when it gives none). A value of the wrong type or out of range, or a name the kind
does not have, is an :class:`~vtrsearch.errors.InvalidAnnParamsError` naming the kind, the
parameter and what is accepted.

Kinds:

* ``lance-ivf-hnsw-sq``: LanceDB ``IVF_HNSW_SQ`` (an HNSW graph per IVF partition over int8
  scalar-quantised vectors). Build: ``num_partitions`` (default: about one per 4,096 rows),
  ``m``, ``ef_construction``. Search: ``nprobes``, ``ef``, ``refine_factor``.
* ``lance-ivf-pq``: LanceDB ``IVF_PQ``. Build: ``num_partitions`` (default: about one per
  4,096 rows), ``num_sub_vectors`` (default: dim / 16). Search: ``nprobes``, ``refine_factor``
  (re-rank ``refine_factor * k`` PQ candidates with the original vectors).
* ``qdrant-hnsw``: Qdrant HNSW with scalar int8 quantisation and rescoring. Build: ``m``,
  ``ef_construct``, ``full_scan_threshold`` (KB of vectors under which a segment or a filtered
  subset is scanned exactly, Qdrant's 10000), ``quantization`` (``int8`` or ``none``),
  ``always_ram`` (dropped without quantisation). Search:
  ``hnsw_ef``, ``rescore``, ``oversampling``, ``exact``.

All use the inner product (``dot``) on the stored unit vectors, like the exact path.

Search defaults, from ``bench/store_ann.py --n 200000`` (CLIP-like 200k x 1024, 5,000
clusters, 200 queries; a 2-core machine shared with other jobs, so latencies are high and
noisy):

* ``qdrant-hnsw``: ``hnsw_ef=128, rescore=True, oversampling=2``: recall@10 0.998 at 2.1 ms
  p50 (15% filter: 0.968 at 2.9 ms); ``hnsw_ef=64`` 0.984 / 1.5 ms.
* ``lance-ivf-hnsw-sq`` (49 partitions): ``nprobes=40``: recall@10 0.853 at 41 ms p50 (15%
  filter: 0.915); ``nprobes=20`` 0.762, ``nprobes=20, refine_factor=5`` 0.869 at 58 ms. It
  misses 0.95 at every setting measured.
* ``lance-ivf-pq``: not measured at scale (``nprobes=20, refine_factor=10`` is a guess).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidAnnParamsError

#: ``progress(done, total)`` of an index build, in stages (a one-call build is one stage).
BuildProgress = Callable[[int, int], object]

Parser = Callable[[object], Any]


def _int(low: int, high: int | None = None) -> Parser:
    def parse(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError(f"expected a whole number, got {value!r}")
        try:
            out = int(str(value).strip())
        except ValueError:
            raise ValueError(f"expected a whole number, got {value!r}") from None
        if out < low or (high is not None and out > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise ValueError(f"must be {bound}, got {out}")
        return out

    return parse


def _optional(parser: Parser) -> Parser:
    def parse(value: object) -> Any:
        return None if value is None else parser(value)

    return parse


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _float(low: float) -> Parser:
    def parse(value: object) -> float:
        if isinstance(value, bool):
            raise ValueError(f"expected a number, got {value!r}")
        try:
            out = float(str(value).strip())
        except ValueError:
            raise ValueError(f"expected a number, got {value!r}") from None
        if not out >= low or out == float("inf"):
            raise ValueError(f"must be a finite number >= {low}, got {value!r}")
        return out

    return parse


def _quantization(value: object) -> str:
    text = "none" if value is None else str(value).strip().lower()
    if text in ("none", "off", ""):
        return "none"
    if text in ("int8", "scalar"):
        return "int8"
    raise ValueError(f"expected int8 or none, got {value!r}")


@dataclass(frozen=True)
class AnnKind:
    """One kind of store-side ANN index: its store and parameters (with defaults)."""

    name: str
    store: str  # "lance" or "qdrant"
    build: Mapping[str, tuple[Parser, Any]]
    search: Mapping[str, tuple[Parser, Any]]


KINDS: dict[str, AnnKind] = {
    "lance-ivf-hnsw-sq": AnnKind(
        "lance-ivf-hnsw-sq",
        "lance",
        build={
            "num_partitions": (_optional(_int(1)), None),
            "m": (_int(2, 128), 20),
            "ef_construction": (_int(10, 4000), 300),
        },
        search={
            "nprobes": (_int(1), 40),
            "ef": (_optional(_int(1)), None),
            "refine_factor": (_optional(_int(1, 100)), None),
        },
    ),
    "lance-ivf-pq": AnnKind(
        "lance-ivf-pq",
        "lance",
        build={
            "num_partitions": (_optional(_int(1)), None),
            "num_sub_vectors": (_optional(_int(1)), None),
        },
        search={
            "nprobes": (_int(1), 20),
            "refine_factor": (_optional(_int(1, 100)), 10),
        },
    ),
    "qdrant-hnsw": AnnKind(
        "qdrant-hnsw",
        "qdrant",
        build={
            "m": (_int(4, 128), 16),
            "ef_construct": (_int(4, 4000), 100),
            "full_scan_threshold": (_int(1), 10_000),
            "quantization": (_quantization, "int8"),
            "always_ram": (_bool, True),
        },
        search={
            "hnsw_ef": (_optional(_int(1)), 128),
            "rescore": (_bool, True),
            "oversampling": (_optional(_float(1.0)), 2.0),
            "exact": (_bool, False),
        },
    ),
}

#: Search parameter names each store understands (whatever kind its index is).
STORE_SEARCH: dict[str, frozenset[str]] = {
    store: frozenset(p for k in KINDS.values() if k.store == store for p in k.search)
    for store in ("lance", "qdrant")
}


def ann_kind(kind: str, store: str | None = None) -> AnnKind:
    """The :class:`AnnKind` named ``kind`` (one of ``store``'s kinds when given)."""
    spec = KINDS.get(str(kind))
    valid = sorted(k for k, s in KINDS.items() if store is None or s.store == store)
    if spec is None or (store is not None and spec.store != store):
        where = f" for this store ({store})" if store else ""
        raise InvalidAnnParamsError(
            f"unknown ANN index kind {kind!r}{where}; expected one of: {', '.join(valid)}"
        )
    return spec


def _parse(
    what: str, kind: str, table: Mapping[str, tuple[Parser, Any]], given: Mapping[str, Any]
) -> dict[str, Any]:
    unknown = sorted(str(k) for k in given if k not in table)
    if unknown:
        raise InvalidAnnParamsError(
            f"unknown {what} parameter(s) {', '.join(unknown)} for {kind}; "
            f"expected: {', '.join(table)}"
        )
    out: dict[str, Any] = {}
    for name, (parse, default) in table.items():
        if name not in given:
            out[name] = default
            continue
        try:
            out[name] = parse(given[name])
        except ValueError as exc:
            raise InvalidAnnParamsError(f"{kind} {what} parameter {name}: {exc}") from None
    return out


def build_params(kind: str, params: Mapping[str, Any] | None, store: str) -> dict[str, Any]:
    """Every build parameter of ``kind`` (given or default), checked."""
    spec = ann_kind(kind, store)
    return _parse("build", spec.name, spec.build, dict(params or {}))


def search_defaults(kind: str) -> dict[str, Any]:
    """The search parameters a search of ``kind`` uses when it gives none."""
    spec = ann_kind(kind)
    return {name: default for name, (_, default) in spec.search.items()}


def kind_search_params(kind: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """Every search parameter of ``kind``: those ``given`` checked (``None``, or a parameter
    of another kind, counts as not given), the defaults for the rest."""
    spec = ann_kind(kind)
    mine = {k: v for k, v in given.items() if k in spec.search and v is not None}
    return _parse("search", spec.name, spec.search, mine)


def search_params(store: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The search parameters given (only those), checked against every kind of ``store``."""
    table: dict[str, tuple[Parser, Any]] = {}
    for spec in KINDS.values():
        if spec.store == store:
            table.update(spec.search)
    given = dict(params)
    checked = _parse("search", f"{store} ANN", table, given)
    return {k: v for k, v in checked.items() if k in given}
