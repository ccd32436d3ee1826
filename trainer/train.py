"""Training loop for the text -> video projection head.

``train_head`` trains on cached caption vectors (the base text encoder never runs here),
validates text-to-video R@1 on held-out videos every epoch, keeps the best epoch as a head
directory (``vtrsearch.heads.save_head``) and writes an atomic checkpoint every epoch so that
``resume=True`` continues a killed run exactly (bitwise on CPU): every epoch's shuffle and
dropout RNG derive from ``(seed, epoch)``, and mined hard negatives are checkpointed.

The run's state and its setup / resume / checkpoint steps live in :mod:`.run`; this module is
the loop: ``_train`` -> ``_run_epoch`` (``_train_steps``, mining, ``_validate``, best head,
checkpoint) -> ``_finish``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vtrsearch.heads.config import HeadConfig

from .checkpoint import CHECKPOINT_FILE, read_checkpoint
from .config import TrainConfig, TrainResult
from .data import PairData, epoch_batches, epoch_rng, prepare_data
from .evaluate import retrieval_metrics
from .run import TrainRun, resume_run, save_best, setup_run, write_run_checkpoint

__all__ = ["TrainConfig", "TrainResult", "train_head"]


def _epoch_seed(seed: int, epoch: int) -> int:
    return int(epoch_rng(seed, epoch, stream=0x64726F70).integers(0, 2**62))


def train_head(
    caption_vectors: np.ndarray,
    caption_video: np.ndarray,
    video_vectors: np.ndarray,
    video_split: Sequence[str] | np.ndarray | None,
    out_dir: str | Path,
    config: TrainConfig | None = None,
    head_config: HeadConfig | None = None,
    resume: bool = False,
    progress: bool = True,
    on_epoch_end: Callable[[int, dict[str, Any]], None] | None = None,
) -> TrainResult:
    """Train a projection head on cached caption vectors; see the module docstring.

    Args:
        caption_vectors: ``(N, in_dim)`` cached caption vectors.
        caption_video: ``(N,)`` index of each caption's video in ``video_vectors``.
        video_vectors: ``(V, out_dim)`` video features.
        video_split: ``(V,)`` split names (``"train"``, ``"validate"``/``"val"``, ...) or None.
        out_dir: Output head directory (``checkpoint/`` goes inside it).
        config: Training hyper-parameters.
        head_config: Architecture/provenance (``in_dim``/``out_dim`` must match the data;
            defaults to ``HeadConfig(in_dim, out_dim)``).
        resume: Continue from ``out_dir/checkpoint`` when present.
        progress: Show a tqdm progress bar.
        on_epoch_end: ``fn(epoch, metrics)`` called after each epoch's checkpoint is written.

    Returns:
        The :class:`TrainResult`.
    """
    cfg = config or TrainConfig()
    data = prepare_data(
        caption_vectors, caption_video, video_vectors, video_split, cfg.val_fraction, cfg.seed
    )
    cfg = cfg.resolved(math.ceil(data.train_captions.size / cfg.batch_size))
    in_dim, out_dim = data.caption_vectors.shape[1], data.video_vectors.shape[1]
    hc = replace(head_config) if head_config is not None else HeadConfig(in_dim, out_dim)
    if (hc.in_dim, hc.out_dim) != (in_dim, out_dim):
        raise ValueError(
            f"head_config dims ({hc.in_dim} -> {hc.out_dim}) do not match the data "
            f"({in_dim} -> {out_dim})"
        )
    if cfg.device is not None:
        device = torch.device(cfg.device)
    else:
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    rng_devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=rng_devices):
        return _train(data, hc, cfg, device, Path(out_dir), resume, progress, on_epoch_end)


def _train(
    data: PairData,
    hc: HeadConfig,
    cfg: TrainConfig,
    device: torch.device,
    out_dir: Path,
    resume: bool,
    progress: bool,
    on_epoch_end: Callable[[int, dict[str, Any]], None] | None,
) -> TrainResult:
    run = setup_run(data, hc, cfg, device, out_dir)
    state = read_checkpoint(run.ckpt_dir) if resume else None
    if state is not None:
        resume_run(run, *state)
    elif run.dev.has_val:
        run.initial = _validate(run)
    for epoch in range(run.start_epoch, cfg.epochs):
        if run.stopped:
            break
        _run_epoch(run, epoch, progress, on_epoch_end)
    return _finish(run)


# ----------------------------------------------------------------------------- one epoch


def _run_epoch(
    run: TrainRun,
    epoch: int,
    progress: bool,
    on_epoch_end: Callable[[int, dict[str, Any]], None] | None,
) -> None:
    """Train one epoch, mine, validate, keep the best head, checkpoint, report."""
    from tqdm.auto import tqdm

    cfg = run.cfg
    t0 = time.perf_counter()
    torch.manual_seed(_epoch_seed(cfg.seed, epoch))
    batches = epoch_batches(run.dev.train_caption_video_np, cfg.batch_size, cfg.seed, epoch)
    bar = tqdm(
        total=len(batches),
        desc=f"epoch {epoch + 1}/{cfg.epochs}",
        disable=not progress,
        leave=True,
        dynamic_ncols=True,
    )
    means = _train_steps(run, batches, bar, progress)
    t1 = time.perf_counter()
    if run.miner is not None:
        run.hard_negs = run.miner.mine()
    t2 = time.perf_counter()
    entry = _epoch_record(run, epoch, means, len(batches))
    t3 = time.perf_counter()
    run.history.append(entry)
    if entry["score"] > run.best_score:
        run.best_score, run.best_epoch = entry["score"], epoch
        save_best(run, epoch)
    patience = cfg.early_stopping_patience
    run.stopped = patience is not None and epoch - run.best_epoch >= patience
    write_run_checkpoint(run, epoch)
    t4 = time.perf_counter()
    run.epoch_seconds[epoch] = t4 - t0
    run.timings[epoch] = {
        "steps": t1 - t0,
        "mining": t2 - t1,
        "validation": t3 - t2,
        "checkpoint": t4 - t3,
    }
    post = {"loss": f"{entry['loss']:.4f}"}
    if run.dev.has_val:
        post["val_R@1"] = f"{entry['val_r1']:.2f}"
    bar.set_postfix(post)
    bar.close()
    if on_epoch_end is not None:
        on_epoch_end(epoch, {k: v for k, v in entry.items() if k != "score"})


def _train_steps(run: TrainRun, batches: list[np.ndarray], bar: Any, progress: bool) -> list[float]:
    """One pass over ``batches``; returns the mean ``[loss, t2v, v2t, hard]``."""
    dev, gather = run.dev, run.gather
    run.head.train()
    sums = torch.zeros(4, dtype=torch.float64, device=run.device)
    for step, batch in enumerate(batches):
        idx = torch.from_numpy(batch).to(run.device, non_blocking=True)
        vid = dev.train_caption_video.index_select(0, idx)
        with run.autocast():
            text = run.head(gather("captions", dev.train_captions, idx))
        hfeat = hid = None
        if run.hard_negs is not None:
            hid = run.hard_negs.index_select(0, idx)
            hfeat = gather("hard", dev.train_videos, hid).view(*hid.shape, -1)
        loss, parts = run.loss_fn(text, gather("videos", dev.train_videos, vid), vid, hfeat, hid)
        run.optimizer.zero_grad(set_to_none=True)
        run.scaler.scale(loss).backward()
        run.scaler.step(run.optimizer)
        run.scaler.update()
        run.scheduler.step()
        if run.miner is not None:
            run.miner.update(idx, text)
        sums += torch.stack([loss.detach(), parts["t2v"], parts["v2t"], parts["hard"]])
        bar.update(1)
        if progress and (step % 50 == 49):
            bar.set_postfix(loss=f"{float(sums[0]) / (step + 1):.4f}")
    return (sums / max(1, len(batches))).tolist()


# ----------------------------------------------------------------------------- validation


def _epoch_record(run: TrainRun, epoch: int, means: list[float], steps: int) -> dict[str, Any]:
    """The epoch's history entry: losses, schedule, validation metrics and its ``score``
    (val R@1, or minus the training loss without validation data)."""
    entry: dict[str, Any] = {
        "epoch": epoch,
        "loss": means[0],
        "loss_t2v": means[1],
        "loss_v2t": means[2],
        "loss_hard": means[3],
        "lr": float(run.scheduler.get_last_lr()[0]),
        "temperature": run.loss_fn.temperature(),
        "steps": steps,
    }
    if run.dev.has_val:
        val = _validate(run)
        entry.update({f"val_{k}": v for k, v in val.items()})
        entry["score"] = val["r1"]
    else:
        entry["score"] = -means[0]
    return entry


@torch.no_grad()
def _validate(run: TrainRun) -> dict[str, float]:
    """Val R@k of the head (eval mode, chunked projection + ranking)."""
    head, dev = run.head, run.dev
    head.eval()

    def encode(x: torch.Tensor) -> torch.Tensor:
        with run.autocast():
            return head(x).float()

    try:
        return retrieval_metrics(
            dev.val_captions, dev.val_videos, dev.val_caption_video, encode=encode
        )
    finally:
        head.train()


# ----------------------------------------------------------------------------- finish


def _finish(run: TrainRun) -> TrainResult:
    if run.best_epoch < 0:
        raise RuntimeError("training finished without any epoch")
    clean = [{k: v for k, v in h.items() if k != "score"} for h in run.history]
    return TrainResult(
        path=run.out_dir,
        checkpoint_path=run.ckpt_dir / CHECKPOINT_FILE,
        history=clean,
        best_epoch=run.best_epoch,
        best_metrics=clean[run.best_epoch],
        initial_metrics=run.initial,
        stopped_early=run.stopped,
        epoch_seconds=run.epoch_seconds,
        timings=run.timings,
        head_config=run.hc,
    )
