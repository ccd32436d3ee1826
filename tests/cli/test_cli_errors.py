"""CLI errors: one ``error:`` line and exit status 2; ``--debug`` / VTRSEARCH_DEBUG=1 show the
traceback (a RuntimeError raised by torch is not flattened beyond recovery)."""

from __future__ import annotations

import socket

import pytest
from helpers.tiny_models import save_tiny_open_clip

from vtrsearch.cli.main import main

TORCH_DEVICE_ERROR = "device type at start of device string: foo"
HINT = "(run with --debug for the traceback)"


@pytest.fixture(scope="module")
def tiny_index(tmp_path_factory, synthetic_root) -> str:
    """The synthetic index (32-d) with a tiny open_clip text encoder of the same width."""
    folder = tmp_path_factory.mktemp("cli-errors")
    spec, _ = save_tiny_open_clip(folder / "oc", name="vtr-tiny-cli-errors")
    index = str(folder / "idx")
    argv = ["ingest", "msrvtt", str(synthetic_root), "--index", index]
    assert main([*argv, "--encoder", spec, "--feature-model", spec]) == 0
    return index


def error_lines(err: str) -> list[str]:
    """The ``error:`` lines of stderr (progress bars also write there)."""
    return [line for line in err.splitlines() if line.startswith("error:")]


def train_on_bad_device(index: str, tmp_path, *extra: str) -> int:
    # torch.device("foo") raises a RuntimeError inside the trainer
    argv = ["train", index, "--out", str(tmp_path / "head"), "--epochs", "1", "--device", "foo"]
    return main([*argv, *extra])


def test_torch_runtime_error_is_one_line_with_hint(tiny_index, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("VTRSEARCH_DEBUG", raising=False)
    assert train_on_bad_device(tiny_index, tmp_path) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    [line] = error_lines(err)
    assert TORCH_DEVICE_ERROR in line and line.endswith(HINT)


@pytest.mark.parametrize("how", ["flag-after-command", "flag-before-command", "env"])
def test_debug_shows_the_traceback(tiny_index, tmp_path, capsys, monkeypatch, how):
    monkeypatch.delenv("VTRSEARCH_DEBUG", raising=False)
    if how == "flag-after-command":
        code = train_on_bad_device(tiny_index, tmp_path, "--debug")
    elif how == "flag-before-command":
        argv = ["train", tiny_index, "--out", str(tmp_path / "h"), "--device", "foo"]
        code = main(["--debug", *argv])
    else:
        monkeypatch.setenv("VTRSEARCH_DEBUG", "1")
        code = train_on_bad_device(tiny_index, tmp_path)
    assert code == 2
    err = capsys.readouterr().err
    tb = err.index("Traceback (most recent call last):")
    assert "torch" in err[tb:] and "RuntimeError: Expected one of cpu" in err[tb:]
    [line] = error_lines(err)
    assert TORCH_DEVICE_ERROR in line and HINT not in line
    assert err.index(line) > tb  # the one-line summary comes last


def test_designed_errors_need_no_debug_hint(tiny_index, capsys):
    assert main(["search", tiny_index, "--like", "video1", "--category", "nope"]) == 2
    [line] = error_lines(capsys.readouterr().err)
    assert line.startswith("error: unknown category") and HINT not in line


def test_offline_uncached_encoder_is_one_line_exit_2(tiny_index, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    argv = ["search", tiny_index, "a dog", "--encoder", "hf:vtrsearch-tests/not-cached"]
    assert main([*argv, "--allow-foreign-space"]) == 2
    err = capsys.readouterr().err
    [line] = error_lines(err)
    assert "would download the transformers model from Hugging Face repo vtrsearch-tests/" in line
    assert "unset HF_HUB_OFFLINE" in line and "Traceback" not in err
