"""Ingest MSR-VTT style datasets (annotations, categories, features) into an index.

Installed as ``vtrsearch.ingest``.
"""

from __future__ import annotations

from .annotations import Annotations, VideoInfo, parse_annotations, read_category_file
from .features import Features, load_feature_folder, load_feature_matrix
from .msrvtt import IngestReport, ingest_msrvtt, load_dataset

__all__ = [
    "Annotations",
    "Features",
    "IngestReport",
    "VideoInfo",
    "ingest_msrvtt",
    "load_dataset",
    "load_feature_folder",
    "load_feature_matrix",
    "parse_annotations",
    "read_category_file",
]
