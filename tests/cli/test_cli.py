"""The vtrsearch command: fast help, ingest/info/search, the demo, clean errors."""

from __future__ import annotations

import subprocess
import sys

from vtrsearch.cli.main import main


def test_help_is_instant_and_imports_nothing_heavy():
    code = (
        "import sys, contextlib, io\n"
        "from vtrsearch.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try: main(['--help'])\n"
        "    except SystemExit: pass\n"
        "heavy = [m for m in ('torch', 'lancedb', 'pyarrow', 'numpy', 'pandas', 'textual',"
        " 'open_clip', 'transformers', 'qdrant_client', 'matplotlib') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_ingest_info_search(synthetic_root, tmp_path, capsys):
    index = str(tmp_path / "idx")
    assert (
        main(
            [
                "ingest",
                "msrvtt",
                str(synthetic_root),
                "--index",
                index,
                "--feature-model",
                "synthetic",
            ]
        )
        == 0
    )
    assert "ingested 120 videos and 360 captions" in capsys.readouterr().out
    assert main(["info", index]) == 0
    out = capsys.readouterr().out
    assert "videos:         120" in out and "feature model:  synthetic" in out
    assert "precision:      float32 (auto: float32 up to 512 MiB" in out
    assert "memory-mapped cache" in out
    assert main(["info", index, "--precision", "int8"]) == 0
    out = capsys.readouterr().out
    assert "precision:      int8 (asked; top candidates re-scored in float32" in out
    assert (
        main(
            [
                "search",
                index,
                "--like",
                "video4",
                "-k",
                "3",
                "--category",
                "music",
                "--category",
                "7",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 + 3 and all(("music" in ln or "movie/comedy" in ln) for ln in lines[2:])


def test_errors_are_one_line_not_tracebacks(synthetic_root, tmp_path, capsys):
    index = str(tmp_path / "idx")
    main(["ingest", "msrvtt", str(synthetic_root), "--index", index])
    capsys.readouterr()
    assert main(["search", index, "--like", "video1", "--category", "x' OR '1'='1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown category") and "Traceback" not in err
    assert main(["info", str(tmp_path / "nope")]) == 2
    assert "no vtrsearch index" in capsys.readouterr().err


def test_demo_runs_offline(tmp_path, capsys):
    assert main(["demo", str(tmp_path / "demo"), "--videos", "80"]) == 0
    out = capsys.readouterr().out
    assert "SYNTHETIC" in out and "ingested 80 videos" in out
    assert "with 960 frame segments" in out  # 12 frame features per video become moments
    # one moment search: the planted event's text finds the planted frames first
    assert "== 8. moment search" in out and "top moment is the planted one: yes" in out
    assert (tmp_path / "demo" / "synthetic-msrvtt" / "SYNTHETIC_README.txt").exists()
