"""Projection-head trainer: learning, determinism, exact resume, mining, loss, batching."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from vtrsearch.heads import HeadConfig, load_head
from vtrsearch.trainer import (
    ContrastiveLoss,
    HardNegativeMiner,
    TrainConfig,
    contrastive_loss,
    epoch_batches,
    mine_hard_negatives,
    prepare_data,
    train_head,
)
from vtrsearch.trainer.checkpoint import CheckpointError

N_VIDEOS, N_VAL, CAPS = 400, 80, 5


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """Tiny matmuls are much faster (and steadier on a busy machine) single-threaded."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def planted(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Latent z (16-d) per video; videos = norm(A z + noise) (64-d); captions = norm(B z +
    noise') (32-d), CAPS per video; the last N_VAL videos validate, 20 more are "test"."""
    rng = np.random.default_rng(seed)
    n = N_VIDEOS + 20
    z = rng.standard_normal((n, 16))
    a, b = rng.standard_normal((16, 64)), rng.standard_normal((16, 32))
    video = z @ a + 1.0 * rng.standard_normal((n, 64))
    cap_video = np.repeat(np.arange(n), CAPS)
    caps = z[cap_video] @ b + 5.0 * rng.standard_normal((cap_video.size, 32))
    video /= np.linalg.norm(video, axis=1, keepdims=True)
    caps /= np.linalg.norm(caps, axis=1, keepdims=True)
    split = np.array(["train"] * (N_VIDEOS - N_VAL) + ["validate"] * N_VAL + ["test"] * 20)
    return caps.astype(np.float32), cap_video, video.astype(np.float32), split


DATA = planted()
HEAD = HeadConfig(32, 64, hidden_dim=64, dropout=0.1, base_encoder="test:planted")


def small_config(**kw: object) -> TrainConfig:
    base = dict(lr=3e-3, batch_size=32, epochs=5, warmup_steps=5, num_hard_negatives=4)
    base.update(kw)
    return TrainConfig(**base)


def t2v_r1(text: np.ndarray, video: np.ndarray, positive: np.ndarray) -> float:
    scores = text @ video.T
    pos = scores[np.arange(len(positive)), positive]
    higher = (scores > pos[:, None]).sum(1)
    tied = (scores == pos[:, None]).sum(1) - 1
    return float(((higher == 0) & (tied == 0)).mean() * 100)


def test_training_learns_planted_relationship(tmp_path: Path) -> None:
    caps, cap_video, video, split = DATA
    res = train_head(caps, cap_video, video, split, tmp_path, small_config(), HEAD, progress=False)
    chance = 100.0 / N_VAL
    untrained = res.initial_metrics["r1"]
    best = res.best_metrics["val_r1"]
    assert untrained < 4 * chance
    assert best > 40.0 and best > untrained + 30.0, (untrained, best)
    assert res.history[-1]["loss"] < res.history[0]["loss"]
    assert res.best_epoch == max(range(5), key=lambda e: res.history[e]["val_r1"])
    # The saved head reproduces the reported validation R@1 with an independent metric.
    head = load_head(res.path)
    assert head.config.base_encoder == "test:planted"
    assert head.config.training["batch_size"] == 32 and head.config.training["best_epoch"] >= 0
    assert head.config.metrics["val_r1"] == pytest.approx(best)
    val_videos = np.flatnonzero(split == "validate")
    val_caps = np.flatnonzero(np.isin(cap_video, val_videos))
    local = np.searchsorted(val_videos, cap_video[val_caps])
    r1 = t2v_r1(head.project(caps[val_caps]), video[val_videos], local)
    assert r1 == pytest.approx(best, abs=1e-6)


@pytest.mark.parametrize("mode", ["none", "global"])
def test_hard_negative_modes_learn(tmp_path: Path, mode: str) -> None:
    caps, cap_video, video, split = DATA
    res = train_head(
        caps,
        cap_video,
        video,
        split,
        tmp_path,
        small_config(hard_negatives=mode, epochs=4),
        HEAD,
        progress=False,
    )
    assert all(math.isfinite(h["loss"]) for h in res.history)
    assert res.best_metrics["val_r1"] > res.initial_metrics["r1"] + 25.0
    if mode == "none":
        assert all(h["loss_hard"] == 0.0 for h in res.history)


