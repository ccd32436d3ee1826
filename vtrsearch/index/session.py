"""The query session: a text encoder, optionally followed by a projection head, checked
against the index's dimension and feature space (:mod:`vtrsearch.encoders.space`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..encoders.space import canonical_spec, check_space
from ..errors import DimensionMismatchError, InvalidQueryError, SpaceMismatchError
from .query_checks import check_encoded


class QueryEncoder:
    """Texts -> unit vectors in the index's space.

    Args:
        encoder_spec: the text encoder (for a head: its base encoder).
        index_dim: dimension of the index's video vectors.
        feature_model: the index's feature space, when known.
        head: a projection head directory (or a loaded head), optional.
        allow_foreign_space: skip the feature-space check (experts).
        device: torch device for the encoder and head (default: CUDA when present).
    """

    def __init__(
        self,
        encoder_spec: str | None,
        index_dim: int,
        feature_model: str | None,
        *,
        head: str | Path | Any | None = None,
        allow_foreign_space: bool = False,
        device: str | None = None,
    ):
        from ..encoders import load_encoder

        self.head = _load_head(head, device) if head is not None else None
        base = self.head.config.base_encoder if self.head is not None else None
        if encoder_spec is None and base is None:
            raise ValueError(
                "no query encoder: set one with index.set_encoder(SPEC) / --encoder SPEC, "
                "or use a projection head whose config names its base encoder"
            )
        if encoder_spec is not None and base is not None:
            if canonical_spec(encoder_spec) != canonical_spec(base):
                raise SpaceMismatchError(
                    f"head {self.head.path} was trained on encoder {base!r}, not {encoder_spec!r}"
                )
        self.encoder = load_encoder(encoder_spec or base, device)
        self.spec: str = self.encoder.spec
        self.index_dim = int(index_dim)
        if self.head is not None and self.head.out_dim != self.index_dim:
            raise DimensionMismatchError(
                f"head {self.head.path} outputs {self.head.out_dim}-d vectors, the index holds "
                f"{self.index_dim}-d video vectors"
            )
        check_space(
            self.spec,
            feature_model,
            head_feature_model=None if self.head is None else self.head.config.feature_model,
            has_head=self.head is not None,
            allow_foreign_space=allow_foreign_space,
        )
        self._dims_checked = False

    @property
    def head_path(self) -> str | None:
        """Where the head was loaded from, if any."""
        return None if self.head is None else str(self.head.path)

    def _check_dims(self) -> None:
        if self._dims_checked:
            return
        dim = int(self.encoder.dim)
        if self.head is not None:
            if dim != self.head.in_dim:
                raise DimensionMismatchError(
                    f"encoder {self.spec!r} makes {dim}-d vectors, head {self.head.path} "
                    f"expects {self.head.in_dim}-d input"
                )
        elif dim != self.index_dim:
            raise DimensionMismatchError(
                f"encoder {self.spec!r} makes {dim}-d vectors, the index holds "
                f"{self.index_dim}-d video vectors"
            )
        self._dims_checked = True

    def project(self, base_vectors: np.ndarray) -> np.ndarray:
        """Map base-encoder vectors into the index space (identity without a head)."""
        if self.head is None:
            return np.asarray(base_vectors, dtype=np.float32)
        return self.head.project(base_vectors)

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """(n, index_dim) float32 unit vectors for ``texts``.

        Raises:
            ValueError: a text is not a string, or not valid Unicode (e.g. a command-line
                argument in another encoding).
            InvalidVectorError: the encoder or head produced NaN/inf (corrupt weights).
        """
        texts = [_checked_text(t, i) for i, t in enumerate(texts)]
        self._check_dims()
        vectors = self.project(self.encoder.encode(texts, batch_size=batch_size))
        source = f"encoder {self.spec!r}" + (f" + head {self.head.path}" if self.head else "")
        return check_encoded(vectors, source)

    def encode_one(self, text: str) -> np.ndarray:
        """One query text -> (index_dim,) unit vector; empty text is an error."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError("empty query: type some words to search for")
        return self.encode([text], batch_size=1)[0]


def _checked_text(text: object, i: int) -> str:
    if not isinstance(text, str):
        raise InvalidQueryError(f"query text {i} is a {type(text).__name__}, not a string")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogateescape") if _only_escapes(text) else None
        raw = raw or text.encode("utf-8", "backslashreplace")
        shown = raw.decode("ascii", "backslashreplace")
        raise InvalidQueryError(
            f"query text '{shown}' is not valid UTF-8 (undecodable bytes); check the "
            "terminal's or file's encoding"
        ) from None
    return text


def _only_escapes(text: str) -> bool:
    """Whether every lone surrogate is one ``surrogateescape`` made (an undecodable byte)."""
    return all(0xDC80 <= ord(c) <= 0xDCFF for c in text if 0xD800 <= ord(c) <= 0xDFFF)


def _load_head(head: Any, device: str | None) -> Any:
    if isinstance(head, (str, Path)):
        from ..heads.io import load_head

        return load_head(head, device=device)
    return head
