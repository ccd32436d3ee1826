"""State of one training run, and how it is set up, resumed and checkpointed.

:func:`setup_run` builds a :class:`TrainRun` (device data, a freshly seeded head, loss,
optimiser, schedule and, in global mode, the hard-negative miner); :func:`resume_run` loads a
checkpoint of the same run into it; :func:`save_best` and :func:`write_run_checkpoint` write
the best head and the per-epoch checkpoint. The loop itself is :mod:`.train`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vtrsearch.heads.config import HeadConfig
from vtrsearch.heads.io import save_head
from vtrsearch.heads.module import build_head

from .checkpoint import CHECKPOINT_DIR, CheckpointError, strip_prefix, write_checkpoint
from .config import TrainConfig
from .data import PairData, epoch_rng
from .loss import ContrastiveLoss
from .mining import HardNegativeMiner

__all__ = [
    "RESUMABLE_CHANGES",
    "DeviceData",
    "Gather",
    "TrainRun",
    "resume_run",
    "save_best",
    "setup_run",
    "write_run_checkpoint",
]

# Head config fields that fix the weights' shapes and behaviour: a resumed run keeps them.
HEAD_ARCHITECTURE = ("in_dim", "out_dim", "hidden_dim", "depth", "residual", "normalize_input")

# Config fields that may change between a run and its resumption.
RESUMABLE_CHANGES = frozenset({"epochs", "early_stopping_patience", "device", "amp"})


def _lr_lambda(cfg: TrainConfig, total_steps: int) -> Callable[[int], float]:
    def fn(step: int) -> float:
        if cfg.warmup_steps > 0 and step < cfg.warmup_steps:
            return (step + 1) / cfg.warmup_steps
        if cfg.schedule == "constant":
            return 1.0
        span = max(1, total_steps - cfg.warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - cfg.warmup_steps) / span)))

    return fn


class Gather:
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


@dataclass
class DeviceData:
    """The split's tensors on the training device (local video numbering per split)."""

    train_videos: torch.Tensor  # (Vt, out_dim) training gallery: targets and mining pool
    train_captions: torch.Tensor  # (Nt, in_dim)
    train_caption_video: torch.Tensor  # (Nt,) row in train_videos
    train_caption_video_np: np.ndarray  # the same on the host, for batching
    val_videos: torch.Tensor  # (Vv, out_dim) validation gallery
    val_captions: torch.Tensor  # (Nv, in_dim)
    val_caption_video: torch.Tensor  # (Nv,) row in val_videos

    @property
    def has_val(self) -> bool:
        """Whether there is anything to validate on."""
        return self.val_captions.shape[0] > 0


@dataclass
class TrainRun:
    """One training run: configs, device data, model and optimiser, and progress so far."""

    cfg: TrainConfig
    hc: HeadConfig
    data: PairData
    device: torch.device
    out_dir: Path
    dev: DeviceData
    autocast: Callable[[], Any]
    scaler: Any
    head: Any
    loss_fn: ContrastiveLoss
    optimizer: torch.optim.Optimizer
    scheduler: Any
    fingerprint: dict[str, int]
    miner: HardNegativeMiner | None = None
    hard_negs: torch.Tensor | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    initial: dict[str, float] = field(default_factory=dict)
    best_epoch: int = -1
    best_score: float = -math.inf
    start_epoch: int = 0
    stopped: bool = False
    epoch_seconds: dict[int, float] = field(default_factory=dict)
    timings: dict[int, dict[str, float]] = field(default_factory=dict)
    gather: Gather = field(default_factory=Gather)

    @property
    def ckpt_dir(self) -> Path:
        """``<out_dir>/checkpoint``."""
        return self.out_dir / CHECKPOINT_DIR


# ----------------------------------------------------------------------------- setup