def test_residual_head_global_mining_from_base_vectors(tmp_path: Path) -> None:
    caps, cap_video, video, split = DATA
    caps64 = np.concatenate([caps, caps], axis=1) / np.sqrt(2)  # same dim as the videos
    res = train_head(
        caps64,
        cap_video,
        video,
        split,
        tmp_path,
        small_config(hard_negatives="global", epochs=2, mining_pool=None),
        HeadConfig(64, 64, hidden_dim=64),
        progress=False,
    )
    assert load_head(res.path).config.residual
    assert res.history[0]["loss_hard"] > 0
    assert "hard_negatives" in load_file(str(res.checkpoint_path))


def test_same_seed_same_result(tmp_path: Path) -> None:
    caps, cap_video, video, split = DATA
    cfg = small_config(epochs=2, hard_negatives="global", learnable_temperature=True)
    runs = [
        train_head(caps, cap_video, video, split, tmp_path / str(i), cfg, HEAD, progress=False)
        for i in range(2)
    ]
    assert runs[0].history == runs[1].history
    w0, w1 = (load_file(str(r.path / "model.safetensors")) for r in runs)
    assert all(torch.equal(w0[k], w1[k]) for k in w0)
    other = train_head(
        caps,
        cap_video,
        video,
        split,
        tmp_path / "s1",
        small_config(epochs=2, seed=1),
        HEAD,
        progress=False,
    )
    w2 = load_file(str(other.path / "model.safetensors"))
    assert not torch.equal(w0["mlp.0.weight"], w2["mlp.0.weight"])


@pytest.mark.parametrize("mode", ["batch", "global"])
def test_resume_after_kill_is_bitwise_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    caps, cap_video, video, split = DATA
    cfg = small_config(epochs=4, hard_negatives=mode, learnable_temperature=True, warmup_steps=20)
    full = train_head(caps, cap_video, video, split, tmp_path / "full", cfg, HEAD, progress=False)

    class Killed(Exception):
        pass

    def kill(epoch: int, metrics: dict) -> None:
        if epoch == 1:  # after the second epoch's checkpoint
            raise Killed

    with pytest.raises(Killed):
        train_head(
            caps,
            cap_video,
            video,
            split,
            tmp_path / "cut",
            cfg,
            HEAD,
            progress=False,
            on_epoch_end=kill,
        )

    def no_pickle(*args: object, **kwargs: object) -> None:
        raise AssertionError("resume must not unpickle")

    monkeypatch.setattr(torch, "load", no_pickle)
    seen: list[int] = []
    resumed = train_head(
        caps,
        cap_video,
        video,
        split,
        tmp_path / "cut",
        cfg,
        HEAD,
        resume=True,
        progress=False,
        on_epoch_end=lambda e, m: seen.append(e),
    )
    assert seen == [2, 3]
    assert resumed.history == full.history
    assert resumed.best_epoch == full.best_epoch
    for name in ("checkpoint/state.safetensors", "model.safetensors"):
        a = load_file(str(full.path / name))
        b = load_file(str(resumed.path / name))
        assert a.keys() == b.keys()
        for k in a:
            assert torch.equal(a[k], b[k]), (name, k)

    # Resuming a finished run does nothing; resuming with another config is refused.
    again = train_head(
        caps, cap_video, video, split, tmp_path / "cut", cfg, HEAD, resume=True, progress=False
    )
    assert again.history == full.history and again.epoch_seconds == {}
    with pytest.raises(CheckpointError, match="lr"):
        train_head(
            caps,
            cap_video,
            video,
            split,
            tmp_path / "cut",
            small_config(epochs=4, hard_negatives=mode, lr=1e-2),
            HEAD,
            resume=True,
            progress=False,
        )


