"""Text-query side of :class:`vtrsearch.Index`: its encoder, session overrides and heads."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .session import QueryEncoder


class QueryMixin:
    """Encoder and projection-head handling, mixed into :class:`vtrsearch.Index`."""

    _meta: dict[str, Any]
    dim: int
    feature_model: str | None
    encoder_spec: str | None

    def set_metadata(self, **values: Any) -> None:  # provided by Index
        raise NotImplementedError

    def _init_query(self) -> None:
        self._query: QueryEncoder | None = None
        self._head_path: str | None = None
        self._encoder_override: tuple[str, bool] | None = None

    def _encode_text(self, text: str) -> np.ndarray:
        return self.query_encoder.encode_one(text)

    # query encoder and heads ---------------------------------------------------------------
    def set_encoder(self, spec: str, *, allow_foreign_space: bool = False) -> None:
        """Record ``spec`` as the index's query encoder (checked against ``feature_model``).

        Raises:
            SpaceMismatchError: the encoder is from another space than the video features
                and ``allow_foreign_space`` is false.
        """
        from ..encoders.space import canonical_spec, check_space

        spec = canonical_spec(spec)
        check_space(spec, self.feature_model, allow_foreign_space=allow_foreign_space)
        self.set_metadata(encoder=spec, allow_foreign_space=bool(allow_foreign_space))
        self._query = None

    def use_encoder(self, spec: str | None, *, allow_foreign_space: bool = False) -> None:
        """Use ``spec`` for text queries in this session only (``None``: the stored one)."""
        self._encoder_override = None if spec is None else (spec, bool(allow_foreign_space))
        self._query = None

    def use_head(self, path: str | Path | None) -> None:
        """Answer text queries through a projection head (``None``: no head).

        ``path`` is a head directory or the name of a head registered with the index. The
        head's input must match its base encoder's dimension and its output the index's.

        Raises:
            HeadNotFoundError: ``path`` is neither a directory nor a registered head.
        """
        if path is not None:
            from ..heads.resolve import resolve_head_dir

            path = resolve_head_dir(path, self.heads())
        previous = (self._head_path, self._query)
        self._head_path = None if path is None else str(path)
        self._query = None
        if path is not None:
            try:
                self.query_encoder  # noqa: B018 - load now so a bad head fails here
            except Exception:
                self._head_path, self._query = previous  # keep the working setup
                raise

    @property
    def head_path(self) -> str | None:
        """The projection head in use, if any."""
        return self._head_path

    @property
    def query_encoder(self) -> QueryEncoder:
        """The text -> vector pipeline (encoder, optional head), built on first use."""
        if self._query is None:
            from .session import QueryEncoder

            spec, foreign = self.encoder_spec, bool(self._meta.get("allow_foreign_space"))
            if self._encoder_override is not None:
                spec, foreign = self._encoder_override
            self._query = QueryEncoder(
                spec,
                self.dim,
                self.feature_model,
                head=self._head_path,
                allow_foreign_space=foreign,
            )
        return self._query

    def heads(self) -> dict[str, str]:
        """Projection heads registered with this index: name -> directory."""
        return dict(self._meta.get("heads") or {})

    def register_head(self, name: str, path: str | Path) -> None:
        """Record a head directory under ``name`` so tools can offer it (e.g. the TUI)."""
        heads = self.heads()
        heads[str(name)] = str(Path(path).resolve())
        self.set_metadata(heads=heads)
