"""Small MSVD and ActivityNet Captions datasets in their real file formats, with planted
features whose evaluation figures are known in advance.

Used by the tests and by ``bench/dataset_protocols.py``. ``encode(texts)`` must return unit
text vectors (the tests use the real MiniLM, ``hf:minilm``): the features are built from the
same vectors the evaluation encodes, so every figure follows from the design below.

MSVD (``write_msvd``): 39 clips in ``MSR Video Description Corpus.csv`` (real columns; English,
Spanish and German rows, an empty description, a description with unquoted commas, clip ids
with ``-`` and ``_``), split lists of 20 / 4 / 16 clips. A clip's feature is the mean of its
English caption vectors, except for one swapped pair of test clips. Of the 16 listed test
clips, one is absent from the CSV and one has no feature file (both skipped with
``--allow-missing``) and one has Spanish captions only (gallery only): 14 test clips, 13 of
them with 3 English captions each.

ActivityNet (``write_activitynet``): ``train.json`` (8 videos), ``val_1.json`` and ``val_2.json``
(the same 20 videos), ``(20, D)`` frame features per video. In a ``val_1`` video, sentence A
covers 1 frame, B 2 frames, C 3 frames (so a single-frame prediction inside the moment has IoU
1, 1/2, 1/3); its event frames are the sentence vector plus noise, the other frames the
paragraph's vector plus noise. Planted cases: overlapping B and C, C past the duration
(clipped), A starting before 0 (clipped), a blank sentence, a sentence entirely past the end
(kept without times), one long-paragraph video (5 more 40-word events: over 256 tokens), a
frame outside A's moment that equals A's vector (within-video miss at R@1, hit at R@5), a frame
in another video equal to one B sentence (corpus miss at R@1), a train frame equal to a val_1
sentence (harmless while the corpus search keeps to val_1), two videos with swapped paragraph
frames (paragraph misses), one video without features.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vtrsearch.encoders.spec import QueryTruncatedWarning

from .activities import ACTIVITIES, LONG_SENTENCES

Encode = Callable[[list[str]], np.ndarray]
FRAMES = 20
NOISE = 0.15  # norm of the noise added to planted frame vectors (cosine ~0.989)


def youtube_id(i: int, salt: str) -> str:
    """A stable 11-character YouTube-like id (letters, digits, ``-`` and ``_``)."""
    digest = hashlib.sha1(f"{salt}{i}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:11]


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _noisy(v: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = rng.normal(size=v.shape)
    return _unit(v + NOISE * n / np.linalg.norm(n))


# ------------------------------------------------------------------------------------- MSVD


@dataclass
class PlantedMSVD:
    """Where the MSVD files are and the figures the ``msvd`` protocol must give."""

    root: Path
    test_clips: list[str]  # ingested test clips (with --allow-missing)
    swapped: tuple[str, str]
    t2v_r1: float
    v2t_r1: float
    n_queries: int
    n_with_captions: int


def write_msvd(root: Path, encode: Encode, seed: int = 0) -> PlantedMSVD:
    """Write the planted MSVD folder under ``root`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    feats = root / "features"
    feats.mkdir(exist_ok=True)
    clips = []
    for i in range(39):
        vid = youtube_id(i, "msvd")
        start = (7 * i) % 40
        clips.append((vid, start, start + 5 + i % 9))
    ids = [f"{v}_{s}_{e}" for v, s, e in clips]
    rows: list[list[str]] = []
    for i, (vid, s, e) in enumerate(clips):
        base = [vid, str(s), str(e), str(1000 + i), "clean", "17"]
        if i != 38:
            rows += [[*base, "English", cap] for cap in ACTIVITIES[i]]
        rows.append([*base, "Spanish", f"escena número {i}: una persona hace algo"])
        if i == 38:
            rows.append([*base, "Spanish", "un hombre toca la guitarra en la calle"])
        if i == 25:
            rows += [[*base, "English", "   "], [*base, "German", "ein Mann schneidet Brot"]]
    path = root / "MSR Video Description Corpus.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [
                "VideoID",
                "Start",
                "End",
                "WorkerID",
                "Source",
                "AnnotationTime",
                "Language",
                "Description",
            ]
        )
        writer.writerows(rows)
        vid, s, e = clips[27]
        # a description with unquoted commas, as some rows of the real file have
        fh.write(f"{vid},{s},{e},999,unverified,12,English,{ACTIVITIES[27][0]}, indoors, slowly\n")
    absent = f"{youtube_id(99, 'msvd')}_0_4"
    (root / "train_list.txt").write_text("\n".join(ids[:20]) + "\n", encoding="utf-8")
    (root / "val_list.txt").write_text("\n".join(ids[20:24]) + "\n", encoding="utf-8")
    test = ids[24:38] + [ids[38], absent]
    (root / "test_list.txt").write_text("\n".join(test) + "\n", encoding="utf-8")
    english = {i: list(ACTIVITIES[i]) for i in range(38)}
    english[27] = [*english[27], f"{ACTIVITIES[27][0]}, indoors, slowly"]
    vectors = {}
    for i in range(39):
        texts = english.get(i) or [r[7] for r in rows if r[0] == clips[i][0]]
        vectors[i] = _unit(encode(texts).mean(axis=0))
    vectors[28], vectors[29] = vectors[29], vectors[28]
    for i in range(39):
        if i == 37:
            continue  # listed, captioned, no feature file
        if i in (30, 31):  # frame-level (T, D)
            frames = np.stack([_noisy(vectors[i], rng) for _ in range(4)])
            np.save(feats / f"{ids[i]}.npy", frames)
        elif i == 32:
            import torch

            torch.save(torch.from_numpy(vectors[i]), feats / f"{ids[i]}.pt")
        else:
            np.save(feats / f"{ids[i]}.npy", vectors[i])
    test_clips = ids[24:37] + [ids[38]]
    n_queries = sum(len(english[i]) for i in range(24, 37))
    bad = len(english[28]) + len(english[29])
    return PlantedMSVD(
        root=root,
        test_clips=test_clips,
        swapped=(ids[28], ids[29]),
        t2v_r1=100.0 * (n_queries - bad) / n_queries,
        v2t_r1=100.0 * 11 / 13,
        n_queries=n_queries,
        n_with_captions=13,
    )


# -------------------------------------------------------------------------------- ActivityNet


@dataclass
class PlantedActivityNet:
    """Where the ActivityNet files are and the figures the protocols must give."""

    root: Path
    val_videos: list[str]  # val_1 videos with features
    paragraphs: dict[str, str]  # video -> paragraph, as the protocol builds it
    long_video: str
    swapped: tuple[str, str]
    paragraph_r1: float
    # per moment query (sentence): expected IoU of the top-1 and best-of-top-5 prediction
    ious: dict[str, dict[str, list[float]]] = field(default_factory=dict)


@dataclass
class _Video:
    vid: str
    duration: float
    events: list[tuple[str, int, int]]  # (sentence, first frame, last frame)
    stamps: list[list[float]]
    sentences: list[str]


def _layout(i: int, vid: str) -> _Video:
    """Events of val_1 video ``i`` and its (possibly messy) timestamps."""
    duration = float((60, 80, 100, 120, 150)[i % 5])
    step = duration / FRAMES
    a, b, c = 2 + i % 3, 7 + i % 2, 13 + i % 3
    if i == 1:
        b, c = 7, 8  # B = frames 7-8, C = frames 8-10: they overlap on frame 8
    if i == 2:
        c = 17  # C = frames 17-19, so clipping its end to the duration keeps 3 frames
    if i == 4:
        a = 0
    events = [(ACTIVITIES[3 * i][0], a, a), (ACTIVITIES[3 * i + 1][0], b, b + 1)]
    events.append((ACTIVITIES[3 * i + 2][0], c, c + 2))
    if i == 5:
        events += [(s, f, f) for s, f in zip(LONG_SENTENCES, (0, 2, 11, 13, 19), strict=True)]
    stamps = [[f * step, (g + 1) * step] for _, f, g in events]
    sentences = [s for s, _, _ in events]
    if i == 2:
        stamps[2][1] = duration + 25.5  # past the end: clipped to the duration
    if i == 4:
        stamps[0][0] = -1.5  # before the start: clipped to 0
    if i == 3:
        stamps += [[1.0, 3.0], [duration + 3.0, duration + 8.0]]
        sentences += ["  ", ACTIVITIES[60][0]]  # blank; and one entirely past the end
    return _Video(vid, duration, events, stamps, sentences)


def _paragraph(v: _Video) -> str:
    timed = []
    untimed = []
    for j, (text, (s, e)) in enumerate(zip(v.sentences, v.stamps, strict=True)):
        if not text.strip():
            continue
        lo, hi = min(max(s, 0.0), v.duration), min(max(e, 0.0), v.duration)
        (timed if lo < hi else untimed).append((lo, j, text.strip()))
    return " ".join(t for _, _, t in sorted(timed) + sorted(untimed))


def write_activitynet(root: Path, encode: Encode, seed: int = 0) -> PlantedActivityNet:
    """Write the planted ActivityNet Captions folder under ``root`` (see the module doc)."""
    rng = np.random.default_rng(seed)
    (root / "captions").mkdir(parents=True, exist_ok=True)
    feats = root / "features"
    feats.mkdir(exist_ok=True)
    vids = [f"v_{youtube_id(i, 'anet')}" for i in range(20)]
    videos = [_layout(i, vid) for i, vid in enumerate(vids)]
    paragraphs = {v.vid: _paragraph(v) for v in videos}
    sentences = sorted({s for v in videos for s, _, _ in v.events})
    svec = dict(zip(sentences, encode(sentences), strict=True))
    with warnings.catch_warnings():  # the long paragraph is truncated on purpose
        warnings.simplefilter("ignore", QueryTruncatedWarning)
        pvec = dict(zip(vids, encode([paragraphs[v] for v in vids]), strict=True))
    swapped = (vids[11], vids[12])
    pvec[vids[11]], pvec[vids[12]] = pvec[vids[12]], pvec[vids[11]]
    for i, v in enumerate(videos[:19]):  # video 19 has no feature file
        frames = np.stack([_noisy(pvec[v.vid], rng) for _ in range(FRAMES)])
        covered: dict[int, list[str]] = {}
        for s, f, g in v.events:
            for j in range(f, g + 1):
                covered.setdefault(j, []).append(s)
        for j, texts in covered.items():
            frames[j] = _noisy(sum(svec[t] for t in texts), rng)
        if i == 6:
            frames[18] = svec[v.events[0][0]]  # within-video distractor of sentence A
        if i == 7:
            frames[19] = svec[videos[9].events[1][0]]  # corpus distractor of video 9's B
        np.save(feats / f"{v.vid}.npy", frames.astype(np.float32))
    val1 = {
        v.vid: {"duration": v.duration, "timestamps": v.stamps, "sentences": v.sentences}
        for v in videos
    }
    (root / "captions" / "val_1.json").write_text(json.dumps(val1, indent=1), encoding="utf-8")
    val2 = {
        v.vid: {
            "duration": v.duration,
            "timestamps": [
                [f * v.duration / FRAMES, (g + 1) * v.duration / FRAMES] for _, f, g in v.events[:3]
            ],
            "sentences": [ACTIVITIES[3 * i + k][1] for k in range(3)],
        }
        for i, v in enumerate(videos)
    }
    (root / "captions" / "val_2.json").write_text(json.dumps(val2), encoding="utf-8")
    _write_train(root, feats, rng, svec[videos[10].events[2][0]])
    ious = {"video": {"r1": [], "r5": []}, "corpus": {"r1": [], "r5": []}}
    for i, v in enumerate(videos[:19]):
        for k, (_, f, g) in enumerate(v.events):
            iou = 1.0 / (g - f + 1)
            miss_video = i == 6 and k == 0
            miss_corpus = miss_video or (i == 9 and k == 1)
            ious["video"]["r1"].append(0.0 if miss_video else iou)
            ious["corpus"]["r1"].append(0.0 if miss_corpus else iou)
            ious["video"]["r5"].append(iou)
            ious["corpus"]["r5"].append(iou)
    n = 19
    return PlantedActivityNet(
        root=root,
        val_videos=vids[:19],
        paragraphs={v: paragraphs[v] for v in vids[:19]},
        long_video=vids[5],
        swapped=swapped,
        paragraph_r1=100.0 * (n - 2) / n,
        ious=ious,
    )


def _write_train(root: Path, feats: Path, rng: np.random.Generator, trap: np.ndarray) -> None:
    """8 train videos, clip-level moments; one frame equals a val_1 sentence (``trap``)."""
    train = {}
    for i in range(8):
        vid = f"v_{youtube_id(i, 'anet-train')}"
        texts = [ACTIVITIES[61 + (2 * i + k) % 11][2] for k in range(2)]
        train[vid] = {
            "duration": 50.0,
            "timestamps": [[0.0, 10.0], [20.0, 42.5]],
            "sentences": texts,
        }
        frames = _unit(rng.normal(size=(FRAMES, trap.shape[0])))
        if i == 0:
            frames[5] = trap
        np.save(feats / f"{vid}.npy", frames)
    (root / "captions" / "train.json").write_text(json.dumps(train), encoding="utf-8")
