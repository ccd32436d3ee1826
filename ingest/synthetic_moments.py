"""Frame-level synthetic features with planted moments (for the demo and moment tests).

Every synthetic video gets ``T`` frame vectors around its clip vector; in a few videos a short
run of frames is replaced by an *event* (a sentence such as "fireworks explode in the night
sky") placed in the same feature space as the captions. ``planted_moments.json`` records each
planted event with its frames, so a moment search for the event's text can be checked against
it: the right video, and the right frames.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

#: Events planted as moments; none of them is a caption template of any category.
EVENTS = (
    "fireworks explode in the night sky",
    "a cat knocks a glass off the table",
    "a helicopter lands on a rooftop",
    "snow falls on a frozen lake",
    "a volcano erupts with glowing lava",
    "a hot air balloon floats over the desert",
)
#: Frames of a planted moment.
MOMENT_FRAMES = 3
PLANTED_FILE = "planted_moments.json"


@dataclass(frozen=True)
class PlantedMoment:
    """An event planted in frames ``first .. first + count - 1`` of a video."""

    video_id: str
    text: str
    first: int
    count: int


def frame_features(
    base: np.ndarray,
    sigma: np.ndarray,
    frames: int,
    rng: np.random.Generator,
    event_vectors: np.ndarray,
    every: int = 10,
) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """``(n, frames, d)`` features around each video's ``base`` vector, with planted events.

    Args:
        base: (n, d) noise-free clip vectors.
        sigma: (n, 1) per-dimension noise of each video's frames.
        frames: frames per video.
        rng: the dataset's generator.
        event_vectors: (E, d) events in the feature space (norm like ``base``).
        every: plant an event in video ``3, 3 + every, 3 + 2 * every, ...`` (one per event).

    Returns:
        The features and ``(video_row, event_row, first_frame)`` of each planted moment.
    """
    n, d = base.shape
    out = base[:, None, :] + sigma[:, :, None] * rng.normal(size=(n, frames, d))
    planted = []
    for e, row in enumerate(range(3, n, every)):
        if e >= len(event_vectors):
            break
        first = int(rng.integers(0, frames - MOMENT_FRAMES + 1))
        noise = sigma[row] * rng.normal(size=(MOMENT_FRAMES, d))
        out[row, first : first + MOMENT_FRAMES] = 0.25 * base[row] + event_vectors[e] + noise
        planted.append((row, e, first))
    return out.astype(np.float32), planted


def event_vectors(
    embed: Callable | None, to_space: Callable[[np.ndarray], np.ndarray], d: int, seed: int
) -> np.ndarray:
    """The events in the feature space: embedded and mapped like captions, else random."""
    if embed is not None:
        return to_space(np.asarray(embed(list(EVENTS)), dtype=np.float32))
    rng = np.random.default_rng(seed + 7)
    return rng.normal(size=(len(EVENTS), d)).astype(np.float32)


def write_planted(root: Path, moments: list[PlantedMoment]) -> None:
    """Record the planted moments beside the features."""
    (root / PLANTED_FILE).write_text(json.dumps([asdict(m) for m in moments], indent=1))


def read_planted(root: str | Path) -> list[PlantedMoment]:
    """The moments planted in a synthetic dataset (empty when it has none)."""
    path = Path(root) / PLANTED_FILE
    if not path.exists():
        return []
    return [PlantedMoment(**m) for m in json.loads(path.read_text())]
