"""Optional extras: the core works without them; a missing one is one clear error.

Each case runs in a fresh interpreter where the optional modules are made unimportable by a
``None`` entry in ``sys.modules`` (exactly what Python does for a module that is not there:
``ModuleNotFoundError``), so the packages installed here cannot leak in.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vtrsearch.extras import MissingExtraError, extra_for_module, require_extra

REPO = Path(__file__).resolve().parents[1]
OPTIONAL = (
    "torch",
    "torchvision",
    "open_clip",
    "transformers",
    "safetensors",
    "qdrant_client",
    "qdrant_edge",
    "textual",
    "matplotlib",
    "av",
    "PIL",
)


def run_without_extras(body: str, tmp_path: Path, blocked: tuple[str, ...] = OPTIONAL) -> dict:
    """Run ``body`` with ``blocked`` unimportable; it fills the dict ``out``, returned here."""
    code = "import sys, json\n"
    code += "".join(f"sys.modules[{name!r}] = None\n" for name in blocked)
    code += "out = {}\n" + textwrap.dedent(body) + "\nprint(json.dumps(out))\n"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_require_extra_names_the_install_command(monkeypatch) -> None:
    assert require_extra("json", "clip").dumps([1]) == "[1]"
    monkeypatch.setitem(sys.modules, "qdrant_client", None)
    monkeypatch.setitem(sys.modules, "qdrant_client.models", None)  # if other tests loaded it
    with pytest.raises(MissingExtraError) as info:
        require_extra("qdrant_client.models", "qdrant")
    err = info.value
    assert isinstance(err, ImportError) and err.extra == "qdrant"
    assert str(err) == (
        "qdrant_client is not installed (needed for Qdrant stores); "
        "install the 'qdrant' extra: pip install 'vtrsearch[qdrant]'"
    )
    assert extra_for_module("open_clip.pretrained") == "clip" and extra_for_module("numpy") is None


def test_a_missing_dependency_of_an_extra_is_named(tmp_path, monkeypatch) -> None:
    (tmp_path / "vtr_half_installed.py").write_text("import vtr_not_installed_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(MissingExtraError) as info:
        require_extra("vtr_half_installed", "media")
    assert str(info.value).startswith(
        "vtr_half_installed cannot be imported: module 'vtr_not_installed_anywhere' is missing "
        "(needed for decoding video files); install the 'media' extra"
    )


def test_core_search_works_without_any_extra(tmp_path) -> None:
    out = run_without_extras(
        """
        import numpy as np
        from vtrsearch import Index
        index = Index.create("idx", dim=8, feature_model="synthetic")
        vecs = np.eye(8, dtype=np.float32)[:4]
        index.add_videos([f"video{i}" for i in range(4)], vecs, categories=[0, 1, 2, 3])
        index.add_captions(["s0"], ["video2"], ["a cat"])
        hits = Index.open("idx").search(vecs[2], k=2)
        out["hits"] = [h.video_id for h in hits]
        out["captions"] = index.store.count("captions")
        """,
        tmp_path,
    )
    assert out["hits"][0] == "video2" and len(out["hits"]) == 2
    assert out["captions"] == 1


def test_each_missing_extra_is_one_clear_error(tmp_path) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not decoded: av is checked first")
    out = run_without_extras(
        f"""
        from vtrsearch.extras import MissingExtraError

        def attempt(key, fn):
            try:
                fn()
            except MissingExtraError as exc:
                out[key] = [exc.extra, str(exc)]
            except Exception as exc:
                out[key] = ["other", repr(exc)]
            else:
                out[key] = ["no error", ""]

        from vtrsearch import load_encoder, open_store
        from vtrsearch.encoders import load_image_encoder, sample_video_frames
        from vtrsearch.heads import load_head
        from vtrsearch.plots.figure import new_figure
        attempt("qdrant", lambda: open_store("qdrant+local://:memory:/videos"))
        attempt("qdrant edge", lambda: open_store("qdrant+local://{tmp_path}/edge/videos"))
        attempt("hf", lambda: load_encoder("hf:minilm").encode(["a dog"]))
        attempt("open_clip", lambda: load_encoder("open_clip:ViT-B-32/openai").load())
        attempt("image", lambda: load_image_encoder("open_clip:ViT-B-32/openai").load())
        attempt("head", lambda: load_head({str(tmp_path)!r}))
        attempt("head module", lambda: __import__("vtrsearch.heads").heads.build_head)
        attempt("plots", lambda: new_figure(2, 2))
        attempt("media", lambda: sample_video_frames({str(video)!r}))
        """,
        tmp_path,
    )
    expected = {
        "qdrant": "qdrant",
        "qdrant edge": "qdrant",
        "hf": "clip",
        "open_clip": "clip",
        "image": "clip",
        "head": "clip",
        "head module": "clip",
        "plots": "plots",
        "media": "media",
    }
    assert {key: extra for key, (extra, _) in out.items()} == expected
    for key, (extra, message) in out.items():
        assert message.endswith(f"pip install 'vtrsearch[{extra}]'"), (key, message)
        assert "\n" not in message


@pytest.mark.parametrize(
    ("argv", "blocked", "extra"),
    [
        (["info", "qdrant+local://:memory:/videos"], ("qdrant_client",), "qdrant"),
        (["tui", "idx"], ("textual",), "tui"),
        (["train", "idx", "--out", "head"], ("torch",), "clip"),  # trainer imports torch
        (["serve", "idx"], ("fastapi",), "serve"),
    ],
)
def test_cli_missing_extra_is_one_line_exit_2(tmp_path, argv, blocked, extra) -> None:
    out = run_without_extras(
        f"""
        import contextlib, io
        import numpy as np
        from vtrsearch import Index
        from vtrsearch.cli import main
        Index.create("idx", dim=4).add_videos(["v0"], np.ones((1, 4), np.float32), categories=[0])
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            out["code"] = main({argv!r})
        out["err"] = err.getvalue()
        """,
        tmp_path,
        blocked,
    )
    assert out["code"] == 2
    assert out["err"].startswith("error: ") and out["err"].count("\n") == 1
    assert out["err"].strip().endswith(f"pip install 'vtrsearch[{extra}]'")
    assert "Traceback" not in out["err"]
