"""Feature spaces: which text encoders may query which video features.

The index knows which model produced its video vectors (``feature_model``). A text encoder from
another space is refused unless a projection head maps into the index's space (or an expert
overrides the check); a wrong dimension is always an error (checked by the query session).
"""

from __future__ import annotations

import warnings

from ..errors import SpaceMismatchError


class UnknownSpaceWarning(UserWarning):
    """The index does not record which model made its features, so the space is unchecked."""


def canonical_spec(spec: str) -> str:
    """The canonical form of an encoder spec (unchanged when it is not an encoder spec)."""
    from .registry import parse_spec

    try:
        return str(parse_spec(spec))
    except ValueError:
        return spec.strip()


def same_space(encoder_spec: str, feature_model: str) -> bool:
    """Whether text from ``encoder_spec`` lands in the space of ``feature_model`` features."""
    return canonical_spec(encoder_spec) == canonical_spec(feature_model)


def check_space(
    encoder_spec: str,
    feature_model: str | None,
    *,
    head_feature_model: str | None = None,
    has_head: bool = False,
    allow_foreign_space: bool = False,
) -> None:
    """Refuse an encoder (or head) whose output is not in the index's feature space.

    Raises:
        SpaceMismatchError: the spaces differ and ``allow_foreign_space`` is false.
    """
    if feature_model is None:
        warnings.warn(
            "the index does not record its feature model; any encoder of the right dimension "
            "is accepted (record it with `vtrsearch ingest ... --feature-model SPEC`)",
            UnknownSpaceWarning,
            stacklevel=3,
        )
        return
    if allow_foreign_space:
        return
    if has_head:
        if head_feature_model is not None and not same_space(head_feature_model, feature_model):
            raise SpaceMismatchError(
                f"the projection head maps into {head_feature_model!r}, but the index's video "
                f"features come from {feature_model!r}; train a head for this index "
                "(or override with allow_foreign_space=True / --allow-foreign-space)"
            )
        return
    if not same_space(encoder_spec, feature_model):
        raise SpaceMismatchError(
            f"query encoder {encoder_spec!r} is not in the space of the index's video features "
            f"({feature_model!r}); use a projection head trained to map it there (--head DIR), "
            "the matching encoder, or override with allow_foreign_space=True / "
            "--allow-foreign-space if you know the spaces agree"
        )
