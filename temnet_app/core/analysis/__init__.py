"""Numbers from boxes: detection metrics (AP, P/R/F1), morphology statistics (SD, RMSE,
chi-square), a project's statistics at a confidence threshold, and counts of stored detections
at any threshold.

The statistics tables need pandas, which takes a while to import: their names are loaded on
first use, so that the window can start (and count detections) without them."""

from temnet_app.core.analysis.detection_index import DetectionIndex
from temnet_app.core.analysis.metrics import Evaluation, evaluate

_LAZY = {
    "MicrographInput": "project_tables", "Statistics": "project_tables",
    "StatisticsInput": "project_tables", "compute_statistics": "project_tables",
    "load_statistics_input": "project_tables", "project_statistics": "project_tables",
    "agreement_table": "statistics", "chi_square_test": "statistics",
    "distribution_table": "statistics", "format_p": "statistics", "percentages": "statistics",
    "rmse_pp": "statistics",
}

__all__ = ["DetectionIndex", "Evaluation", "evaluate", *sorted(_LAZY)]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _LAZY[name] == "statistics":
        import temnet_app.core.analysis.statistics as module
    else:
        import temnet_app.core.analysis.project_tables as module
    return getattr(module, name)
