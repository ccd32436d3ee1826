"""Readers for the MSVD files: the corpus CSV, a JSON caption map, and the split lists.

* The MSR Video Description Corpus CSV (``MSR Video Description Corpus.csv``, also shipped as
  ``video_corpus.csv``), one description per row: ``VideoID, Start, End, WorkerID, Source,
  AnnotationTime, Language, Description``. A clip is ``<VideoID>_<Start>_<End>`` (Start and End
  as written, seconds into the YouTube video); its captions are the rows of one language.
* A JSON caption map ``{"<clip id>": ["caption", ...]}`` (or lists of tokens), the text form
  of the ``raw-captions.pkl`` that forks pass around. Pickles are refused: loading one can run
  code, so vtrsearch never does.
* Split lists: ``train_list.txt``, ``val_list.txt``, ``test_list.txt`` (one clip id a line;
  1,200 / 100 / 670 clips in the standard split), the same as ``*_list.json`` (JSON lists),
  or one ``splits.json`` ``{"train": [...], "val": [...], "test": [...]}``.

Every reader raises :class:`~vtrsearch.IngestError` naming the file and line of a problem.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from vtrsearch.errors import IngestError

from .annotations import read_json

CSV_COLUMNS = (
    "VideoID",
    "Start",
    "End",
    "WorkerID",
    "Source",
    "AnnotationTime",
    "Language",
    "Description",
)
#: Clips per split in the standard MSVD protocol.
STANDARD_SPLITS = {"train": 1200, "val": 100, "test": 670}
PICKLE_SUFFIXES = (".pkl", ".pickle", ".p")
LIST_NAMES = {"train": "train_list", "val": "val_list", "test": "test_list"}


@dataclass
class Clip:
    """One MSVD clip: where it comes from and its captions (``(sen_id, text)``)."""

    clip_id: str
    youtube_id: str | None = None
    start: float | None = None
    end: float | None = None
    captions: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class CaptionFile:
    """Clips read from a caption file, with what was left out."""

    path: Path
    clips: dict[str, Clip]
    other_language: int = 0
    empty: int = 0
    languages: dict[str, int] = field(default_factory=dict)


def refuse_pickle(path: Path) -> None:
    """Raise the error that explains why a pickled caption file is not read."""
    raise IngestError(
        f"{path} is a pickle file; vtrsearch never unpickles files (loading a pickle can run "
        "code). Use a text format instead: the corpus CSV 'MSR Video Description Corpus.csv' "
        f"(columns {', '.join(CSV_COLUMNS)}), or a JSON caption map "
        '{"<VideoID>_<Start>_<End>": ["caption", ...]} written by a script you trust'
    )


def find_caption_file(root: Path) -> Path:
    """The corpus CSV (or JSON caption map) under ``root``; pickles are refused."""
    if root.is_file():
        if root.suffix.lower() in PICKLE_SUFFIXES:
            refuse_pickle(root)
        return root
    if not root.is_dir():
        raise IngestError(f"MSVD root not found: {root}")
    csvs = sorted(root.glob("*.csv"))
    if len(csvs) > 1:
        named = [p for p in csvs if "corpus" in p.name.lower() or "descr" in p.name.lower()]
        csvs = named if len(named) == 1 else csvs
    if len(csvs) == 1:
        return csvs[0]
    if len(csvs) > 1:
        raise IngestError(
            f"{root}: several CSV files ({', '.join(p.name for p in csvs)}); pass the corpus "
            "CSV with --captions"
        )
    maps = sorted(p for p in root.glob("*caption*.json"))
    if len(maps) == 1:
        return maps[0]
    pickles = sorted(p for p in root.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES)
    if pickles:
        refuse_pickle(pickles[0])
    raise IngestError(
        f"{root}: no MSVD caption file found (expected 'MSR Video Description Corpus.csv' or "
        "another *.csv with the corpus columns, or a *caption*.json map); pass --captions FILE"
    )


def _number(text: str, what: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise IngestError(f"{where}: {what} {text!r} is not a number of seconds") from None


def read_corpus_csv(path: Path, language: str = "English") -> CaptionFile:
    """Clips and their captions in ``language`` (``"all"``: every language) from the CSV.

    A caption's ``sen_id`` is ``<clip id>#<CSV line>``: stable, and unique across languages.
    Extra fields on a row (a description with unquoted commas) belong to the description.
    """
    want = language.strip().lower()
    out = CaptionFile(path, {})
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise IngestError(f"{path}: empty file")
            names = [h.strip() for h in header]
            if tuple(names[: len(CSV_COLUMNS)]) != CSV_COLUMNS:
                raise IngestError(
                    f"{path}, line 1: expected the columns {', '.join(CSV_COLUMNS)}, "
                    f"got {', '.join(names)}"
                )
            for row in reader:
                _read_row(row, reader.line_num, path, want, out)
    except FileNotFoundError:
        raise IngestError(f"caption file not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise IngestError(f"{path}: not UTF-8 text ({exc})") from None
    except csv.Error as exc:
        raise IngestError(f"{path}: malformed CSV ({exc})") from None
    return out


def _read_row(row: list[str], line: int, path: Path, want: str, out: CaptionFile) -> None:
    if not any(cell.strip() for cell in row):
        return
    where = f"{path}, line {line}"
    if len(row) < len(CSV_COLUMNS):
        raise IngestError(f"{where}: {len(row)} fields, expected {len(CSV_COLUMNS)}")
    video, start, end, lang = row[0].strip(), row[1].strip(), row[2].strip(), row[6].strip()
    text = ",".join(row[7:]).strip()
    if not video:
        raise IngestError(f"{where}: empty VideoID")
    s, e = _number(start, "Start", where), _number(end, "End", where)
    if not 0 <= s < e:
        raise IngestError(f"{where}: clip {video} has Start {start}, End {end} (need Start < End)")
    out.languages[lang] = out.languages.get(lang, 0) + 1
    clip_id = f"{video}_{start}_{end}"
    clip = out.clips.setdefault(clip_id, Clip(clip_id, video, s, e))
    if want != "all" and lang.lower() != want:
        out.other_language += 1
        return
    if not text:
        out.empty += 1
        return
    clip.captions.append((f"{clip_id}#{line}", text))


def read_caption_map(path: Path) -> CaptionFile:
    """Clips from a JSON map ``{clip id: [caption or token list, ...]}``."""
    data = read_json(path)
    if not isinstance(data, dict):
        raise IngestError(f"{path}: expected a JSON object mapping clip ids to caption lists")
    out = CaptionFile(path, {})
    for clip_id, caps in data.items():
        if not isinstance(caps, list):
            raise IngestError(f"{path}: clip {clip_id}: expected a list of captions")
        clip = out.clips.setdefault(str(clip_id), Clip(str(clip_id)))
        for i, cap in enumerate(caps):
            if isinstance(cap, list) and all(isinstance(t, str) for t in cap):
                cap = " ".join(cap)
            if not isinstance(cap, str):
                raise IngestError(f"{path}: clip {clip_id}, caption {i}: not text: {cap!r}")
            if cap.strip():
                clip.captions.append((f"{clip_id}#{i}", cap.strip()))
            else:
                out.empty += 1
    return out


def read_captions(path: Path, language: str = "English") -> CaptionFile:
    """The clips of a corpus CSV or a JSON caption map (pickles refused)."""
    suffix = path.suffix.lower()
    if suffix in PICKLE_SUFFIXES:
        refuse_pickle(path)
    if suffix == ".json":
        return read_caption_map(path)
    return read_corpus_csv(path, language)


def _read_list(path: Path) -> list[str]:
    if path.suffix.lower() == ".json":
        data = read_json(path)
        if not isinstance(data, list) or not all(isinstance(v, (str, int)) for v in data):
            raise IngestError(f"{path}: expected a JSON list of clip ids")
        return [str(v).strip() for v in data]
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise IngestError(f"cannot read split list {path}: {exc}") from None
    return [line.strip() for line in lines if line.strip()]


def read_split_lists(root: Path) -> tuple[dict[str, list[str]], list[Path]]:
    """Split name -> clip ids, and the files read (none: no split lists under ``root``).

    Raises:
        IngestError: a list holds a clip twice, or a clip is in two splits.
    """
    lists: dict[str, list[str]] = {}
    files: list[Path] = []
    folder = root if root.is_dir() else root.parent
    combined = folder / "splits.json"
    if combined.is_file():
        data = read_json(combined)
        if not isinstance(data, dict):
            raise IngestError(f"{combined}: expected {{split: [clip ids]}}")
        for split, ids in data.items():
            if not isinstance(ids, list):
                raise IngestError(f"{combined}: split {split!r} is not a list of clip ids")
            lists[str(split)] = [str(v).strip() for v in ids]
        files.append(combined)
    else:
        for split, stem in LIST_NAMES.items():
            for suffix in (".txt", ".json"):
                path = folder / f"{stem}{suffix}"
                if path.is_file():
                    lists[split] = _read_list(path)
                    files.append(path)
                    break
    owner: dict[str, str] = {}
    for split, ids in lists.items():
        seen: set[str] = set()
        for i, clip in enumerate(ids):
            if clip in seen:
                raise IngestError(f"split {split!r}: clip {clip} is listed twice (entry {i + 1})")
            seen.add(clip)
            if clip in owner:
                raise IngestError(f"clip {clip} is in both split {owner[clip]!r} and {split!r}")
            owner[clip] = split
    return lists, files
