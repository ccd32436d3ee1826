"""Text and image encoders named by spec strings.

Importing this package is cheap: torch, open_clip, transformers, PIL and av are imported only
when a model loads or a video is decoded.

Example:
    >>> from vtrsearch.encoders import load_encoder
    >>> enc = load_encoder("open_clip:ViT-B-32/openai")      # nothing loaded yet
    >>> vecs = enc.encode(["a dog catching a frisbee"])      # (1, 512) float32, unit rows
"""

from __future__ import annotations

from .base import TextEncoder
from .frames import VideoDecodeError, sample_video_frames
from .hf_files import find_minilm_dir
from .hf_text import HFClipTextEncoder, HFTextEncoder
from .image import OpenClipImageEncoder, load_image_encoder
from .open_clip_text import OpenClipTextEncoder, create_open_clip_model
from .registry import (
    EncoderKind,
    accepted_forms,
    encoder_kind,
    kind_names,
    load_encoder,
    parse_spec,
    register_kind,
)
from .spec import EncoderLoadError, EncoderSpec, QueryTruncatedWarning

__all__ = [
    "EncoderKind",
    "EncoderLoadError",
    "EncoderSpec",
    "HFClipTextEncoder",
    "HFTextEncoder",
    "OpenClipImageEncoder",
    "OpenClipTextEncoder",
    "QueryTruncatedWarning",
    "TextEncoder",
    "VideoDecodeError",
    "accepted_forms",
    "create_open_clip_model",
    "encoder_kind",
    "find_minilm_dir",
    "kind_names",
    "load_encoder",
    "load_image_encoder",
    "parse_spec",
    "register_kind",
    "sample_video_frames",
]
