"""The catalogue of a Qdrant index: its metadata, its tables and its settings.

The catalogue collection ``meta`` (vector-less) holds one point per entry:

* ``kind=meta``: one point per metadata key, value as JSON text, exactly like LanceDB's
  ``_meta`` table. ``set_metadata`` merges by upserting one point per key (no read-modify-write,
  so writers of different keys cannot clobber each other) and migration copies it 1:1.
* ``kind=table``: one point per table with its key column, Arrow schema (IPC, base64) and a
  version token. The point is written after the collection and its payload indexes, so it
  marks a completely created table.
* ``kind=settings``: the index's :class:`~.settings.QdrantSettings`, written when the
  catalogue is created; not metadata, so a migration never copies one store's settings into
  another.

The version token of a table changes with every write that wrote something: it is set
*after* the data requests finished (``wait=True``), so any reader that sees the token also sees
the data. It costs one point lookup. A writer killed between its data and the token leaves
readers stale until the next write.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pyarrow as pa

from .codec import point_id
from .engine import Conditions, Engine, Fields, MissingCollection
from .settings import QdrantSettings, is_setting

META = "meta"
_SETTINGS_ID = point_id("settings:")


def _kind(kind: str) -> Conditions:
    return [("kind", pa.string(), (kind,))]


def scroll_pages(
    engine: Engine, collection: str, where: Conditions, cols: Sequence[str] | None, page: int
) -> Iterator[list]:
    """Pages of at most ``page`` points with the payload ``cols`` (``None``: all of it)."""
    fields: Fields = True if cols is None else ([c for c in cols if c != "vector"] or False)
    vectors = cols is not None and "vector" in cols
    offset, batch = None, []
    while True:
        points, offset = engine.scroll(collection, where, fields, vectors, page, offset)
        batch += points
        while len(batch) >= page or (offset is None and batch):
            yield batch[:page]
            batch = batch[page:]
        if offset is None:
            return


class Catalogue:
    """The catalogue collection of one index.

    Args:
        engine: the engine holding the index's collections.
        collection: ``collection(table)`` is the collection of a table.
        given: the settings this handle was given (URI and options).
        uri: the index URI, for messages.
    """

    def __init__(
        self, engine: Engine, collection: Callable[[str], str], given: QdrantSettings, uri: str
    ):
        self.engine = engine
        self.name = collection(META)
        self.given = given
        self.uri = uri
        self._settings: QdrantSettings | None = None

    # settings -----------------------------------------------------------------------------
    @property
    def settings(self) -> QdrantSettings:
        """The settings in effect: the stored ones, overridden by this handle's.

        Raises:
            ValueError: this handle asks for another collection setting than the index has.
        """
        if self._settings is None:
            stored = self._stored_settings()
            if stored is None:
                return self.given  # no index yet (re-read once the catalogue exists)
            have, asked = stored.create_part(), self.given.create_part()
            clash = {k: (have.get(k), v) for k, v in asked.items() if have.get(k) != v}
            if clash:
                detail = ", ".join(f"{k}={old} (asked {new})" for k, (old, new) in clash.items())
                raise ValueError(
                    f"{self.uri} was created with {detail}: collection settings are fixed "
                    "when an index is created; migrate it to a new index to change them"
                )
            self._settings = stored.merged(self.given)
            self.engine.settings = self._settings  # type: ignore[attr-defined]
        return self._settings

    def _stored_settings(self) -> QdrantSettings | None:
        try:
            found = self.engine.retrieve(self.name, [_SETTINGS_ID], True)
        except MissingCollection:
            return None
        if not found:
            return QdrantSettings()
        values = json.loads(found[0].payload["settings"])
        return QdrantSettings(**{k: v for k, v in values.items() if is_setting(k)})

    # the collection -----------------------------------------------------------------------
    def exists(self) -> bool:
        """Whether the index has metadata (its presence marks a complete index)."""
        try:
            return self.engine.count(self.name, _kind("meta")) > 0
        except MissingCollection:
            return False

    def ensure(self) -> None:
        """Create the catalogue (with this handle's settings) unless it exists."""
        if self.engine.collection_exists(self.name):
            return
        self.engine.create_collection(self.name, None, {"kind": pa.string()})
        payload = {"kind": "settings", "settings": json.dumps(self.given.to_json())}
        self.engine.upsert(self.name, [_SETTINGS_ID], None, [payload])
        self._settings = None  # re-read: the given settings are now the stored ones

    def entries(self, kind: str) -> list[dict[str, Any]]:
        """Payloads of every entry of ``kind`` (empty when there is no catalogue)."""
        try:
            pages = list(scroll_pages(self.engine, self.name, _kind(kind), None, 1000))
        except MissingCollection:
            return []
        return [p.payload for page in pages for p in page]

    # tables -------------------------------------------------------------------------------
    def table(self, name: str, fields: Fields = True) -> dict[str, Any] | None:
        """Payload of table ``name``'s entry, or ``None``."""
        try:
            found = self.engine.retrieve(self.name, [point_id(f"table:{name}")], fields)
        except MissingCollection:
            return None
        return found[0].payload if found else None

    def add_table(self, name: str, key: str, schema: pa.Schema) -> None:
        """Record a table (after its collection was made: this marks it complete)."""
        payload = {
            "kind": "table",
            "table": name,
            "key": key,
            "schema": base64.b64encode(schema.serialize().to_pybytes()).decode("ascii"),
            "version": uuid.uuid4().hex,
        }
        self.engine.upsert(self.name, [point_id(f"table:{name}")], None, [payload])

    def remove_table(self, name: str) -> None:
        """Forget a table (before its collection is dropped)."""
        self.engine.delete_ids(self.name, [point_id(f"table:{name}")])

    def bump(self, name: str) -> None:
        """A new version token for table ``name`` (after a write)."""
        token = {"version": uuid.uuid4().hex}
        self.engine.set_payload(self.name, point_id(f"table:{name}"), token)

    # metadata -----------------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        """The metadata document."""
        return {p["key"]: json.loads(p["value"]) for p in self.entries("meta")}

    def set_metadata(self, values: dict[str, Any]) -> None:
        """Merge ``values`` into the metadata (one point per key)."""
        if not values:
            return
        self.ensure()
        keys = list(values)
        payloads = [
            {"kind": "meta", "key": k, "value": json.dumps(values[k], sort_keys=True)} for k in keys
        ]
        self.engine.upsert(self.name, [point_id(f"meta:{k}") for k in keys], None, payloads)