def test_early_stopping(tmp_path: Path) -> None:
    caps, cap_video, video, split = DATA
    res = train_head(
        caps,
        cap_video,
        video,
        split,
        tmp_path,
        small_config(lr=0.0, epochs=6, early_stopping_patience=2),
        HEAD,
        progress=False,
    )
    assert res.stopped_early and len(res.history) == 3 and res.best_epoch == 0


def test_without_split_field(tmp_path: Path) -> None:
    caps, cap_video, video, _ = DATA
    res = train_head(
        caps,
        cap_video,
        video,
        None,
        tmp_path / "holdout",
        small_config(epochs=2),
        HEAD,
        progress=False,
    )
    assert res.initial_metrics["n_queries"] == round(0.1 * len(video)) * CAPS
    assert load_head(res.path).config.training["split_source"] == "holdout"
    res = train_head(
        caps,
        cap_video,
        video,
        None,
        tmp_path / "noval",
        small_config(epochs=2, val_fraction=0.0),
        HEAD,
        progress=False,
    )
    assert res.initial_metrics == {} and "val_r1" not in res.history[0]
    assert res.best_epoch == min(range(2), key=lambda e: res.history[e]["loss"])


# ----------------------------------------------------------------------------- data


def test_split_is_by_video() -> None:
    caps, cap_video, video, split = DATA
    data = prepare_data(caps, cap_video, video, split)
    assert data.split_source == "split"
    assert set(data.train_videos) == set(np.flatnonzero(split == "train"))
    assert set(data.val_videos) == set(np.flatnonzero(split == "validate"))
    assert not np.isin(cap_video[data.train_captions], data.val_videos).any()
    test_caps = np.flatnonzero(split[cap_video] == "test")
    assert not np.isin(test_caps, np.r_[data.train_captions, data.val_captions]).any()
    # Without a split field: a seeded 10% of the videos is held out, never split across sets.
    a = prepare_data(caps, cap_video, video, None, val_fraction=0.1, seed=3)
    b = prepare_data(caps, cap_video, video, None, val_fraction=0.1, seed=3)
    assert a.split_source == "holdout" and len(a.val_videos) == round(0.1 * len(video))
    assert np.array_equal(a.val_videos, b.val_videos)
    assert not np.intersect1d(a.train_videos, a.val_videos).size
    assert not np.isin(cap_video[a.train_captions], a.val_videos).any()
    with pytest.raises(ValueError, match="caption_video"):
        prepare_data(caps, cap_video + 1000, video, split)


def _check_batches(video_of: np.ndarray, batches: list[np.ndarray], size: int) -> int:
    allidx = np.concatenate(batches)
    assert np.array_equal(np.sort(allidx), np.arange(len(video_of)))  # every caption once
    assert all(0 < len(b) <= size for b in batches)
    return sum(len(np.unique(video_of[b])) != len(b) for b in batches)


def test_epoch_batches_one_caption_per_video() -> None:
    video_of = np.repeat(np.arange(300), 7)
    b0 = epoch_batches(video_of, 64, seed=0, epoch=0)
    assert _check_batches(video_of, b0, 64) == 0
    assert all(
        np.array_equal(x, y) for x, y in zip(b0, epoch_batches(video_of, 64, 0, 0), strict=True)
    )
    b1 = epoch_batches(video_of, 64, seed=0, epoch=1)
    assert not np.array_equal(np.concatenate(b0), np.concatenate(b1))
    # Unbalanced caption counts (1..40 per video) still give duplicate-free batches.
    rng = np.random.default_rng(0)
    video_of = rng.permutation(np.repeat(np.arange(200), rng.integers(1, 41, 200)))
    assert _check_batches(video_of, epoch_batches(video_of, 32, seed=5, epoch=2), 32) == 0


def test_epoch_batches_fast_at_msrvtt_scale() -> None:
    video_of = np.random.default_rng(0).permutation(np.repeat(np.arange(9000), 20))
    t0 = time.perf_counter()
    batches = epoch_batches(video_of, 256, seed=0, epoch=0)
    assert time.perf_counter() - t0 < 2.0
    assert len(batches) == math.ceil(180_000 / 256)
    assert _check_batches(video_of, batches, 256) == 0


