"""Ingest datasets (MSR-VTT, MSVD, ActivityNet Captions, media) into an index.

Installed as ``vtrsearch.ingest``.
"""

from __future__ import annotations

from .activitynet import ingest_activitynet
from .annotations import Annotations, VideoInfo, parse_annotations, read_category_file
from .features import Features, load_feature_folder, load_feature_matrix
from .frames import FramesReport, ingest_frames
from .msrvtt import ingest_msrvtt, load_dataset
from .msvd import ingest_msvd
from .ray_frames import RayOptions
from .writing import IngestReport

__all__ = [
    "Annotations",
    "Features",
    "FramesReport",
    "IngestReport",
    "RayOptions",
    "VideoInfo",
    "ingest_activitynet",
    "ingest_frames",
    "ingest_msrvtt",
    "ingest_msvd",
    "load_dataset",
    "load_feature_folder",
    "load_feature_matrix",
    "parse_annotations",
    "read_category_file",
]
