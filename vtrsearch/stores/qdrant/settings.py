"""Qdrant collection, read and write settings: one table of names, parsed in one place.

Every setting can come from ``Index.create(uri, **options)`` / ``Index.open(uri, **options)``
(its name or its URI alias) or from the URI query string
(``qdrant://node1:6333/msrvtt?shards=6&replicas=2&quantization=int8``). They are stored with
the index (its catalogue), so a later ``Index.open(uri)`` without options uses them too;
``vtrsearch info`` shows them.

Collection settings are fixed when the index's first collection is created (Qdrant cannot
re-shard a collection); asking for another value later is an error, not a silent no-op. Read
and write settings are defaults that a handle may override.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

__all__ = ["CREATE", "SERVER_ONLY", "QdrantSettings", "settings_from"]

_ORDERINGS = ("weak", "medium", "strong")
_CONSISTENCY = ("majority", "quorum", "all")


def _bool(text: object) -> bool:
    if isinstance(text, bool):
        return text
    value = str(text).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _int(low: int) -> Callable[[object], int]:
    def parse(text: object) -> int:
        if isinstance(text, bool):
            raise ValueError(f"expected a whole number, got {text!r}")
        try:
            value = int(str(text).strip())
        except ValueError:
            raise ValueError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise ValueError(f"must be at least {low}, got {value}")
        return value

    return parse


def _oversampling(text: object) -> float:
    try:
        value = float(str(text).strip())
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None
    if not value >= 1.0 or value == float("inf"):
        raise ValueError(f"must be a finite number >= 1, got {text!r}")
    return value


def _choice(options: tuple[str, ...]) -> Callable[[object], str]:
    def parse(text: object) -> str:
        value = str(text).strip().lower()
        if value not in options:
            raise ValueError(f"expected one of {', '.join(options)}, got {text!r}")
        return value

    return parse


def _consistency(text: object) -> int | str:
    value = str(text).strip().lower()
    if value.isdigit() and int(value) >= 1:
        return int(value)
    if value in _CONSISTENCY:
        return value
    raise ValueError(f"expected {', '.join(_CONSISTENCY)} or a number of replicas, got {text!r}")


def _quantization(text: object) -> str | None:
    value = str(text).strip().lower()
    if value in ("", "none", "off"):
        return None
    if value in ("int8", "scalar"):
        return "int8"
    raise ValueError(f"expected int8 (scalar) or none, got {text!r}")


@dataclass(frozen=True)
class QdrantSettings:
    """Distributed and engine settings of one Qdrant index (``None``: the engine's default).

    Collection settings (fixed at creation):
        shard_number: shards per collection (URI ``shards``; servers only).
        replication_factor: copies of each shard (``replicas``; servers only).
        write_consistency_factor: replicas that must acknowledge a write
            (``write_consistency``; servers only).
        on_disk: original vectors memory-mapped from disk (``memory=cold``) instead of cached.
        on_disk_payload: payload memory-mapped from disk (indexed fields stay in RAM).
        quantization: ``"int8"``: scalar int8 quantisation (quantile 0.99).
        always_ram: quantised vectors pinned in RAM (``memory=pinned``; needs quantization).
        hnsw_m: HNSW graph degree (URI ``m`` or ``hnsw_m``).
        ef_construct: HNSW build beam.
        full_scan_threshold: segments (or filtered subsets) with fewer KB of vectors than
            this are searched exhaustively instead of through HNSW (Qdrant's default 10000).

    Read and write settings (defaults; a handle may override them):
        consistency: read consistency on replicated collections: ``majority``, ``quorum``,
            ``all`` or a number of replicas (servers only).
        hnsw_ef: HNSW search beam (URI ``ef`` or ``hnsw_ef``).
        exact: search without the HNSW index (exhaustive, exact).
        rescore: re-score quantised candidates with the original vectors.
        oversampling: fetch ``oversampling * k`` quantised candidates before rescoring.
        write_ordering: ``weak``, ``medium`` or ``strong`` (URI ``ordering``; servers only).
    """

    shard_number: int | None = None
    replication_factor: int | None = None
    write_consistency_factor: int | None = None
    on_disk: bool | None = None
    on_disk_payload: bool | None = None
    quantization: str | None = None
    always_ram: bool | None = None
    hnsw_m: int | None = None
    ef_construct: int | None = None
    full_scan_threshold: int | None = None
    consistency: int | str | None = None
    hnsw_ef: int | None = None
    exact: bool | None = None
    rescore: bool | None = None
    oversampling: float | None = None
    write_ordering: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The settings that are set, by name."""
        return {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None
        }

    def create_part(self) -> dict[str, Any]:
        """The collection settings that are set (those fixed at creation)."""
        return {k: v for k, v in self.to_json().items() if k in CREATE}

    def merged(self, override: QdrantSettings) -> QdrantSettings:
        """These settings with every setting that ``override`` sets replaced."""
        return replace(self, **override.to_json())

    def check(self, where: str = "") -> None:
        """Refuse combinations that make no sense (``always_ram`` without quantisation)."""
        if self.always_ram is not None and self.quantization is None:
            raise ValueError(f"always_ram needs quantization=int8{where}")

    def describe(self) -> str:
        """``name=value`` pairs for messages and ``vtrsearch info`` (``defaults`` when none)."""
        items = self.to_json()
        return ", ".join(f"{k}={_text(v)}" for k, v in items.items()) or "engine defaults"

    # qdrant-client models ----------------------------------------------------------------
    def vector_params(self, models: Any, dim: int) -> Any:
        """``VectorParams`` of a ``dim``-d DOT vector with the memory and HNSW settings."""
        m = models
        memory = (
            None if self.on_disk is None else (m.Memory.COLD if self.on_disk else m.Memory.CACHED)
        )
        return m.VectorParams(size=dim, distance=m.Distance.DOT, memory=memory)

    def collection_kwargs(self, models: Any, server: bool) -> dict[str, Any]:
        """Keyword arguments of ``create_collection`` besides the name and vectors."""
        m = models
        out: dict[str, Any] = {}
        if server:
            for name in ("shard_number", "replication_factor", "write_consistency_factor"):
                if getattr(self, name) is not None:
                    out[name] = getattr(self, name)
        if self.on_disk_payload is not None:
            memory = m.Memory.COLD if self.on_disk_payload else m.Memory.CACHED
            out["payload"] = m.PayloadStorageParams(memory=memory)
        if self.hnsw_m is not None or self.ef_construct is not None:
            out["hnsw_config"] = m.HnswConfigDiff(
                m=self.hnsw_m,
                ef_construct=self.ef_construct,
                full_scan_threshold=self.full_scan_threshold,
            )
        if self.quantization == "int8":
            memory = None
            if self.always_ram is not None:
                memory = m.Memory.PINNED if self.always_ram else m.Memory.COLD
            out["quantization_config"] = m.ScalarQuantization(
                scalar=m.ScalarQuantizationConfig(
                    type=m.ScalarType.INT8, quantile=0.99, memory=memory
                )
            )
        return out

    def search_params(self, models: Any) -> Any | None:
        """``SearchParams`` for queries, or ``None`` when nothing is set."""
        m = models
        quant = None
        if self.rescore is not None or self.oversampling is not None:
            quant = m.QuantizationSearchParams(rescore=self.rescore, oversampling=self.oversampling)
        if self.hnsw_ef is None and self.exact is None and quant is None:
            return None
        return m.SearchParams(hnsw_ef=self.hnsw_ef, exact=bool(self.exact), quantization=quant)

    def read_kwargs(self, models: Any) -> dict[str, Any]:
        """``consistency=`` for reads (empty when unset)."""
        if self.consistency is None:
            return {}
        value = self.consistency
        if isinstance(value, str):
            value = models.ReadConsistencyType(value)
        return {"consistency": value}

    def write_kwargs(self, models: Any) -> dict[str, Any]:
        """``ordering=`` for writes (empty when unset)."""
        if self.write_ordering is None:
            return {}
        return {"ordering": models.WriteOrdering(self.write_ordering)}


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


#: name -> (parser, URI aliases). Every setting is here and nowhere else.
_SETTINGS: dict[str, tuple[Callable[[object], Any], tuple[str, ...]]] = {
    "shard_number": (_int(1), ("shards",)),
    "replication_factor": (_int(1), ("replicas",)),
    "write_consistency_factor": (_int(1), ("write_consistency",)),
    "on_disk": (_bool, ()),
    "on_disk_payload": (_bool, ()),
    "quantization": (_quantization, ()),
    "always_ram": (_bool, ()),
    "hnsw_m": (_int(0), ("m",)),
    "ef_construct": (_int(4), ()),
    "full_scan_threshold": (_int(1), ()),
    "consistency": (_consistency, ()),
    "hnsw_ef": (_int(1), ("ef",)),
    "exact": (_bool, ()),
    "rescore": (_bool, ()),
    "oversampling": (_oversampling, ()),
    "write_ordering": (_choice(_ORDERINGS), ("ordering",)),
}
_ALIASES = {alias: name for name, (_, aliases) in _SETTINGS.items() for alias in (name, *aliases)}
#: Settings fixed when a collection is created.
CREATE = frozenset(
    {
        "shard_number",
        "replication_factor",
        "write_consistency_factor",
        "on_disk",
        "on_disk_payload",
        "quantization",
        "always_ram",
        "hnsw_m",
        "ef_construct",
        "full_scan_threshold",
    }
)
#: Settings only a Qdrant server (cluster) has.
SERVER_ONLY = frozenset(
    {
        "shard_number",
        "replication_factor",
        "write_consistency_factor",
        "consistency",
        "write_ordering",
    }
)


def is_setting(name: str) -> bool:
    """Whether ``name`` is a setting or one of its aliases."""
    return name in _ALIASES


def settings_from(*sources: Mapping[str, object], where: str = "") -> QdrantSettings:
    """Parse settings from mappings (URI query, then keyword options; later ones win).

    ``None`` values are skipped. Unknown names are not accepted here: callers pass only
    names for which :func:`is_setting` is true.

    Raises:
        ValueError: a bad value (naming the setting and ``where``), an unknown name, or one
            setting given twice under two names in one source.
    """
    values: dict[str, Any] = {}
    for source in sources:
        seen: dict[str, str] = {}
        for key, raw in source.items():
            if raw is None:
                continue
            name = _ALIASES.get(key)
            if name is None:
                raise ValueError(f"unknown Qdrant setting {key!r}{where}")
            if name in seen:
                raise ValueError(f"{seen[name]!r} and {key!r} are the same setting{where}")
            seen[name] = key
            try:
                values[name] = _SETTINGS[name][0](raw)
            except ValueError as exc:
                raise ValueError(f"Qdrant setting {key}{where}: {exc}") from None
    return QdrantSettings(**values)


def known_settings() -> list[str]:
    """Every accepted name and alias, sorted (for messages)."""
    return sorted(_ALIASES)
