"""open_clip image tower: PIL images -> L2-normalised float32 features."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..extras import require_extra
from .base import normalized_float32, progress_iter
from .device import autocast_dtype, inference_context, resolve_device
from .registry import parse_spec
from .spec import EncoderSpec

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

__all__ = ["OpenClipImageEncoder", "load_image_encoder"]


class OpenClipImageEncoder:
    """Image tower of an open_clip model; weights load lazily on first use.

    Images go through open_clip's inference preprocess transform for the model (resize,
    center crop, RGB conversion, normalisation). CUDA runs under float16 autocast; outputs are
    float32.

    Args:
        spec: An ``open_clip:`` spec (same string as the text encoder of the index).
        device: Torch device string, ``None`` for CUDA when available.
    """

    def __init__(self, spec: EncoderSpec | str, device: str | None = None) -> None:
        parsed = parse_spec(spec)
        if parsed.kind != "open_clip":
            raise ValueError(
                f"image encoding needs an open_clip: spec, got {str(parsed)!r}; "
                "transformers text-only specs have no image tower"
            )
        self._parsed = parsed
        self._device_arg = device
        self._device: Any = None
        self._visual: Any = None
        self._preprocess: Any = None
        self._dim: int | None = None
        self._lock = threading.Lock()

    @property
    def spec(self) -> str:
        """The canonical spec string."""
        return str(self._parsed)

    @property
    def dim(self) -> int:
        """Embedding width. Loads."""
        self.load()
        assert self._dim is not None
        return self._dim

    @property
    def device(self) -> str:
        """The device the tower runs on. Loads."""
        self.load()
        return str(self._device)

    @property
    def preprocess(self) -> Any:
        """open_clip's inference transform: PIL image -> normalised tensor. Loads."""
        self.load()
        return self._preprocess

    def load(self) -> OpenClipImageEncoder:
        """Load the weights now (idempotent, thread-safe).

        Raises:
            EncoderLoadError: The model could not be loaded.
        """
        if self._visual is None:
            with self._lock:
                if self._visual is None:
                    self._load()
        return self

    def _load(self) -> None:
        require_extra("open_clip", "clip")
        import torch
        from open_clip.transform import PreprocessCfg, image_transform_v2

        from .open_clip_text import create_open_clip_model

        model = create_open_clip_model(self._parsed)
        self._device = resolve_device(self._device_arg)
        visual = model.visual.to(self._device).eval()
        self._preprocess = image_transform_v2(
            PreprocessCfg(**visual.preprocess_cfg), is_train=False
        )
        cfg = visual.preprocess_cfg
        side = cfg["size"] if isinstance(cfg["size"], (tuple, list)) else (cfg["size"],) * 2
        with torch.inference_mode():
            probe = visual(torch.zeros(1, 3, *side, device=self._device))
        self._dim = int(probe.shape[-1])
        self._visual = visual

    def encode_images(
        self, images: Sequence[Image.Image], batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        """Encode PIL images.

        Args:
            images: PIL images (any mode; converted to RGB by the transform).
            batch_size: Images per forward pass.
            progress: Show a tqdm progress bar.

        Returns:
            ``(len(images), dim)`` float32 array with unit-norm rows.

        Raises:
            TypeError: An item is not a PIL image.
            ValueError: ``batch_size < 1``.
        """
        import numpy as np
        import torch
        from PIL import Image

        items = list(images)
        for i, img in enumerate(items):
            if not isinstance(img, Image.Image):
                raise TypeError(f"images[{i}] is {type(img).__name__}, expected PIL.Image.Image")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.load()
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        amp = autocast_dtype(self._device, prefer_bf16=False)
        chunks = []
        starts = range(0, len(items), batch_size)
        with inference_context(self._device, amp):
            for start in progress_iter(starts, len(starts), progress, "encode images"):
                batch = torch.stack(
                    [self._preprocess(img) for img in items[start : start + batch_size]]
                )
                feats = self._visual(batch.to(self._device, non_blocking=True))
                chunks.append(normalized_float32(feats).cpu())
        return np.ascontiguousarray(torch.cat(chunks).numpy(), dtype=np.float32)

    def __repr__(self) -> str:
        state = f"device={self._device}" if self._visual is not None else "not loaded"
        return f"{type(self).__name__}({self.spec!r}, {state})"


def load_image_encoder(spec: str | EncoderSpec, device: str | None = None) -> OpenClipImageEncoder:
    """Create the image encoder for an ``open_clip:`` spec (weights load lazily).

    Args:
        spec: An ``open_clip:`` spec.
        device: Torch device string; ``None`` picks CUDA when available, else CPU.

    Returns:
        An encoder with ``.spec``, ``.dim`` and ``.encode_images(images, batch_size=32)``.

    Raises:
        ValueError: Malformed spec, or not an ``open_clip:`` spec.
        EncoderLoadError: A local path in the spec does not exist.
    """
    from .open_clip_text import check_local_files

    enc = OpenClipImageEncoder(spec, device)
    check_local_files(enc._parsed)
    return enc
