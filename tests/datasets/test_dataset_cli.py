"""The command line: ``ingest msvd`` / ``ingest activitynet`` and ``eval --protocol``."""

from __future__ import annotations

import json
import pickle

from vtrsearch.cli import main


def test_ingest_msvd_then_eval_protocol(planted_msvd, tmp_path, capsys) -> None:
    index = str(tmp_path / "msvd-index")
    argv = ["ingest", "msvd", str(planted_msvd.root), "--index", index, "--encoder", "hf:minilm"]
    assert main(argv) == 2  # a listed clip is not in the CSV
    assert "--allow-missing" in capsys.readouterr().err
    assert main([*argv, "--allow-missing"]) == 0
    out = capsys.readouterr().out
    assert "ingested 38 videos and 112 captions" in out
    assert "note: 41 rows not in English were left out" in out
    assert main(["eval", index, "--protocol", "msvd", "--out", str(tmp_path / "e"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"msvd: {index} (split 'test', 14 videos; t2v: 40 queries, v2t: 13")
    saved = json.loads((tmp_path / "e" / "metrics.json").read_text())
    assert saved["settings"]["protocol"] == "msvd"
    assert saved["rows"][0]["metrics"]["t2v"]["r1"] == planted_msvd.t2v_r1
    assert saved["rows"][0]["per_category"] == {}


def test_ingest_refuses_a_pickle_in_one_line(tmp_path, capsys) -> None:
    (tmp_path / "raw-captions.pkl").write_bytes(pickle.dumps({"v": [["a", "b"]]}))
    assert main(["ingest", "msvd", str(tmp_path), "--index", str(tmp_path / "i")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "never unpickles" in err


def test_activitynet_protocols_from_the_cli(planted_anet, anet_index, tmp_path, capsys) -> None:
    uri = anet_index.uri
    out_dir = tmp_path / "moments"
    argv = ["eval", uri, "--protocol", "activitynet-moments", "--quiet", "--out", str(out_dir)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "(split 'val_1', 19 videos; 62 sentence queries)" in out
    assert "across the corpus" in out
    saved = json.loads((out_dir / "metrics.json").read_text())
    assert saved["settings"]["protocol"] == "activitynet-moments"
    assert saved["settings"]["ks"] == [1, 5]
    assert main([*argv, "--k", "1,10"]) == 0
    capsys.readouterr()
    saved = json.loads((out_dir / "metrics.json").read_text())
    assert "r10_iou0.7" in saved["rows"][0]["metrics"]["video"]
    argv = ["eval", uri, "--protocol", "activitynet-paragraph", "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "1 of 19 paragraphs (5.3%) exceed its 256-token context" in out
    assert main([*argv, "--pool", "mean,max"]) == 0
    assert "; pool=mean,max)" in capsys.readouterr().out
    assert main(["eval", uri, "--protocol", "activitynet-moments", "--pool", "max"]) == 2
    assert "does not take --pool" in capsys.readouterr().err
    assert main([*argv, "--rerank", "dsl"]) == 2
    assert "does not take --rerank" in capsys.readouterr().err
    assert main([*argv, "--split", "all"]) == 2
    assert "evaluates one split" in capsys.readouterr().err
    assert main([*argv, "--split", "val_2"]) == 2
    assert "unknown split 'val_2'" in capsys.readouterr().err


def test_plain_eval_of_an_uncategorised_index_has_no_category_rows(anet_index, capsys) -> None:
    assert main(["eval", anet_index.uri, "--split", "val_1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "no per-category breakdown: the index's videos have no categories" in out


def test_report_skips_the_category_figures(anet_index, tmp_path, capsys) -> None:
    argv = ["report", anet_index.uri, "--split", "val_1", "--out", str(tmp_path), "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "skipped category_recall_comparison.png: the index's videos have no categories" in out
    assert "skipped video_category_distribution_val_1.png: the index's videos have no" in out
    assert (tmp_path / "recall_comparison_chart.png").is_file()
    assert not (tmp_path / "category_recall_comparison.png").exists()