def _device_data(data: PairData, device: torch.device) -> DeviceData:
    def local_rows(videos: np.ndarray) -> np.ndarray:
        local = np.full(data.video_vectors.shape[0], -1, dtype=np.int64)
        local[videos] = np.arange(videos.size)
        return local

    tr_video_np = local_rows(data.train_videos)[data.caption_video[data.train_captions]]
    va_video_np = local_rows(data.val_videos)[data.caption_video[data.val_captions]]
    return DeviceData(
        train_videos=torch.from_numpy(data.video_vectors[data.train_videos]).to(device),
        train_captions=torch.from_numpy(data.caption_vectors[data.train_captions]).to(device),
        train_caption_video=torch.from_numpy(tr_video_np).to(device),
        train_caption_video_np=tr_video_np,
        val_videos=torch.from_numpy(data.video_vectors[data.val_videos]).to(device),
        val_captions=torch.from_numpy(data.caption_vectors[data.val_captions]).to(device),
        val_caption_video=torch.from_numpy(va_video_np).to(device),
    )


def _amp_setup(cfg: TrainConfig, device: torch.device) -> tuple[Callable[[], Any], Any]:
    """``(autocast context factory, grad scaler)``: bf16/fp16 autocast on CUDA, else none."""
    use_amp = cfg.amp and device.type == "cuda"
    amp_dtype = torch.bfloat16 if use_amp and torch.cuda.is_bf16_supported() else torch.float16
    autocast = (lambda: torch.autocast("cuda", dtype=amp_dtype)) if use_amp else nullcontext
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)
    return autocast, scaler


def _make_optimizer(
    head: torch.nn.Module, loss_fn: ContrastiveLoss, cfg: TrainConfig, total_steps: int
) -> tuple[torch.optim.Optimizer, Any]:
    """AdamW (weight decay on weight matrices only) and its warm-up + cosine/constant schedule."""
    decay = [p for p in head.parameters() if p.ndim >= 2]
    no_decay = [p for p in head.parameters() if p.ndim < 2] + list(loss_fn.parameters())
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": cfg.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=cfg.lr,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(cfg, total_steps))
    return optimizer, scheduler


def setup_run(
    data: PairData, hc: HeadConfig, cfg: TrainConfig, device: torch.device, out_dir: Path
) -> TrainRun:
    """Device data, a freshly seeded head, loss, optimiser and (global mode) the miner."""
    autocast, scaler = _amp_setup(cfg, device)
    dev = _device_data(data, device)
    torch.manual_seed(cfg.seed)
    head = build_head(hc).to(device)
    k_hard = cfg.num_hard_negatives if cfg.hard_negatives != "none" else 0
    loss_fn = ContrastiveLoss(cfg.temperature, cfg.learnable_temperature, k_hard, cfg.hard_weight)
    loss_fn.to(device)
    steps_per_epoch = math.ceil(data.train_captions.size / cfg.batch_size)
    optimizer, scheduler = _make_optimizer(head, loss_fn, cfg, steps_per_epoch * cfg.epochs)
    run = TrainRun(
        cfg=cfg,
        hc=hc,
        data=data,
        device=device,
        out_dir=out_dir,
        dev=dev,
        autocast=autocast,
        scaler=scaler,
        head=head,
        loss_fn=loss_fn,
        optimizer=optimizer,
        scheduler=scheduler,
        fingerprint={
            "n_captions": int(data.caption_vectors.shape[0]),
            "n_videos": int(data.video_vectors.shape[0]),
            "n_train_videos": int(data.train_videos.size),
            "n_val_videos": int(data.val_videos.size),
            "caption_video_sum": int(data.caption_video.sum()),
        },
    )
    if cfg.hard_negatives == "global" and k_hard > 0:
        run.miner = HardNegativeMiner(
            dev.train_caption_video,
            dev.train_videos,
            k_hard,
            cfg.mining_pool,
            getattr(torch, cfg.mining_dtype),
        )
        if hc.residual:  # an untrained residual head is the identity: mine with base vectors
            run.miner.fill(torch.nn.functional.normalize(dev.train_captions, dim=-1))
            run.hard_negs = run.miner.mine()
    return run


# ----------------------------------------------------------------------------- resume


