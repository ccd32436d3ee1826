"""Training loop for the text -> video projection head.

``train_head`` trains on cached caption vectors (the base text encoder never runs here),
validates text-to-video R@1 on held-out videos every epoch, keeps the best epoch as a head
directory (``vtrsearch.heads.save_head``) and writes an atomic checkpoint every epoch so that
``resume=True`` continues a killed run exactly (bitwise on CPU): every epoch's shuffle and
dropout RNG derive from ``(seed, epoch)``, and mined hard negatives are checkpointed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vtrsearch.heads.config import HeadConfig
from vtrsearch.heads.io import save_head
from vtrsearch.heads.module import build_head

from .checkpoint import CHECKPOINT_DIR, CheckpointError, read_checkpoint, strip_prefix
from .checkpoint import write_checkpoint as _write_checkpoint
from .config import TrainConfig, TrainResult
from .data import PairData, epoch_batches, epoch_rng, prepare_data
from .evaluate import retrieval_metrics
from .loss import ContrastiveLoss
from .mining import HardNegativeMiner

__all__ = ["TrainConfig", "TrainResult", "train_head"]

# Config fields that may change between a run and its resumption.
_RESUMABLE_CHANGES = frozenset({"epochs", "early_stopping_patience", "device", "amp"})


def _lr_lambda(cfg: TrainConfig, total_steps: int) -> Callable[[int], float]:
    def fn(step: int) -> float:
        if cfg.warmup_steps > 0 and step < cfg.warmup_steps:
            return (step + 1) / cfg.warmup_steps
        if cfg.schedule == "constant":
            return 1.0
        span = max(1, total_steps - cfg.warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - cfg.warmup_steps) / span)))

    return fn


def _epoch_seed(seed: int, epoch: int) -> int:
    return int(epoch_rng(seed, epoch, stream=0x64726F70).integers(0, 2**62))


class _Gather:
    """``index_select`` into reused buffers: fresh multi-MB tensors every step page-fault on
    CPU (~0.5 ms per 8 MB here). A buffer is only rewritten after the previous step's
    backward has consumed it."""

    def __init__(self) -> None:
        self._bufs: dict[str, torch.Tensor] = {}

    def __call__(self, name: str, src: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        n = idx.numel()
        buf = self._bufs.get(name)
        if buf is None or buf.shape[0] < n:
            buf = torch.empty((n, *src.shape[1:]), dtype=src.dtype, device=src.device)
            self._bufs[name] = buf
        return torch.index_select(src, 0, idx.reshape(-1), out=buf[:n])


@torch.no_grad()
def _validate(
    head: Any,
    caps: torch.Tensor,
    videos: torch.Tensor,
    positive: torch.Tensor,
    autocast: Callable[[], Any],
) -> dict[str, float]:
    """Val R@k of the head (eval mode, chunked projection + ranking)."""
    head.eval()

    def encode(x: torch.Tensor) -> torch.Tensor:
        with autocast():
            return head(x).float()

    try:
        return retrieval_metrics(caps, videos, positive, encode=encode)
    finally:
        head.train()


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
    from contextlib import nullcontext

    from tqdm.auto import tqdm

    use_amp = cfg.amp and device.type == "cuda"
    amp_dtype = torch.bfloat16 if use_amp and torch.cuda.is_bf16_supported() else torch.float16
    autocast = (lambda: torch.autocast("cuda", dtype=amp_dtype)) if use_amp else nullcontext
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)

    tv = torch.from_numpy(data.video_vectors[data.train_videos]).to(device)
    local = np.full(data.video_vectors.shape[0], -1, dtype=np.int64)
    local[data.train_videos] = np.arange(data.train_videos.size)
    tr_video_np = local[data.caption_video[data.train_captions]]
    tr_caps = torch.from_numpy(data.caption_vectors[data.train_captions]).to(device)
    tr_video = torch.from_numpy(tr_video_np).to(device)
    vv = torch.from_numpy(data.video_vectors[data.val_videos]).to(device)
    vlocal = np.full(data.video_vectors.shape[0], -1, dtype=np.int64)
    vlocal[data.val_videos] = np.arange(data.val_videos.size)
    va_caps = torch.from_numpy(data.caption_vectors[data.val_captions]).to(device)
    va_video = torch.from_numpy(vlocal[data.caption_video[data.val_captions]]).to(device)
    has_val = data.val_captions.size > 0

    torch.manual_seed(cfg.seed)
    head = build_head(hc).to(device)
    k_hard = cfg.num_hard_negatives if cfg.hard_negatives != "none" else 0
    loss_fn = ContrastiveLoss(cfg.temperature, cfg.learnable_temperature, k_hard, cfg.hard_weight)
    loss_fn.to(device)
    decay = [p for p in head.parameters() if p.ndim >= 2]
    no_decay = [p for p in head.parameters() if p.ndim < 2] + list(loss_fn.parameters())
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": cfg.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=cfg.lr,
    )
    steps_per_epoch = math.ceil(data.train_captions.size / cfg.batch_size)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, _lr_lambda(cfg, steps_per_epoch * cfg.epochs)
    )
    fingerprint = {
        "n_captions": int(data.caption_vectors.shape[0]),
        "n_videos": int(data.video_vectors.shape[0]),
        "n_train_videos": int(data.train_videos.size),
        "n_val_videos": int(data.val_videos.size),
        "caption_video_sum": int(data.caption_video.sum()),
    }

    miner = hard_negs = None
    if cfg.hard_negatives == "global" and k_hard > 0:
        miner = HardNegativeMiner(
            tr_video, tv, k_hard, cfg.mining_pool, getattr(torch, cfg.mining_dtype)
        )
        if hc.residual:  # an untrained residual head is the identity: mine with base vectors
            miner.fill(torch.nn.functional.normalize(tr_caps, dim=-1))
            hard_negs = miner.mine()

    ckpt_dir = out_dir / CHECKPOINT_DIR
    history: list[dict[str, Any]] = []
    best_epoch, best_score, start_epoch, stopped = -1, -math.inf, 0, False
    initial: dict[str, float] = {}
    state = read_checkpoint(ckpt_dir) if resume else None
    if state is not None:
        tensors, meta = state
        stored = meta["train_config"]
        diff = sorted(
            k for k, v in asdict(cfg).items() if k not in _RESUMABLE_CHANGES and stored.get(k) != v
        )
        if diff:
            raise CheckpointError(f"cannot resume {ckpt_dir}: config changed in {diff}")
        if meta["fingerprint"] != fingerprint or meta["head_config"]["in_dim"] != hc.in_dim:
            raise CheckpointError(f"cannot resume {ckpt_dir}: it was trained on other data")
        head.load_state_dict(strip_prefix(tensors, "head."))
        loss_fn.load_state_dict(strip_prefix(tensors, "loss."))
        optimizer.load_state_dict(meta["optimizer_state"])
        scheduler.load_state_dict(meta["scheduler"])
        if meta.get("scaler"):
            scaler.load_state_dict(meta["scaler"])
        hard_negs = tensors["hard_negatives"].to(device) if "hard_negatives" in tensors else None
        history, initial = meta["history"], meta["initial_metrics"]
        best_epoch, stopped = meta["best_epoch"], meta["stopped_early"]
        best_score = history[best_epoch]["score"] if best_epoch >= 0 else -math.inf
        start_epoch = meta["epoch"] + 1
    elif has_val:
        initial = _validate(head, va_caps, vv, va_video, autocast)

    def save_best(epoch: int) -> None:
        metrics = {f"untrained_val_{k}": v for k, v in initial.items()}
        metrics.update({k: v for k, v in history[epoch].items() if k != "score"})
        training = (
            dict(hc.training)
            | asdict(cfg)
            | {
                "device": str(device),
                "split_source": data.split_source,
                **fingerprint,
                "n_train_captions": int(data.train_captions.size),
                "n_val_captions": int(data.val_captions.size),
                "best_epoch": epoch,
            }
        )
        save_head(head, replace(hc, training=training, metrics=metrics), out_dir)

    gather = _Gather()
    epoch_seconds: dict[int, float] = {}
    timings: dict[int, dict[str, float]] = {}
    for epoch in range(start_epoch, cfg.epochs):
        if stopped:
            break
        t0 = time.perf_counter()
        torch.manual_seed(_epoch_seed(cfg.seed, epoch))
        batches = epoch_batches(tr_video_np, cfg.batch_size, cfg.seed, epoch)
        head.train()
        sums = torch.zeros(4, dtype=torch.float64, device=device)
        bar = tqdm(
            total=len(batches),
            desc=f"epoch {epoch + 1}/{cfg.epochs}",
            disable=not progress,
            leave=True,
            dynamic_ncols=True,
        )
        for step, batch in enumerate(batches):
            idx = torch.from_numpy(batch).to(device, non_blocking=True)
            vid = tr_video.index_select(0, idx)
            with autocast():
                text = head(gather("captions", tr_caps, idx))
            hfeat = hid = None
            if hard_negs is not None:
                hid = hard_negs.index_select(0, idx)
                hfeat = gather("hard", tv, hid).view(*hid.shape, -1)
            loss, parts = loss_fn(text, gather("videos", tv, vid), vid, hfeat, hid)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            if miner is not None:
                miner.update(idx, text)
            sums += torch.stack([loss.detach(), parts["t2v"], parts["v2t"], parts["hard"]])
            bar.update(1)
            if progress and (step % 50 == 49):
                bar.set_postfix(loss=f"{float(sums[0]) / (step + 1):.4f}")
        means = (sums / max(1, len(batches))).tolist()
        t1 = time.perf_counter()
        if miner is not None:
            hard_negs = miner.mine()
        t2 = time.perf_counter()
        entry: dict[str, Any] = {
            "epoch": epoch,
            "loss": means[0],
            "loss_t2v": means[1],
            "loss_v2t": means[2],
            "loss_hard": means[3],
            "lr": float(scheduler.get_last_lr()[0]),
            "temperature": loss_fn.temperature(),
            "steps": len(batches),
        }
        if has_val:
            val = _validate(head, va_caps, vv, va_video, autocast)
            entry.update({f"val_{k}": v for k, v in val.items()})
            entry["score"] = val["r1"]
        else:
            entry["score"] = -means[0]
        t3 = time.perf_counter()
        history.append(entry)
        if entry["score"] > best_score:
            best_score, best_epoch = entry["score"], epoch
            save_best(epoch)
        patience = cfg.early_stopping_patience
        stopped = patience is not None and epoch - best_epoch >= patience
        extra = {"rng.torch": torch.get_rng_state()}
        if device.type == "cuda":
            extra["rng.cuda"] = torch.cuda.get_rng_state(device)
        if hard_negs is not None:
            extra["hard_negatives"] = hard_negs
        _write_checkpoint(
            ckpt_dir,
            head=head,
            loss_fn=loss_fn,
            optimizer=optimizer,
            extra_tensors=extra,
            meta={
                "epoch": epoch,
                "history": history,
                "best_epoch": best_epoch,
                "stopped_early": stopped,
                "initial_metrics": initial,
                "scheduler": scheduler.state_dict(),
                "scaler": scaler.state_dict() if scaler.is_enabled() else None,
                "numpy_rng": epoch_rng(cfg.seed, epoch).bit_generator.state,
                "train_config": asdict(cfg),
                "head_config": asdict(hc),
                "fingerprint": fingerprint,
            },
        )
        t4 = time.perf_counter()
        epoch_seconds[epoch] = t4 - t0
        timings[epoch] = {
            "steps": t1 - t0,
            "mining": t2 - t1,
            "validation": t3 - t2,
            "checkpoint": t4 - t3,
        }
        post = {"loss": f"{entry['loss']:.4f}"}
        if has_val:
            post["val_R@1"] = f"{entry['val_r1']:.2f}"
        bar.set_postfix(post)
        bar.close()
        if on_epoch_end is not None:
            on_epoch_end(epoch, {k: v for k, v in entry.items() if k != "score"})

    if best_epoch < 0:
        raise RuntimeError("training finished without any epoch")
    ckpt_path = ckpt_dir / "state.safetensors"
    clean = [{k: v for k, v in h.items() if k != "score"} for h in history]
    return TrainResult(
        path=out_dir,
        checkpoint_path=ckpt_path,
        history=clean,
        best_epoch=best_epoch,
        best_metrics=clean[best_epoch],
        initial_metrics=initial,
        stopped_early=stopped,
        epoch_seconds=epoch_seconds,
        timings=timings,
        head_config=hc,
    )
