"""Readers for MSR-VTT annotation files: ``*_videodatainfo.json``, 1k-A lists, ``category.txt``.

Every reader validates as it goes and raises :class:`~vtrsearch.IngestError` naming the file and
the position (JSON line/column, list index, video id) of the first problem.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vtrsearch.categories import CategoryMap
from vtrsearch.errors import IngestError

#: Split label given to videos of a 1k-A style list, which carries no split field.
ONE_K_A_SPLIT = "test"


@dataclass
class VideoInfo:
    """One video's metadata as read from an annotation file."""

    video_id: str
    category: int
    split: str = ""
    start: float | None = None
    end: float | None = None
    url: str | None = None


@dataclass
class Annotations:
    """Videos and captions read from a dataset's annotation file(s)."""

    path: Path
    videos: list[VideoInfo] = field(default_factory=list)
    captions: list[tuple[str, str, str]] = field(default_factory=list)  # (sen_id, video_id, text)
    #: sen_id -> (start, end) seconds of the moment a caption describes (ActivityNet Captions).
    caption_times: dict[str, tuple[float, float]] = field(default_factory=dict)

    def video_ids(self) -> list[str]:
        """Video ids in file order."""
        return [v.video_id for v in self.videos]


def read_json(path: Path) -> Any:
    """Parse a JSON file; a syntax error names the file, line and column."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise IngestError(f"annotation file not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise IngestError(
            f"{path}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except UnicodeDecodeError as exc:
        raise IngestError(f"{path}: not UTF-8 text ({exc})") from None
    except OSError as exc:
        raise IngestError(f"cannot read annotation file {path}: {exc}") from None


def find_annotation_file(root: Path) -> Path:
    """The annotation JSON under ``root`` (or ``root`` itself when it is a file)."""
    if root.is_file():
        return root
    if not root.is_dir():
        raise IngestError(f"MSR-VTT root not found: {root}")
    candidates = sorted(root.glob("*videodatainfo*.json")) or sorted(root.glob("*1k*.json"))
    if not candidates:
        candidates = sorted(root.glob("*.json"))
    if len(candidates) != 1:
        found = ", ".join(p.name for p in candidates) or "none"
        raise IngestError(
            f"{root}: expected one annotation JSON (*videodatainfo*.json or a 1k-A list such as "
            f"msrvtt_test_1k.json), found {found}; pass the file explicitly with --annotations"
        )
    return candidates[0]


def read_category_file(path: Path) -> CategoryMap:
    """Parse ``category.txt``: one ``name<TAB>id`` per line (blank lines ignored)."""
    names: dict[int, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise IngestError(f"category file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise IngestError(f"cannot read category file {path}: {exc}") from None
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = line.rstrip("\n").rsplit("\t", 1) if "\t" in line else line.rsplit(None, 1)
        if len(parts) != 2 or not parts[1].strip().lstrip("-").isdigit():
            raise IngestError(f"{path}, line {lineno}: expected 'name<TAB>id', got {line!r}")
        name, cid = parts[0].strip(), int(parts[1])
        if cid in names:
            raise IngestError(f"{path}, line {lineno}: category id {cid} appears twice")
        names[cid] = name
    if not names:
        raise IngestError(f"{path}: no categories found")
    try:
        return CategoryMap(names)
    except ValueError as exc:
        raise IngestError(f"{path}: {exc}") from None


def _field(entry: dict, key: str, where: str, path: Path, kind: type | tuple = object) -> Any:
    if not isinstance(entry, dict):
        raise IngestError(f"{path}: {where} is not a JSON object")
    if key not in entry:
        raise IngestError(f"{path}: {where} has no {key!r} field")
    value = entry[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise IngestError(f"{path}: {where} field {key!r} has an unexpected value {value!r}")
    return value


def _optional_float(entry: dict, key: str, where: str, path: Path) -> float | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise IngestError(f"{path}: {where} field {key!r} is not a number: {value!r}")
    try:
        return float(value)
    except ValueError:
        raise IngestError(f"{path}: {where} field {key!r} is not a number: {value!r}") from None


def _video(entry: dict, where: str, path: Path, split: str) -> VideoInfo:
    vid = str(_field(entry, "video_id", where, path, (str, int)))
    where = f"{where} (video {vid})"
    return VideoInfo(
        video_id=vid,
        category=int(_field(entry, "category", where, path, (int, str))),
        split=str(entry.get("split") or split),
        start=_optional_float(entry, "start time", where, path),
        end=_optional_float(entry, "end time", where, path),
        url=entry.get("url"),
    )


def parse_annotations(path: Path, split: str | None = None) -> Annotations:
    """Read a ``videodatainfo`` JSON or a 1k-A style list.

    Args:
        path: the JSON file.
        split: keep only videos of this split (``videodatainfo``); for a 1k-A list, which has no
            split field, the label given to its videos (default ``"test"``).
    """
    data = read_json(path)
    ann = Annotations(path=path)
    if isinstance(data, dict) and "videos" in data:
        _parse_videodatainfo(data, path, split, ann)
    elif isinstance(data, list):
        _parse_list(data, path, split or ONE_K_A_SPLIT, ann)
    else:
        raise IngestError(
            f"{path}: not an MSR-VTT annotation file (expected an object with 'videos' and "
            f"'sentences', or a list of {{video_id, caption, category}} entries)"
        )
    if not ann.videos:
        raise IngestError(f"{path}: no videos" + (f" in split {split!r}" if split else ""))
    return ann


def _parse_videodatainfo(data: dict, path: Path, split: str | None, ann: Annotations) -> None:
    videos, sentences = data.get("videos"), data.get("sentences", [])
    if not isinstance(videos, list) or not isinstance(sentences, list):
        raise IngestError(f"{path}: 'videos' and 'sentences' must be lists")
    seen: set[str] = set()
    for i, entry in enumerate(videos):
        video = _video(entry, f"videos[{i}]", path, "")
        if video.video_id in seen:
            raise IngestError(f"{path}: videos[{i}]: video {video.video_id} appears twice")
        seen.add(video.video_id)
        if split is None or video.split == split:
            ann.videos.append(video)
    kept = {v.video_id for v in ann.videos}
    sen_seen: set[str] = set()
    for i, entry in enumerate(sentences):
        where = f"sentences[{i}]"
        sen_id = str(_field(entry, "sen_id", where, path, (int, str)))
        vid = str(_field(entry, "video_id", where, path, (str, int)))
        text = _field(entry, "caption", f"{where} (sen_id {sen_id})", path, str)
        if sen_id in sen_seen:
            raise IngestError(f"{path}: {where}: sen_id {sen_id} appears twice")
        sen_seen.add(sen_id)
        if vid not in seen:
            raise IngestError(f"{path}: {where} (sen_id {sen_id}) refers to unknown video {vid}")
        if vid in kept and text.strip():
            ann.captions.append((sen_id, vid, text.strip()))


def _parse_list(data: list, path: Path, split: str, ann: Annotations) -> None:
    per_video: dict[str, int] = {}
    for i, entry in enumerate(data):
        video = _video(entry, f"[{i}]", path, split)
        texts = entry.get("caption")
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise IngestError(f"{path}: [{i}] (video {video.video_id}) has no caption text")
        if video.video_id not in per_video:
            per_video[video.video_id] = 0
            ann.videos.append(video)
        for text in texts:
            if text.strip():
                # 1k-A entries carry no sen_id: derive a stable one from video and position.
                ann.captions.append(
                    (f"{video.video_id}#{per_video[video.video_id]}", video.video_id, text.strip())
                )
                per_video[video.video_id] += 1