def resume_run(run: TrainRun, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    """Restore model, optimiser, schedule and progress from a checkpoint of the same run.

    Raises:
        CheckpointError: The checkpoint was made with another config or on other data.
    """
    stored = meta["train_config"]
    diff = sorted(
        k for k, v in asdict(run.cfg).items() if k not in RESUMABLE_CHANGES and stored.get(k) != v
    )
    if diff:
        raise CheckpointError(f"cannot resume {run.ckpt_dir}: config changed in {diff}")
    if meta["fingerprint"] != run.fingerprint or meta["head_config"]["in_dim"] != run.hc.in_dim:
        raise CheckpointError(f"cannot resume {run.ckpt_dir}: it was trained on other data")
    stored_head = meta["head_config"]
    changed = [
        f"{k} (checkpoint {stored_head.get(k)!r}, now {getattr(run.hc, k)!r})"
        for k in HEAD_ARCHITECTURE
        if stored_head.get(k) != getattr(run.hc, k)
    ]
    if changed:
        raise CheckpointError(
            f"cannot resume {run.ckpt_dir}: the head changed in {', '.join(changed)}; "
            "use the original settings, or start afresh without --resume (or another --out)"
        )
    try:
        run.head.load_state_dict(strip_prefix(tensors, "head."))
        run.loss_fn.load_state_dict(strip_prefix(tensors, "loss."))
    except RuntimeError as exc:  # torch lists every mismatched tensor: keep the first line
        first = str(exc).strip().splitlines()[0]
        raise CheckpointError(
            f"cannot resume {run.ckpt_dir}: its weights do not fit ({first})"
        ) from exc
    run.optimizer.load_state_dict(meta["optimizer_state"])
    run.scheduler.load_state_dict(meta["scheduler"])
    if meta.get("scaler"):
        run.scaler.load_state_dict(meta["scaler"])
    hard = tensors.get("hard_negatives")
    run.hard_negs = hard.to(run.device) if hard is not None else None
    run.history, run.initial = meta["history"], meta["initial_metrics"]
    run.best_epoch, run.stopped = meta["best_epoch"], meta["stopped_early"]
    run.best_score = run.history[run.best_epoch]["score"] if run.best_epoch >= 0 else -math.inf
    run.start_epoch = meta["epoch"] + 1


# ----------------------------------------------------------------------------- checkpoint


def save_best(run: TrainRun, epoch: int) -> None:
    """Save the head of ``epoch`` as the head directory, with its training record."""
    metrics = {f"untrained_val_{k}": v for k, v in run.initial.items()}
    metrics.update({k: v for k, v in run.history[epoch].items() if k != "score"})
    training = (
        dict(run.hc.training)
        | asdict(run.cfg)
        | {
            "device": str(run.device),
            "split_source": run.data.split_source,
            **run.fingerprint,
            "n_train_captions": int(run.data.train_captions.size),
            "n_val_captions": int(run.data.val_captions.size),
            "best_epoch": epoch,
        }
    )
    save_head(run.head, replace(run.hc, training=training, metrics=metrics), run.out_dir)


def write_run_checkpoint(run: TrainRun, epoch: int) -> None:
    """Atomically write everything ``resume`` needs after ``epoch``."""
    extra = {"rng.torch": torch.get_rng_state()}
    if run.device.type == "cuda":
        extra["rng.cuda"] = torch.cuda.get_rng_state(run.device)
    if run.hard_negs is not None:
        extra["hard_negatives"] = run.hard_negs
    write_checkpoint(
        run.ckpt_dir,
        head=run.head,
        loss_fn=run.loss_fn,
        optimizer=run.optimizer,
        extra_tensors=extra,
        meta={
            "epoch": epoch,
            "history": run.history,
            "best_epoch": run.best_epoch,
            "stopped_early": run.stopped,
            "initial_metrics": run.initial,
            "scheduler": run.scheduler.state_dict(),
            "scaler": run.scaler.state_dict() if run.scaler.is_enabled() else None,
            "numpy_rng": epoch_rng(run.cfg.seed, epoch).bit_generator.state,
            "train_config": asdict(run.cfg),
            "head_config": asdict(run.hc),
            "fingerprint": run.fingerprint,
        },
    )
