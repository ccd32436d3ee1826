"""The registry of encoder kinds: parse_spec and load_encoder look the kind up there."""

from __future__ import annotations

import pytest

from vtrsearch.encoders import (
    EncoderKind,
    EncoderSpec,
    HFTextEncoder,
    accepted_forms,
    encoder_kind,
    kind_names,
    load_encoder,
    parse_spec,
    register_kind,
)
from vtrsearch.encoders.hf_text import HF_KIND


def test_builtin_kinds_are_registered_with_their_forms() -> None:
    assert {"open_clip", "hf-clip", "hf"} <= set(kind_names())
    forms = accepted_forms()
    for name in ("open_clip", "hf-clip", "hf"):
        kind = encoder_kind(name)
        assert kind.name == name and kind.forms
        assert all(line in forms and line.split(":")[0] == name for line in kind.forms)


def test_unknown_kind_lists_the_registered_ones() -> None:
    with pytest.raises(ValueError, match="unknown kind 'clip'; expected one of") as info:
        load_encoder("clip:ViT-B-32/openai")
    assert all(name in str(info.value) for name in ("open_clip", "hf-clip", "hf:minilm"))
    with pytest.raises(ValueError, match="accepted encoder specs"):
        encoder_kind("nope")


def test_registering_twice_needs_replace() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_kind(HF_KIND)
    with pytest.raises(ValueError, match="invalid encoder kind name"):
        register_kind(EncoderKind("a:b", (), HF_KIND.parse, HF_KIND.check, HF_KIND.build))


def test_a_registered_kind_parses_checks_and_builds(tmp_path, monkeypatch) -> None:
    """A new kind plugs in without touching load_encoder: here 'st:' = a folder, mean pooled."""
    built: list[EncoderSpec] = []

    def parse(rest: str) -> EncoderSpec:
        if not rest.startswith("/"):
            raise ValueError("st: needs an absolute folder")
        return EncoderSpec("st", rest)

    def check(spec: EncoderSpec) -> None:
        if not (tmp_path / "ok").exists():
            raise FileNotFoundError(spec.name)

    def build(spec: EncoderSpec, device: str | None, fast: bool) -> HFTextEncoder:
        built.append(spec)
        return HFTextEncoder(EncoderSpec("hf", spec.name), device)

    from vtrsearch.encoders import registry

    monkeypatch.setattr(registry, "_KINDS", dict(registry._KINDS))  # undone after the test
    register_kind(EncoderKind("st", ("st:/path   test kind",), parse, check, build))
    assert parse_spec(" st:/x ") == EncoderSpec("st", "/x")
    assert "st:/path   test kind" in accepted_forms()
    with pytest.raises(ValueError, match="malformed encoder spec 'st:rel': st: needs an"):
        parse_spec("st:rel")
    with pytest.raises(FileNotFoundError):
        load_encoder(f"st:{tmp_path}")
    (tmp_path / "ok").mkdir()
    enc = load_encoder(f"st:{tmp_path}", device="cpu")
    assert built == [EncoderSpec("st", str(tmp_path))] and not enc.loaded
