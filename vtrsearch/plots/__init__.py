"""Report figures of an evaluation and of an index; matplotlib loads on first draw.

:mod:`.figure` (helpers), :mod:`.charts` (recall, per category, per query length, similarity
distributions), :mod:`.cases` (example queries), :mod:`.eda` (the index's data) and
:mod:`.report` (:func:`report_figures` and :func:`write_report`, all of them at once).

Every ``plot_*`` function returns its :class:`matplotlib.figure.Figure` and also writes it as a
PNG when given a path (``plot_recall_comparison(report, "recall.png")``).
"""

from __future__ import annotations

from .cases import keyframe_path, plot_case_examples
from .charts import (
    plot_category_recall,
    plot_query_length_recall,
    plot_recall_comparison,
    plot_similarity_distribution,
)
from .eda import (
    plot_caption_length_histogram,
    plot_captions_per_video,
    plot_category_distribution,
    plot_feature_norm_distribution,
    plot_pairwise_similarity,
)
from .report import report_figures, write_report

__all__ = [
    "keyframe_path",
    "plot_caption_length_histogram",
    "plot_captions_per_video",
    "plot_case_examples",
    "plot_category_distribution",
    "plot_category_recall",
    "plot_feature_norm_distribution",
    "plot_pairwise_similarity",
    "plot_query_length_recall",
    "plot_recall_comparison",
    "plot_similarity_distribution",
    "report_figures",
    "write_report",
]
