"""Symmetric InfoNCE with hard negatives for text -> video projection heads.

Notation for a batch of ``B`` captions (row ``i`` = caption ``i``) and their ``B`` positive
videos (column ``j`` = the positive video of caption ``j``), with logit scale ``s = 1/T``:

* ``t2v``: row ``i`` is ``s * <t_i, v_j>`` over the in-batch videos ``j`` plus, when given,
  ``s * <t_i, h_ik>`` over the caption's ``K`` extra (globally mined) videos. Cross-entropy
  with target ``j = i``.
* ``v2t``: column ``j`` over the in-batch captions ``i``; target ``i = j``.
* ``hard``: cross-entropy over ``[positive, the num_hard_negatives highest-scoring negatives
  of the t2v row]`` (a focused term that weights the hardest negatives more). Skipped when
  ``num_hard_negatives == 0``.
* ``loss = (t2v + v2t) / 2 + hard_weight * hard``.

Masking (defensive: the sampler already puts at most one caption per video in a batch): an
entry whose video id equals the row's own video id, other than the positive itself, is set to
``-inf`` in both directions, so captions of the same video are never negatives of each other.
Extra columns equal to the caption's own video, or duplicating an in-batch video, are masked
too (the latter is already a negative in the row; counting it twice would double its weight).
Logits are computed in float32 even under autocast.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

__all__ = ["ContrastiveLoss", "MAX_LOGIT_SCALE", "contrastive_loss"]

#: Upper bound for a learnable logit scale (as in CLIP).
MAX_LOGIT_SCALE = 100.0


class _InfoNCE(torch.autograd.Function):
    """The loss of :func:`contrastive_loss` with a hand-written backward.

    One autograd node instead of ~25 small ones: the backward is two matmuls and a few
    element-wise ops on ``(B, B + K)`` (the gradient of each cross-entropy is
    ``softmax - onehot``), which keeps the loss cheap next to the head on CPU.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        text: torch.Tensor,
        video: torch.Tensor,
        feats: torch.Tensor | None,
        scale: torch.Tensor,
        dup: torch.Tensor,
        bad: torch.Tensor | None,
        k: int,
        weight: float,
    ) -> tuple[torch.Tensor, ...]:
        n = text.shape[0]
        sim = text @ video.T
        logits = (sim * scale).masked_fill_(dup, float("-inf"))
        esim = None
        row = logits
        if feats is not None:
            esim = torch.bmm(text.unsqueeze(1), feats.transpose(1, 2)).squeeze(1)
            row = torch.cat([logits, (esim * scale).masked_fill_(bad, float("-inf"))], dim=1)
        diag = logits.diagonal()
        lse_r = torch.logsumexp(row, dim=1)
        lse_c = torch.logsumexp(logits, dim=0)
        t2v = (lse_r - diag).mean()
        v2t = (lse_c - diag).mean()
        loss = 0.5 * (t2v + v2t)
        k = min(k, row.shape[1] - 1)
        top_i = hard_rows = lse_h = None
        if k > 0:
            negs = row.clone()
            negs[:, :n].diagonal().fill_(float("-inf"))
            top_v, top_i = negs.topk(k, dim=1)
            hard_rows = torch.cat([diag[:, None], top_v], dim=1)
            lse_h = torch.logsumexp(hard_rows, dim=1)
            hard = (lse_h - diag).mean()
            loss = loss + weight * hard
        else:
            hard = loss.new_zeros(())
        ctx.save_for_backward(
            text, video, feats, scale, sim, esim, row, lse_r, lse_c, top_i, hard_rows, lse_h
        )
        ctx.weight = weight
        parts = (t2v.detach(), v2t.detach(), hard.detach())
        ctx.mark_non_differentiable(*parts)
        return (loss, *parts)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor, *_: Any) -> tuple[torch.Tensor | None, ...]:
        (text, video, feats, scale, sim, esim, row, lse_r, lse_c, top_i, hard_rows, lse_h) = (
            ctx.saved_tensors
        )
        n = text.shape[0]
        c = 0.5 / n
        d_row = torch.exp(row - lse_r[:, None]).mul_(c)  # d t2v / d row
        d_log = d_row[:, :n]  # view: the in-batch block
        d_log.add_(torch.exp(row[:, :n] - lse_c[None, :]), alpha=c)  # + d v2t / d logits
        d_log.diagonal().sub_(2 * c)
        if top_i is not None:
            p_h = torch.exp(hard_rows - lse_h[:, None]).mul_(ctx.weight / n)
            d_log.diagonal().add_(p_h[:, 0] - ctx.weight / n)
            d_row.scatter_add_(1, top_i, p_h[:, 1:])
        d_row.mul_(grad)  # masked entries have zero softmax weight, hence zero gradient
        d_sim = d_row[:, :n] * scale
        d_esim = d_row[:, n:] * scale if feats is not None else None
        g_text = g_video = g_feats = g_scale = None
        if ctx.needs_input_grad[0]:
            g_text = d_sim @ video
            if d_esim is not None:
                g_text += torch.bmm(d_esim.unsqueeze(1), feats).squeeze(1)
        if ctx.needs_input_grad[1]:
            g_video = d_sim.T @ text
        if ctx.needs_input_grad[2] and d_esim is not None:
            g_feats = d_esim[:, :, None] * text[:, None, :]
        if ctx.needs_input_grad[3]:
            g_scale = (d_row[:, :n] * sim).sum()
            if esim is not None:
                g_scale = g_scale + (d_row[:, n:] * esim).sum()
        return g_text, g_video, g_feats, g_scale, None, None, None, None


