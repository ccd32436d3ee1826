"""A synthetic dataset in the real MSR-VTT layout, for the offline demo and tests.

It is clearly labelled synthetic: the annotation file's ``info`` says so and a
``SYNTHETIC_README.txt`` is written beside it. Captions come from per-category templates;
video features are drawn around per-category centres, or, when an ``embed`` function is given,
from the embeddings of each video's own captions (so text search finds them), optionally
moved into another space by a fixed random linear map (so a projection head has work to do).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from vtrsearch.categories import MSRVTT_CATEGORIES

from .synthetic_moments import (
    EVENTS,
    MOMENT_FRAMES,
    PlantedMoment,
    event_vectors,
    frame_features,
    write_planted,
)

TEMPLATES: dict[str, tuple[Sequence[str], Sequence[str]]] = {
    "music": (
        ("a singer", "a band", "a girl", "a man"),
        ("is singing on stage", "plays the guitar", "performs a song", "dances to music"),
    ),
    "people": (
        ("a woman", "a man", "two friends", "a crowd"),
        ("is talking to the camera", "walks down the street", "laughs at a joke", "waves hello"),
    ),
    "gaming": (
        ("a gamer", "a player", "a streamer", "a kid"),
        (
            "plays minecraft",
            "shows a video game level",
            "fights a boss in a game",
            "builds a house in a game",
        ),
    ),
    "sports/actions": (
        ("a basketball player", "a soccer team", "a runner", "a boxer"),
        ("scores a goal", "runs on a track", "throws a punch", "dunks the ball"),
    ),
    "news/events/politics": (
        ("a news anchor", "a politician", "a reporter", "a president"),
        ("reads the news", "gives a speech", "talks about the election", "reports from a protest"),
    ),
    "education": (
        ("a teacher", "a professor", "a student", "a tutor"),
        ("explains a math problem", "writes on a whiteboard", "gives a lecture", "teaches grammar"),
    ),
    "tv shows": (
        ("a host", "a contestant", "a judge", "an audience"),
        (
            "laughs on a talk show",
            "answers a quiz question",
            "judges a talent show",
            "claps in the studio",
        ),
    ),
    "movie/comedy": (
        ("an actor", "a comedian", "a villain", "a hero"),
        (
            "tells a funny joke",
            "runs from an explosion",
            "argues in a movie scene",
            "falls over in a comedy sketch",
        ),
    ),
    "animation": (
        ("a cartoon character", "an animated dog", "a cartoon cat", "a 3d robot"),
        (
            "jumps around in a cartoon",
            "talks in an animation",
            "flies in an animated world",
            "chases a mouse",
        ),
    ),
    "vehicles/autos": (
        ("a red car", "a truck", "a motorcycle", "a race car"),
        (
            "drives on the highway",
            "is reviewed by a man",
            "races around a track",
            "drifts around a corner",
        ),
    ),
    "howto": (
        ("a woman", "a man", "a crafter", "a person"),
        (
            "shows how to fold paper",
            "demonstrates how to fix a sink",
            "explains how to tie a knot",
            "shows how to paint a wall",
        ),
    ),
    "travel": (
        ("a tourist", "a traveler", "a family", "a couple"),
        ("walks on a beach", "visits a famous city", "hikes up a mountain", "takes a boat tour"),
    ),
    "science/technology": (
        ("a scientist", "an engineer", "a robot", "a reviewer"),
        (
            "unboxes a new phone",
            "explains a science experiment",
            "builds a circuit",
            "shows a rocket launch",
        ),
    ),
    "animals/pets": (
        ("a dog", "a cat", "a horse", "a parrot"),
        ("plays with a ball", "runs in the garden", "eats its food", "jumps over a fence"),
    ),
    "kids/family": (
        ("a baby", "a little girl", "a boy", "a family"),
        ("plays with toys", "laughs with its parents", "rides a bicycle", "opens a present"),
    ),
    "documentary": (
        ("a narrator", "a researcher", "a lion", "an old man"),
        (
            "describes wildlife in africa",
            "talks about history",
            "hunts in the savanna",
            "remembers the war",
        ),
    ),
    "food/drink": (
        ("a chef", "a man", "a woman", "a critic"),
        (
            "tastes a burger",
            "drinks a cup of coffee",
            "reviews a restaurant",
            "eats a slice of pizza",
        ),
    ),
    "cooking": (
        ("a cook", "a woman", "a chef", "a man"),
        (
            "stirs soup in a pot",
            "chops vegetables",
            "bakes a cake in the oven",
            "fries eggs in a pan",
        ),
    ),
    "beauty/fashion": (
        ("a model", "a makeup artist", "a woman", "a stylist"),
        ("applies lipstick", "walks the runway", "shows a new hairstyle", "tries on a dress"),
    ),
    "advertisement": (
        ("a commercial", "an announcer", "a brand", "an advert"),
        (
            "shows a new product",
            "sells a shampoo",
            "promotes a phone plan",
            "advertises a soft drink",
        ),
    ),
}
PLACES = (
    "",
    " outside",
    " at home",
    " in a studio",
    " at night",
    " in the park",
    " in the rain",
    " on a boat",
    " in the snow",
    " at the beach",
)
DETAILS = (
    "",
    " wearing a red shirt",
    " with a blue hat",
    " next to a window",
    " in slow motion",
    " while laughing",
    " with friends",
    " with a small child",
    " near a tree",
    " under bright lights",
    " in a crowded room",
    " on an old television",
)
EmbedFn = Callable[[Sequence[str]], np.ndarray]


def _captions(rng: np.random.Generator, category: str, n: int) -> list[str]:
    subjects, actions = TEMPLATES[category]
    subject = subjects[rng.integers(len(subjects))]
    action = actions[rng.integers(len(actions))]
    place = PLACES[rng.integers(len(PLACES))]
    detail = DETAILS[rng.integers(len(DETAILS))]
    out = []
    for j in range(n):
        # Every caption names the video's subject and action; each drops or swaps one detail,
        # the way different annotators describe the same clip.
        s = subject if j % 3 else subjects[rng.integers(len(subjects))]
        p = place if j % 2 == 0 else PLACES[rng.integers(len(PLACES))]
        d = detail if j % 2 == 1 or j == 0 else ""
        out.append(f"{s} {action}{p}{d}")
    return out


def write_synthetic_msrvtt(
    root: str | Path,
    *,
    num_videos: int = 600,
    captions_per_video: int = 5,
    dim: int = 512,
    seed: int = 0,
    embed: EmbedFn | None = None,
    distortion: float = 0.0,
    noise: float = 0.35,
    frames_per_video: int = 0,
) -> Path:
    """Write a synthetic MSR-VTT dataset under ``root`` and return ``root``.

    Layout: ``synthetic_videodatainfo.json``, ``category.txt``, ``features/<video_id>.npy``
    (clip-level vectors of dimension ``dim``, or ``(frames_per_video, dim)`` frame features),
    ``SYNTHETIC_README.txt``, and with frames ``planted_moments.json`` (see
    :mod:`.synthetic_moments`).

    Args:
        num_videos: number of videos (split 70/10/20 into train/validate/test).
        captions_per_video: captions per video.
        dim: feature dimension of the category-centre features (with ``embed``, the
            embedding's own dimension is kept).
        seed: random seed; the same seed writes the same files.
        embed: optional text embedding function used to place each video near its captions.
        distortion: with ``embed``, mix this fraction of a fixed random linear map into the
            vectors (0: the text encoder's own space; larger: a space a head must learn to
            map into).
        noise: relative noise added to each video vector (to each frame with frames).
        frames_per_video: 0 writes clip-level vectors; more writes that many frames per
            video, with an event planted in a few frames of every tenth video.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    (root / "features").mkdir(parents=True, exist_ok=True)
    names = list(MSRVTT_CATEGORIES)
    videos, sentences = [], []
    splits = np.array(["train"] * 7 + ["validate"] + ["test"] * 2)
    for i in range(num_videos):
        cid = int(rng.integers(len(names)))
        vid = f"video{i}"
        start = round(float(rng.uniform(0, 300)), 2)
        videos.append(
            {
                "video_id": vid,
                "id": i,
                "category": cid,
                "split": str(splits[i % 10]),
                "url": f"https://example.invalid/synthetic/{vid}",
                "start time": start,
                "end time": round(start + float(rng.uniform(10, 30)), 2),
            }
        )
        for text in _captions(rng, names[cid], captions_per_video):
            sentences.append({"sen_id": len(sentences), "video_id": vid, "caption": text})
    n = len(videos)
    if embed is None:
        centres = rng.normal(size=(len(names), dim)).astype(np.float32)
        base = centres[[v["category"] for v in videos]]
        sigma = np.full((n, 1), noise * 2.0)

        def to_space(x: np.ndarray) -> np.ndarray:
            return x

    else:
        texts = [s["caption"] for s in sentences]
        emb = np.asarray(embed(texts), dtype=np.float32)
        m = None
        if distortion:
            d = emb.shape[1]
            m = np.random.default_rng(seed + 1).normal(size=(d, d)) / np.sqrt(d)

        def to_space(x: np.ndarray) -> np.ndarray:
            x = x / np.linalg.norm(x, axis=1, keepdims=True)
            return x if m is None else (1 - distortion) * x + distortion * (x @ m)

        base = to_space(emb.reshape(num_videos, captions_per_video, -1).mean(axis=1))
        sigma = noise * np.linalg.norm(base, axis=1, keepdims=True) / np.sqrt(base.shape[1])
    if frames_per_video:
        events = event_vectors(embed, to_space, base.shape[1], seed)
        vectors, planted = frame_features(base, sigma, int(frames_per_video), rng, events)
        write_planted(
            root,
            [
                PlantedMoment(videos[row]["video_id"], EVENTS[e], first, MOMENT_FRAMES)
                for row, e, first in planted
            ],
        )
    else:
        vectors = (base + sigma * rng.normal(size=base.shape)).astype(np.float32)
    for v, vec in zip(videos, vectors, strict=True):
        np.save(root / "features" / f"{v['video_id']}.npy", vec)
    info = {
        "contributor": "vtrsearch demo",
        "description": "SYNTHETIC data in the MSR-VTT layout; not real videos or captions",
        "year": 2026,
    }
    with open(root / "synthetic_videodatainfo.json", "w", encoding="utf-8") as fh:
        json.dump({"info": info, "videos": videos, "sentences": sentences}, fh)
    (root / "category.txt").write_text(
        "".join(f"{name}\t{cid}\n" for cid, name in enumerate(names)), encoding="utf-8"
    )
    (root / "SYNTHETIC_README.txt").write_text(
        "This folder was written by `vtrsearch demo`. Everything in it is SYNTHETIC: captions\n"
        "come from templates and features are random vectors, laid out like MSR-VTT\n"
        "(videodatainfo JSON, category.txt, one .npy feature file per video).\n",
        encoding="utf-8",
    )
    return root
