"""``vtrsearch train``: argparse wiring (only argparse at import; the trainer loads on use)."""

from __future__ import annotations

import argparse

from .args import at_least, non_negative_int, positive_int


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register the ``train`` command."""
    p = sub.add_parser(
        "train",
        help="fine-tune a query projection head (InfoNCE + hard negatives)",
        description="Train a projection head from a frozen text encoder's cached caption "
        "vectors into the index's video space. Train videos train, validate videos validate "
        "(or a seeded hold-out of train videos); test videos are never used.",
    )
    p.add_argument("index", help="index path or URI")
    p.add_argument("--base-encoder", metavar="SPEC", help="frozen text encoder (default: index's)")
    p.add_argument("--out", required=True, metavar="DIR", help="head directory to write")
    p.add_argument("--name", help="name the head is registered under (default: DIR's name)")
    p.add_argument(
        "--epochs",
        type=positive_int,
        help="epochs (default: 12, or more on small data so that training makes at least "
        "300 optimiser steps)",
    )
    p.add_argument("--batch-size", type=at_least(2, "contrastive batches"), default=256)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument(
        "--warmup-steps",
        type=non_negative_int,
        help="linear warm-up steps (default: 10%% of the optimiser steps, at most 100)",
    )
    p.add_argument("--schedule", choices=["cosine", "constant"], default="cosine")
    p.add_argument(
        "--hard-negatives",
        choices=["batch", "global", "none"],
        default="batch",
        help="hard negatives from the batch, mined over all train videos, or none",
    )
    p.add_argument("--num-hard-negatives", type=non_negative_int, default=8)
    p.add_argument("--temperature", type=float, default=0.07)
    p.add_argument("--learnable-temperature", action="store_true")
    p.add_argument(
        "--early-stopping",
        type=positive_int,
        metavar="EPOCHS",
        help="stop after this many epochs without a better validation R@1",
    )
    p.add_argument("--hidden-dim", type=positive_int, default=1024)
    p.add_argument("--depth", type=positive_int, default=2)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", help="torch device (default: cuda when available, else cpu)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run")


def cmd_train(args: argparse.Namespace) -> int:
    """Run ``vtrsearch train``."""
    from ..heads.config import HeadConfig
    from ..index.index import Index
    from ..tables import format_table
    from ..trainer import TrainConfig
    from ..trainer.from_index import train_from_index

    index = Index.open(args.index)
    config = TrainConfig(
        lr=args.lr,
        weight_decay=args.weight_decay,
        batch_size=args.batch_size,
        epochs=args.epochs,
        warmup_steps=args.warmup_steps,
        schedule=args.schedule,
        seed=args.seed,
        num_hard_negatives=args.num_hard_negatives,
        hard_negatives=args.hard_negatives,
        temperature=args.temperature,
        learnable_temperature=args.learnable_temperature,
        early_stopping_patience=args.early_stopping,
        device=args.device,
    )
    spec = args.base_encoder or index.encoder_spec
    head_config = None
    if spec is not None:
        from ..encoders import load_encoder

        # The dim comes from the model's config (open_clip model config, transformers
        # config.json) when one tells it; only otherwise does reading it load the weights.
        in_dim = int(load_encoder(spec).dim)
        head_config = HeadConfig(
            in_dim=in_dim,
            out_dim=index.dim,
            hidden_dim=args.hidden_dim,
            depth=args.depth,
            dropout=args.dropout,
        )
    result = train_from_index(
        index,
        args.out,
        base_encoder=spec,
        config=config,
        head_config=head_config,
        name=args.name,
        resume=args.resume,
    )
    rows = [
        [h["epoch"] + 1, h["loss"], h.get("val_r1"), h.get("val_r5"), h.get("val_medr")]
        for h in result.history
    ]
    print(format_table(["epoch", "loss", "val R@1", "val R@5", "val MedR"], rows))
    init = result.initial_metrics
    print(
        f"untrained head: val R@1 {init.get('r1', float('nan')):.1f}; best epoch "
        f"{result.best_epoch + 1}: val R@1 {result.best_metrics.get('val_r1', float('nan')):.1f}"
    )
    print(
        f"head saved to {result.path} (registered as "
        f"{args.name or result.path.name!r}); use it with --head {result.path}"
    )
    return 0
