"""The registry of encoder kinds: ``parse_spec`` and ``load_encoder`` look the kind up here.

A spec string is ``KIND:REST``. Each kind (:class:`EncoderKind`) says how to parse ``REST``,
how to check a parsed spec cheaply (local files exist, aliases resolve) and how to build the
encoder (weights load lazily, on first use). The built-in kinds register themselves where they
are implemented: ``open_clip`` in :mod:`.open_clip_text`, ``hf-clip`` and ``hf`` in
:mod:`.hf_text`; the package imports both, so they are always present.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .spec import EncoderSpec

if TYPE_CHECKING:
    from .base import TextEncoder

__all__ = [
    "EncoderKind",
    "accepted_forms",
    "encoder_kind",
    "kind_names",
    "load_encoder",
    "parse_spec",
    "register_kind",
]


@dataclass(frozen=True)
class EncoderKind:
    """How one kind of encoder spec is parsed, checked and built.

    Attributes:
        name: The text before ``:`` in a spec, e.g. ``"open_clip"``.
        forms: Lines for the accepted-forms help, e.g. ``"open_clip:MODEL/TAG   e.g. ..."``.
        parse: ``REST -> EncoderSpec``; raises ``ValueError(problem)`` when ``REST`` is malformed.
        check: Cheap checks made by :func:`load_encoder` before anything loads; raises
            :class:`~vtrsearch.encoders.spec.EncoderLoadError`.
        build: ``(spec, device, fast) -> TextEncoder``; must not load weights.
    """

    name: str
    forms: tuple[str, ...]
    parse: Callable[[str], EncoderSpec]
    check: Callable[[EncoderSpec], None]
    build: Callable[[EncoderSpec, str | None, bool], TextEncoder]


_KINDS: dict[str, EncoderKind] = {}


def register_kind(kind: EncoderKind, *, replace: bool = False) -> EncoderKind:
    """Add an encoder kind so that ``KIND:...`` specs parse and load.

    Args:
        kind: The kind.
        replace: Allow replacing a kind registered under the same name.

    Returns:
        ``kind``.

    Raises:
        ValueError: The name is taken (and ``replace`` is false) or contains ``:``.
    """
    if not kind.name or ":" in kind.name:
        raise ValueError(f"invalid encoder kind name {kind.name!r}")
    if kind.name in _KINDS and not replace:
        raise ValueError(f"encoder kind {kind.name!r} is already registered")
    _KINDS[kind.name] = kind
    return kind


def kind_names() -> tuple[str, ...]:
    """Names of the registered kinds, in registration order."""
    return tuple(_KINDS)


def accepted_forms() -> str:
    """The accepted spec forms of every registered kind (shown with spec errors)."""
    lines = [line for kind in _KINDS.values() for line in kind.forms]
    return "accepted encoder specs:\n" + "\n".join(f"  {line}" for line in lines)


def _malformed(spec: object, problem: str) -> ValueError:
    return ValueError(f"malformed encoder spec {spec!r}: {problem}\n{accepted_forms()}")


def encoder_kind(name: str) -> EncoderKind:
    """The registered kind called ``name``.

    Raises:
        ValueError: No such kind; the message lists the accepted forms.
    """
    kind = _KINDS.get(name)
    if kind is None:
        raise _malformed(
            f"{name}:...", f"unknown kind {name!r}; expected one of {', '.join(_KINDS)}"
        )
    return kind


def parse_spec(spec: str | EncoderSpec) -> EncoderSpec:
    """Parse an encoder spec string into its canonical :class:`EncoderSpec`.

    Args:
        spec: A spec string (see :mod:`vtrsearch.encoders.spec`) or an already parsed spec.

    Returns:
        The parsed spec; ``str()`` of it is the canonical string and re-parses to an equal spec.

    Raises:
        ValueError: The string is not a valid spec; the message lists the accepted forms.
    """
    if isinstance(spec, EncoderSpec):
        return spec
    if not isinstance(spec, str):
        raise _malformed(spec, f"expected a string, got {type(spec).__name__}")
    name, sep, rest = spec.strip().partition(":")
    kind = _KINDS.get(name) if sep else None
    if kind is None:
        raise _malformed(spec, f"unknown kind {name!r}; expected one of {', '.join(_KINDS)}")
    try:
        return kind.parse(rest)
    except ValueError as exc:
        raise _malformed(spec, str(exc)) from None


def load_encoder(
    spec: str | EncoderSpec, device: str | None = None, *, fast: bool = True
) -> TextEncoder:
    """Create the text encoder a spec names.

    Cheap: the spec is parsed and its kind's checks run now (local paths exist); weights load
    on first ``encode`` (or ``.load()``, ``.context_length``; ``.dim`` is read from
    ``config.json`` when the model is a local transformers folder).

    Args:
        spec: An encoder spec (see :mod:`vtrsearch.encoders.spec`), e.g.
            ``"open_clip:ViT-B-32/openai"``, ``"hf:minilm"``.
        device: Torch device string; ``None`` picks CUDA when available, else CPU.
        fast: open_clip only: allow the exact length-trimmed fast text path.

    Returns:
        An encoder with ``.spec`` (canonical string), ``.dim``, ``.context_length`` and
        ``.encode(texts, batch_size=64, progress=False)``.

    Raises:
        ValueError: Malformed spec or unknown kind.
        EncoderLoadError: A local path in the spec does not exist, or the ``minilm`` alias is
            used without its package installed.
    """
    parsed = parse_spec(spec)
    kind = encoder_kind(parsed.kind)
    kind.check(parsed)
    return kind.build(parsed, device, fast)
