"""The index layer: :class:`Index`, its in-memory gallery, row validation and table schemas,
the query session (encoder + head), the caption-vector cache and migration between stores."""

from __future__ import annotations

from .index import Index

__all__ = ["Index"]
