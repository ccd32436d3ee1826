"""Reliability, model folders (issue 11, item 6): code shipped with a model never runs.

A transformers folder whose ``config.json`` maps its classes to ``*.py`` files in the folder
(``auto_map``) made transformers ask on the terminal, and answering "y" ran that code. Every
load now passes ``trust_remote_code=False`` and the error says so.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from vtrsearch import Index

DIM = 8
PAYLOAD = """
import pathlib
pathlib.Path({marker!r}).write_text("the model's own code ran")  # transformers runs a copy
from transformers import PretrainedConfig
class CustomConfig(PretrainedConfig):
    model_type = "vtr-custom"
"""


@pytest.fixture
def custom_code_model(tmp_path):
    """A model folder that can only load by running its own code (which leaves a marker)."""
    folder = tmp_path / "custom-model"
    folder.mkdir()
    auto_map = {
        "AutoConfig": "configuration_custom.CustomConfig",
        "AutoModel": "modeling_custom.CustomModel",
        "AutoTokenizer": ["tokenization_custom.CustomTokenizer", None],
    }
    config = {"model_type": "vtr-custom", "auto_map": auto_map, "hidden_size": DIM}
    (folder / "config.json").write_text(json.dumps(config))
    for name in ("configuration_custom", "modeling_custom", "tokenization_custom"):
        (folder / f"{name}.py").write_text(PAYLOAD.format(marker=str(folder / "RAN")))
    return folder


@pytest.fixture(autouse=True)
def _modules_cache(tmp_path, monkeypatch):
    """transformers copies a model's code here before running it: keep it out of ~/.cache."""
    monkeypatch.setenv("HF_MODULES_CACHE", str(tmp_path / "hf-modules"))


@pytest.fixture
def index(tmp_path) -> str:
    uri = str(tmp_path / "idx")
    idx = Index.create(uri, dim=DIM, categories=["c"])
    idx.add_videos(["v1"], np.ones((1, DIM)), categories=[0])
    return uri


def test_encoder_folder_with_custom_code_never_runs_it(custom_code_model, index):
    """`--encoder hf:/dir` with "y" typed at the prompt: no prompt, no code run, an error
    naming trust_remote_code, exit status 2."""
    argv = ["search", index, "a dog", "--encoder", f"hf:{custom_code_model}"]
    out = subprocess.run(
        [sys.executable, "-m", "vtrsearch", *argv],
        input="y\ny\ny\n",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert not (custom_code_model / "RAN").exists(), "the model's code ran"
    assert "Do you wish to run the custom code" not in out.stdout + out.stderr
    assert out.returncode == 2
    assert "trust_remote_code=False" in out.stderr and "never runs code" in out.stderr


def test_head_whose_base_encoder_has_custom_code_never_runs_it(custom_code_model, index, tmp_path):
    """A head config naming such a folder as its base encoder: the same refusal."""
    from vtrsearch.encoders import EncoderLoadError
    from vtrsearch.heads import HeadConfig, build_head, save_head

    cfg = HeadConfig(DIM, DIM, hidden_dim=4, depth=2, base_encoder=f"hf:{custom_code_model}")
    head = save_head(build_head(cfg), cfg, tmp_path / "head")
    idx = Index.open(index)
    with pytest.raises(EncoderLoadError, match="trust_remote_code=False"):
        idx.use_head(head)
        idx.search("a dog")
    assert not (custom_code_model / "RAN").exists(), "the model's code ran"