# ----------------------------------------------------------------------------- mining


def test_mining_returns_only_non_matching_videos() -> None:
    g = torch.Generator().manual_seed(0)
    videos = torch.nn.functional.normalize(torch.randn(50, 16, generator=g), dim=-1)
    positive = torch.randint(0, 50, (300,), generator=g)
    positive[:50] = torch.arange(50)
    text = torch.nn.functional.normalize(
        videos[positive] + 0.3 * torch.randn(300, 16, generator=g), dim=-1
    )
    exact = mine_hard_negatives(text, positive, videos, 5)
    scores = text @ videos.T
    scores[torch.arange(300), positive] = -math.inf
    assert torch.equal(exact, scores.topk(5, dim=1).indices)
    assert not (exact == positive[:, None]).any()

    miner = HardNegativeMiner(positive, videos, 5, pool=None, dtype=torch.float32)
    perm = torch.randperm(300, generator=g)
    miner.update(perm, text[perm])  # scattered updates land in the right bank rows
    assert torch.equal(miner.mine(), exact)

    pooled = HardNegativeMiner(positive, videos, 5, pool=12, dtype=torch.float32)
    pooled.fill(text)
    mined = pooled.mine()
    assert not (mined == positive[:, None]).any()
    cand = pooled.candidates[positive]
    assert all(set(mined[i].tolist()) <= set(cand[i].tolist()) for i in range(300))
    full_pool = HardNegativeMiner(positive, videos, 5, pool=49, dtype=torch.float32)
    full_pool.fill(text)
    assert torch.equal(full_pool.mine(), exact)  # a pool of all other videos == exact
    bf16 = HardNegativeMiner(positive, videos, 5, pool=12)  # default bfloat16
    bf16.fill(text)
    assert not (bf16.mine() == positive[:, None]).any()


# ----------------------------------------------------------------------------- loss


def _ce(row: list[float], target: int) -> float:
    m = max(row)
    return -(row[target] - m - math.log(sum(math.exp(x - m) for x in row if x != -math.inf)))


def reference_loss(t, v, ids, scale, hf=None, hid=None, k=0, w=1.0) -> float:
    """Hand-written loops for the documented loss."""
    n = len(t)
    dot = lambda a, b: float(sum(x * y for x, y in zip(a, b, strict=True)))  # noqa: E731
    lg = [
        [scale * dot(t[i], v[j]) if (ids[i] != ids[j] or i == j) else -math.inf for j in range(n)]
        for i in range(n)
    ]
    rows = [list(r) for r in lg]
    if hf is not None:
        for i in range(n):
            for kk in range(len(hid[i])):
                ok = hid[i][kk] not in ids
                rows[i].append(scale * dot(t[i], hf[i][kk]) if ok else -math.inf)
    t2v = sum(_ce(rows[i], i) for i in range(n)) / n
    v2t = sum(_ce([lg[i][j] for i in range(n)], j) for j in range(n)) / n
    loss = 0.5 * (t2v + v2t)
    if k:
        hard = 0.0
        for i in range(n):
            negs = sorted((x for j, x in enumerate(rows[i]) if j != i), reverse=True)[:k]
            hard += _ce([rows[i][i], *negs], 0)
        loss += w * hard / n
    return loss


def test_loss_matches_hand_written_reference() -> None:
    g = torch.Generator().manual_seed(0)
    t = torch.nn.functional.normalize(torch.randn(4, 5, generator=g, dtype=torch.float64), dim=1)
    v = torch.nn.functional.normalize(torch.randn(4, 5, generator=g, dtype=torch.float64), dim=1)
    hf = torch.nn.functional.normalize(
        torch.randn(4, 3, 5, generator=g, dtype=torch.float64), dim=-1
    )
    ids = torch.tensor([10, 11, 12, 13])
    hid = torch.tensor([[20, 21, 22], [11, 23, 24], [13, 25, 26], [27, 28, 29]])  # 2 masked
    tl, vl, hl = t.tolist(), v.tolist(), hf.tolist()
    for k, extra in [(0, False), (2, False), (0, True), (2, True)]:
        got, parts = contrastive_loss(
            t.float(),
            v.float(),
            ids,
            1 / 0.07,
            hf.float() if extra else None,
            hid if extra else None,
            num_hard_negatives=k,
            hard_weight=0.5,
        )
        want = reference_loss(
            tl, vl, ids.tolist(), 1 / 0.07, hl if extra else None, hid.tolist(), k, 0.5
        )
        assert float(got) == pytest.approx(want, rel=1e-5), (k, extra)
        assert (float(parts["hard"]) == 0.0) == (k == 0)