def contrastive_loss(
    text: torch.Tensor,
    video: torch.Tensor,
    video_ids: torch.Tensor,
    logit_scale: torch.Tensor | float,
    hard_neg_feats: torch.Tensor | None = None,
    hard_neg_ids: torch.Tensor | None = None,
    num_hard_negatives: int = 0,
    hard_weight: float = 1.0,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Symmetric InfoNCE with optional appended (mined) negatives and a hard-negative term.

    Args:
        text: ``(B, D)`` L2-normalised caption features (projected).
        video: ``(B, D)`` L2-normalised video features; row ``i`` is caption ``i``'s positive.
        video_ids: ``(B,)`` integer video id of each row (used for duplicate masking).
        logit_scale: ``1 / temperature`` (float or scalar tensor, may require grad).
        hard_neg_feats: Optional ``(B, K, D)`` features of extra negative videos per caption.
        hard_neg_ids: ``(B, K)`` video ids of ``hard_neg_feats`` (required with it).
        num_hard_negatives: Size of the hard-negative term's negative set (0 disables it).
        hard_weight: Weight of the hard-negative term.

    Returns:
        ``(loss, parts)``: the scalar loss and detached tensors ``t2v``, ``v2t``, ``hard``.
    """
    n = text.shape[0]
    if video.shape[0] != n or video_ids.shape[0] != n:
        raise ValueError("text, video and video_ids must have the same batch size")
    text = text.float()
    ids = video_ids.to(text.device)
    dup = ids[:, None] == ids[None, :]
    dup.fill_diagonal_(False)
    scale = torch.as_tensor(logit_scale, dtype=torch.float32, device=text.device)
    feats = bad = None
    if hard_neg_feats is not None:
        if hard_neg_ids is None:
            raise ValueError("hard_neg_ids is required with hard_neg_feats")
        feats = hard_neg_feats.float()
        # The caption's own video, or one already in the batch (already a negative in the
        # row; a second copy would double its weight).
        bad = torch.isin(hard_neg_ids.to(text.device), ids)
    loss, t2v, v2t, hard = _InfoNCE.apply(
        text, video.float(), feats, scale, dup, bad, int(num_hard_negatives), float(hard_weight)
    )
    return loss, {"t2v": t2v, "v2t": v2t, "hard": hard}


class ContrastiveLoss(nn.Module):
    """:func:`contrastive_loss` with a fixed or learnable temperature.

    Args:
        temperature: Initial (or fixed) softmax temperature.
        learnable_temperature: Learn ``log(1/T)`` (clamped to ``1/T <= 100``).
        num_hard_negatives: Size of the hard-negative term's negative set.
        hard_weight: Weight of the hard-negative term.
    """

    def __init__(
        self,
        temperature: float = 0.07,
        learnable_temperature: bool = False,
        num_hard_negatives: int = 8,
        hard_weight: float = 1.0,
    ) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        init = torch.tensor(math.log(1.0 / temperature), dtype=torch.float32)
        if learnable_temperature:
            self.log_scale = nn.Parameter(init)
        else:
            self.register_buffer("log_scale", init)
        self.num_hard_negatives = int(num_hard_negatives)
        self.hard_weight = float(hard_weight)

    def logit_scale(self) -> torch.Tensor:
        """Current ``1 / temperature`` (clamped)."""
        return self.log_scale.clamp(max=math.log(MAX_LOGIT_SCALE)).exp()

    def temperature(self) -> float:
        """Current temperature as a float."""
        return float(1.0 / self.logit_scale().detach())

    def forward(
        self,
        text: torch.Tensor,
        video: torch.Tensor,
        video_ids: torch.Tensor,
        hard_neg_feats: torch.Tensor | None = None,
        hard_neg_ids: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Compute the loss; see :func:`contrastive_loss`."""
        return contrastive_loss(
            text,
            video,
            video_ids,
            self.logit_scale(),
            hard_neg_feats=hard_neg_feats,
            hard_neg_ids=hard_neg_ids,
            num_hard_negatives=self.num_hard_negatives,
            hard_weight=self.hard_weight,
        )
