"""``evaluate_index(via_index=True, via_mode="ann")`` / ``vtrsearch eval --via-index --mode
ann``: the serving-path check through the ANN index reports what the approximation costs."""

from __future__ import annotations

import argparse

import pytest
from helpers.eval_data import MINILM, build_onek_index

from vtrsearch import Index, load_encoder
from vtrsearch.cli.eval import add_parsers, cmd_eval
from vtrsearch.eval import evaluate_index
from vtrsearch.index.ann import AnnNotBuiltError


@pytest.fixture(scope="module")
def onek(msrvtt_1k_json, tmp_path_factory) -> Index:
    return build_onek_index(
        msrvtt_1k_json, tmp_path_factory.mktemp("onek-ann"), load_encoder(MINILM), per_category=7
    )


def test_via_index_through_ann_reports_the_difference_from_exact(onek, capsys):
    with pytest.raises(AnnNotBuiltError, match="vtrsearch build-ann"):
        evaluate_index(onek, split="test", via_index=True, via_mode="ann", progress=False)
    with pytest.raises(ValueError, match="add via_index=True"):
        evaluate_index(onek, split="test", via_mode="ann", progress=False)
    # a deliberately coarse ANN index (1 of 4 lists probed, no rescore) so it costs recall
    onek.build_ann("faiss-ivf-sq8", nlist=4, nprobe=1, rescore=0)
    report = evaluate_index(
        onek, split="test", via_index=True, via_mode="ann", store_sample=0, progress=False
    )
    via = report.row("baseline").via_index
    assert via["path"] == "Index.search_many (ANN faiss-ivf-sq8)"
    exact = report.row("baseline").metrics["t2v"]
    for k in ("1", "5", "10"):
        assert via["exact_recall"][k] == pytest.approx(exact.recall(int(k)))
        assert via["difference"][k] == pytest.approx(via["recall"][k] - via["exact_recall"][k])
    ann = via["ann"]
    assert ann["kind"] == "faiss-ivf-sq8" and ann["params"]["nprobe"] == 1
    assert 0.0 < ann["overlap"] < 1.0  # one list of four: approximate, and says so
    assert via["difference"]["10"] < 0 and "approximation costs" in via["explanation"]
    assert "ANN vs exact: top-10 overlap" in report.format_via_index()
    # the CLI prints the same lines
    parser = argparse.ArgumentParser()
    add_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["eval", onek.uri, "--via-index", "--mode", "ann", "--direction", "t2v", "--quiet"]
    )
    assert cmd_eval(args) == 0
    out = capsys.readouterr().out
    assert "Index.search_many (ANN faiss-ivf-sq8)" in out and "ANN vs exact" in out