def test_loss_gradients_match_finite_differences() -> None:
    """The hand-written backward of the fused loss (text, video, extra columns, scale)."""
    from vtrsearch.trainer.loss import _InfoNCE

    g = torch.Generator().manual_seed(2)
    t = torch.randn(5, 6, generator=g, dtype=torch.float64, requires_grad=True)
    v = torch.randn(5, 6, generator=g, dtype=torch.float64, requires_grad=True)
    f = torch.randn(5, 3, 6, generator=g, dtype=torch.float64, requires_grad=True)
    scale = torch.tensor(2.5, dtype=torch.float64, requires_grad=True)
    ids = torch.tensor([0, 1, 1, 2, 3])
    dup = (ids[:, None] == ids[None, :]) & ~torch.eye(5, dtype=torch.bool)
    bad = torch.zeros(5, 3, dtype=torch.bool)
    bad[0, 1] = bad[3, 0] = True
    for feats, mask, k in [(None, None, 0), (None, None, 3), (f, bad, 0), (f, bad, 4)]:
        inputs = (t, v, scale) if feats is None else (t, v, scale, feats)

        def fn(*xs: torch.Tensor, mask=mask, k=k) -> torch.Tensor:
            fx = xs[3] if len(xs) > 3 else None
            return _InfoNCE.apply(xs[0], xs[1], fx, xs[2], dup, mask, k, 0.7)[0]

        assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-6)


def test_same_video_captions_are_never_negatives() -> None:
    g = torch.Generator().manual_seed(1)
    t = torch.nn.functional.normalize(torch.randn(4, 8, generator=g), dim=1).requires_grad_()
    v = torch.nn.functional.normalize(torch.randn(4, 8, generator=g), dim=1)
    ids = torch.tensor([7, 7, 3, 5])  # rows 0 and 1: two captions of video 7
    loss_fn = ContrastiveLoss(num_hard_negatives=2)
    loss, parts = loss_fn(t, v, ids)
    want = reference_loss(t.tolist(), v.tolist(), ids.tolist(), 1 / 0.07, k=2)
    assert float(loss.detach()) == pytest.approx(want, rel=1e-5)
    assert not any(p.requires_grad for p in parts.values())  # no graph kept alive by logging
    unmasked, _ = loss_fn(t, v, torch.tensor([7, 8, 3, 5]))
    assert float(unmasked.detach()) != pytest.approx(
        float(loss.detach())
    )  # the mask is what made the difference
    # Column 1 never enters caption 0's softmax: its gradient through that entry is zero.
    logits = (t @ v.T).detach().requires_grad_()
    masked = logits.masked_fill(
        (ids[:, None] == ids[None, :]) & ~torch.eye(4, dtype=torch.bool), -math.inf
    )
    torch.nn.functional.cross_entropy(masked / 0.07, torch.arange(4)).backward()
    assert logits.grad[0, 1] == 0 and logits.grad[1, 0] == 0 and logits.grad[0, 2] != 0


def test_learnable_temperature_is_trained_and_clamped() -> None:
    loss_fn = ContrastiveLoss(temperature=0.07, learnable_temperature=True)
    assert loss_fn.log_scale.requires_grad
    assert loss_fn.temperature() == pytest.approx(0.07)
    with torch.no_grad():
        loss_fn.log_scale.fill_(10.0)
    assert float(loss_fn.logit_scale().detach()) == pytest.approx(100.0)
    fixed = ContrastiveLoss()
    assert not list(fixed.parameters())
