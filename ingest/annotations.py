"""Readers for MSR-VTT annotation files: ``*_videodatainfo.json``, 1k-A lists, ``category.txt``.

Every reader validates as it goes and raises :class:`~vtrsearch.IngestError` naming the file and
the position (JSON line/column, list index, video id) of the first problem.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vtrsearch.categories import CategoryMap
from vtrsearch.errors import IngestError
from vtrsearch.index.rows import id_problem

#: Split label given to videos of a 1k-A style list, which carries no split field.
ONE_K_A_SPLIT = "test"


@dataclass
class VideoInfo:
    """One video's metadata as read from an annotation file."""

    video_id: str
    category: int | str  # an id; a name until resolve_categories maps it to its id
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


def regular_file(path: Path, what: str) -> Path:
    """``path`` when it is a regular file; a FIFO, device or folder would hang or fail later.

    Raises:
        IngestError: missing, or not a regular file (names ``what`` and the path).
    """
    import stat

    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise IngestError(f"{what} not found: {path}") from None
    except OSError as exc:
        raise IngestError(f"cannot read {what} {path}: {exc}") from None
    if not stat.S_ISREG(mode):
        raise IngestError(f"{what} {path} is not a regular file (a FIFO, device or folder?)")
    return path


def read_json(path: Path) -> Any:
    """Parse a JSON file; a syntax error names the file, line and column."""
    regular_file(path, "annotation file")
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
    regular_file(path, "category file")
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


def _id(value: Any, where: str, key: str, path: Path) -> str:
    problem = id_problem(value)
    if problem is not None:
        raise IngestError(f"{path}: {where} field {key!r} is not a usable id: {problem}")
    return str(value)


def _optional_float(entry: dict, key: str, where: str, path: Path) -> float | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise IngestError(f"{path}: {where} field {key!r} is not a number: {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise IngestError(f"{path}: {where} field {key!r} is not a number: {value!r}") from None
    if not math.isfinite(number):
        raise IngestError(f"{path}: {where} field {key!r} must be a finite time, got {value!r}")
    return number


def _optional_text(entry: dict, key: str, where: str, path: Path) -> str | None:
    value = entry.get(key)
    if value is None or isinstance(value, str):
        return value
    raise IngestError(f"{path}: {where} field {key!r} must be text, got {value!r}")


def _category(entry: dict, where: str, path: Path) -> int | str:
    """A category id (digits become an int) or a name, resolved later against the category
    list (:func:`resolve_categories`)."""
    value = _field(entry, "category", where, path, (int, str))
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        if not text:
            raise IngestError(f"{path}: {where} field 'category' is empty")
        return text
    return value


def _video(entry: dict, where: str, path: Path, split: str) -> VideoInfo:
    vid = _id(_field(entry, "video_id", where, path, (str, int)), where, "video_id", path)
    where = f"{where} (video {vid})"
    given_split = _optional_text(entry, "split", where, path)
    return VideoInfo(
        video_id=vid,
        category=_category(entry, where, path),
        split=given_split or split,
        start=_optional_float(entry, "start time", where, path),
        end=_optional_float(entry, "end time", where, path),
        url=_optional_text(entry, "url", where, path),
    )


def resolve_categories(ann: Annotations, cmap: CategoryMap, source: str) -> None:
    """Turn every video's category (id or name) into an id of ``cmap``, in place.

    Raises:
        IngestError: a category that ``cmap`` does not know, naming the annotation file, the
            video and ``source`` (where the category list came from).
    """
    unknown: dict[str, list[str]] = {}
    for video in ann.videos:
        try:
            video.category = cmap.resolve(video.category)
        except ValueError:
            unknown.setdefault(repr(video.category), []).append(video.video_id)
    if unknown:
        shown = "; ".join(
            f"{cat} (video {', '.join(vids[:3])}{' ...' if len(vids) > 3 else ''})"
            for cat, vids in sorted(unknown.items())
        )
        raise IngestError(
            f"{ann.path}: categories not in the category list ({source}): {shown}; "
            f"valid: {cmap.valid_names()}"
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
        sen_id = _id(_field(entry, "sen_id", where, path, (int, str)), where, "sen_id", path)
        vid = _id(_field(entry, "video_id", where, path, (str, int)), where, "video_id", path)
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
