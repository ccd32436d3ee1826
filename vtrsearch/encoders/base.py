"""The text encoder interface shared by all backends, and small batching helpers.

Importing this module is cheap: numpy, torch and tqdm are imported inside functions.
"""

from __future__ import annotations

import threading
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, TypeVar

from .spec import EncoderSpec, QueryTruncatedWarning

if TYPE_CHECKING:
    import numpy as np
    import torch

__all__ = [
    "TextEncoder",
    "length_sorted_batches",
    "progress_iter",
    "token_budget_batches",
    "validate_texts",
]

T = TypeVar("T")


def validate_texts(texts: Sequence[str]) -> list[str]:
    """Check that ``texts`` is a sequence of non-blank strings.

    Args:
        texts: The texts to encode.

    Returns:
        The texts as a list.

    Raises:
        TypeError: ``texts`` is a bare string or holds a non-string.
        ValueError: A text is empty or whitespace only.
    """
    if isinstance(texts, (str, bytes)):
        raise TypeError("texts must be a sequence of strings, not a single string; wrap it: [text]")
    out = list(texts)
    for i, text in enumerate(out):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] is {type(text).__name__}, expected str")
        if not text.strip():
            raise ValueError(f"texts[{i}] is empty or whitespace only; cannot encode it")
    return out


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Group indices into batches of similar length, longest first.

    Args:
        lengths: Token length of each item.
        batch_size: Maximum items per batch.

    Returns:
        Lists of indices into ``lengths``; every index appears exactly once.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = sorted(range(len(lengths)), key=lambda i: -int(lengths[i]))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def token_budget_batches(
    lengths: Sequence[int], budget: int, max_rows: int | None = None
) -> list[list[int]]:
    """Group indices, longest first, into batches of at most ``budget`` padded tokens.

    A batch padded to its longest row holds ``budget // longest`` rows, so short texts share
    big batches while the padded size (memory) never exceeds ``budget`` tokens. ``max_rows``
    caps the rows too: without it, a small input fits one or two batches, each padded to the
    longest text of all, and most of the trimming is lost.

    Args:
        lengths: Token length of each item (>= 1).
        budget: Maximum ``rows * longest_length`` per batch.
        max_rows: Maximum rows per batch (``None``: only the budget limits them).

    Returns:
        Lists of indices into ``lengths``; every index appears exactly once.
    """
    if budget < 1:
        raise ValueError(f"budget must be >= 1, got {budget}")
    if max_rows is not None and max_rows < 1:
        raise ValueError(f"max_rows must be >= 1, got {max_rows}")
    order = sorted(range(len(lengths)), key=lambda i: -int(lengths[i]))
    batches, start = [], 0
    while start < len(order):
        rows = max(1, budget // max(1, int(lengths[order[start]])))
        if max_rows is not None:
            rows = min(rows, max_rows)
        batches.append(order[start : start + rows])
        start += rows
    return batches


def progress_iter(items: Iterable[T], total: int, enabled: bool, desc: str) -> Iterator[T]:
    """Wrap ``items`` in a tqdm bar when ``enabled``."""
    if not enabled:
        yield from items
        return
    from tqdm.auto import tqdm

    yield from tqdm(items, total=total, desc=desc, unit="batch")


def normalized_float32(features: torch.Tensor) -> torch.Tensor:
    """L2-normalise rows in float32 (the output contract of every encoder)."""
    import torch.nn.functional as F

    return F.normalize(features.float(), dim=-1)


class TextEncoder(ABC):
    """A text encoder named by a spec; weights load lazily on first use.

    Subclasses implement :meth:`_load` (sets ``_dim``, ``_context_length``, ``_device``) and
    :meth:`_encode`.
    """

    def __init__(self, spec: EncoderSpec, device: str | None = None) -> None:
        self._parsed = spec
        self._device_arg = device
        self._device: torch.device | None = None
        self._dim: int | None = None
        self._context_length: int | None = None
        self._loaded = False
        self._lock = threading.Lock()

    @property
    def spec(self) -> str:
        """The canonical spec string (store it in index metadata)."""
        return str(self._parsed)

    @property
    def dim(self) -> int:
        """Embedding width; read from a config file when cheap, else loads the model."""
        if self._dim is None:
            cheap = self._cheap_dim()
            if cheap is not None:
                return cheap
            self.load()
        assert self._dim is not None
        return self._dim

    @property
    def context_length(self) -> int:
        """Maximum tokens per text (longer texts are truncated with a warning). Loads."""
        self.load()
        assert self._context_length is not None
        return self._context_length

    @property
    def device(self) -> str:
        """The device the model runs on. Loads."""
        self.load()
        return str(self._device)

    @property
    def loaded(self) -> bool:
        """Whether the weights are loaded."""
        return self._loaded

    def load(self) -> TextEncoder:
        """Load the weights now (idempotent, thread-safe).

        Returns:
            ``self``.

        Raises:
            EncoderLoadError: The model could not be loaded.
        """
        if not self._loaded:
            with self._lock:
                if not self._loaded:
                    self._load()
                    self._loaded = True
        return self

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        """Encode texts to L2-normalised float32 rows.

        Args:
            texts: Non-blank strings.
            batch_size: Texts per forward pass.
            progress: Show a tqdm progress bar.

        Returns:
            Array of shape ``(len(texts), dim)``, dtype float32, unit-norm rows.

        Raises:
            TypeError: ``texts`` is a bare string or holds non-strings.
            ValueError: A text is blank, or ``batch_size < 1``.
            EncoderLoadError: The model could not be loaded.

        Warns:
            QueryTruncatedWarning: Some texts were longer than :attr:`context_length`.
        """
        import numpy as np

        items = validate_texts(texts)
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        self.load()
        features, truncated = self._encode(items, batch_size, progress)
        if truncated:
            shown = ", ".join(str(i) for i in truncated[:5])
            shown += ", ..." if len(truncated) > 5 else ""
            warnings.warn(
                QueryTruncatedWarning(
                    f"{len(truncated)} text(s) longer than the {self._context_length}-token "
                    f"context of {self.spec} were truncated (indices {shown})"
                ),
                stacklevel=2,
            )
        return np.ascontiguousarray(features, dtype=np.float32)

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text as this encoder tokenizes it, special tokens included, before
        truncation: a text is truncated when its count exceeds :attr:`context_length`. Loads.

        Raises:
            TypeError / ValueError: as :meth:`encode` for bad texts.
            NotImplementedError: the backend cannot count tokens.
        """
        items = validate_texts(texts)
        if not items:
            return []
        self.load()
        return [int(n) for n in self._token_counts(items)]

    def _token_counts(self, texts: list[str]) -> list[int]:
        raise NotImplementedError(f"{type(self).__name__} cannot count tokens")

    def _cheap_dim(self) -> int | None:
        return None

    @abstractmethod
    def _load(self) -> None: ...

    @abstractmethod
    def _encode(
        self, texts: list[str], batch_size: int, progress: bool
    ) -> tuple[np.ndarray, list[int]]:
        """Return (features, indices of truncated texts)."""

    def __repr__(self) -> str:
        state = f"device={self._device}" if self._loaded else "not loaded"
        return f"{type(self).__name__}({self.spec!r}, {state})"
