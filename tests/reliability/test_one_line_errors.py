"""Reliability, errors (issue 11, item 10): one ``error:`` line and exit status 2, no traceback.

Every case of the issue runs through the real command line (``vtrsearch.cli.main.main``);
argparse's own errors (``-k 0``) count as one error line too.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers.tiny_models import save_tiny_open_clip

from vtrsearch import Index
from vtrsearch.cli.main import main

DIM = 8


def run(argv: list[str], capsys) -> tuple[int, str]:
    """Exit status and stderr of ``vtrsearch ARGV`` (argparse errors exit through SystemExit)."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


def assert_one_error_line(code: int, err: str, *expected: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip() and "%|" not in line]
    errors = [line for line in lines if "error:" in line]
    assert len(errors) == 1, err
    assert lines[-1] == errors[0], err  # nothing dumped after the error line
    for text in expected:
        assert text in errors[0], errors[0]


@pytest.fixture
def index(tmp_path) -> str:
    uri = str(tmp_path / "idx")
    idx = Index.create(uri, dim=DIM, categories=["c"])
    rng = np.random.default_rng(0)
    ids = [f"v{i}" for i in range(6)]
    idx.add_videos(ids, rng.normal(size=(6, DIM)), categories=[0] * 6)
    idx.add_captions([f"{v}#0" for v in ids], ids, [f"caption of {v}" for v in ids])
    return uri


def _ingest_argv(tmp_path, features: str, *extra: str) -> list[str]:
    (tmp_path / "ann.json").write_text('[{"video_id": "v1", "caption": "a cat", "category": 0}]')
    return [
        "ingest",
        "msrvtt",
        str(tmp_path),
        "--annotations",
        str(tmp_path / "ann.json"),
        "--features",
        features,
        "--index",
        str(tmp_path / "new"),
        *extra,
    ]


def test_structured_dtype_features_are_one_error_line(tmp_path, capsys):
    feats = tmp_path / "feats"
    feats.mkdir()
    record = np.zeros(1, dtype=[("x", "f4", (DIM,))])
    np.save(feats / "v1.npy", record)
    assert_one_error_line(
        *run(_ingest_argv(tmp_path, str(feats)), capsys), "v1.npy", "plain numeric array"
    )
    np.save(tmp_path / "mat.npy", record)
    (tmp_path / "ids.txt").write_text("v1\n")
    argv = _ingest_argv(
        tmp_path, str(tmp_path / "mat.npy"), "--feature-ids", str(tmp_path / "ids.txt")
    )
    assert_one_error_line(*run(argv, capsys), "mat.npy", "plain numeric array")
    assert not (tmp_path / "new").exists()


def test_corrupt_npz_matrix_is_one_error_line(tmp_path, capsys):
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04" + b"garbage" * 20)
    argv = _ingest_argv(tmp_path, str(tmp_path / "bad.npz"))
    assert_one_error_line(*run(argv, capsys), "bad.npz", "cannot read features")


def test_index_folder_without_its_videos_table_is_one_error_line(index, capsys):
    import shutil
    from pathlib import Path

    shutil.rmtree(Path(index) / "videos.lance")
    assert_one_error_line(*run(["info", index], capsys), "damaged")


def test_invalid_utf8_query_is_one_error_line(tmp_path, capsys):
    uri = str(tmp_path / "mini")
    idx = Index.create(uri, dim=384, encoder="hf:minilm", feature_model="hf:minilm")
    idx.add_videos(["v1"], np.ones((1, 384)), categories=[0])
    # what Python makes of the bytes b"caf\xe9" in argv on a UTF-8 system (surrogateescape)
    query = b"caf\xe9 au lait".decode("utf-8", "surrogateescape")
    assert_one_error_line(*run(["search", uri, query], capsys), "not valid UTF-8", "caf\\xe9")


def test_zero_sizes_and_counts_are_one_error_line(index, tmp_path, capsys):
    for argv in (
        ["encode", index, "--encoder", "hf:minilm", "--chunk-size", "0"],
        ["encode", index, "--encoder", "hf:minilm", "--batch-size", "-1"],
        ["search", index, "--like", "v1", "-k", "0"],
        ["search", index, "--like", "v1", "-k", "-3"],
        ["demo", str(tmp_path / "demo"), "--videos", "3"],
        ["demo", str(tmp_path / "demo"), "--videos", "0"],
    ):
        code, err = run(argv, capsys)
        assert_one_error_line(code, err, "must be at least")
    assert not (tmp_path / "demo").exists()


def test_usage_mistakes_exit_with_status_2(index, capsys):
    """ "give a text QUERY" and "video ... is not in" exited with status 1."""
    assert_one_error_line(*run(["search", index], capsys), "give a text QUERY")
    assert_one_error_line(*run(["search", index, "--like", "nope"], capsys), "'nope' is not in")


def test_search_store_refuses_k_like_search(index):
    """k=0 / k<0 are errors on both paths (not empty lists); a huge k returns every video."""
    idx = Index.open(index)
    q = np.ones(DIM)
    for k in (0, -3, True, 2.5):
        with pytest.raises(ValueError, match="k \\(the number of results\\)"):
            idx.search(q, k=k)
        with pytest.raises(ValueError, match="k \\(the number of results\\)"):
            idx.search_store(q, k=k)
    for k in (10**12, 2**63, 10**30):
        assert [h.video_id for h in idx.search_store(q, k=k)] == [
            h.video_id for h in idx.search(q, k=k)
        ]


def test_resume_with_another_hidden_dim_is_one_error_line(synthetic_root, tmp_path, capsys):
    """--resume after changing --hidden-dim dumped torch's whole state_dict report."""
    spec, _ = save_tiny_open_clip(tmp_path / "oc", name="vtr-tiny-resume")
    uri = str(tmp_path / "idx")
    argv = ["ingest", "msrvtt", str(synthetic_root), "--index", uri, "--feature-model", spec]
    assert main(argv) == 0
    train = [
        "train",
        uri,
        "--base-encoder",
        spec,
        "--out",
        str(tmp_path / "head"),
        "--epochs",
        "1",
        "--batch-size",
        "16",
    ]
    assert main([*train, "--hidden-dim", "16"]) == 0
    capsys.readouterr()
    code, err = run([*train, "--hidden-dim", "32", "--resume"], capsys)
    assert_one_error_line(code, err, "cannot resume", "hidden_dim (checkpoint 16, now 32)")
