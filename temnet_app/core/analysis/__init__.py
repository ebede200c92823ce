"""Numbers from boxes: detection metrics (AP, P/R/F1), morphology statistics (SD, RMSE,
chi-square), a project's statistics at a confidence threshold, and counts of stored detections
at any threshold."""

from temnet_app.core.analysis.detection_index import DetectionIndex
from temnet_app.core.analysis.metrics import Evaluation, evaluate
from temnet_app.core.analysis.project_statistics import (MicrographInput, Statistics,
                                                         StatisticsInput, compute_statistics,
                                                         load_statistics_input, project_statistics)
from temnet_app.core.analysis.statistics import (agreement_table, chi_square_test,
                                                 distribution_table, format_p, percentages, rmse_pp)

__all__ = ["DetectionIndex", "Evaluation", "MicrographInput", "Statistics", "StatisticsInput",
           "agreement_table", "chi_square_test", "compute_statistics", "distribution_table",
           "evaluate", "format_p", "load_statistics_input", "percentages", "project_statistics",
           "rmse_pp"]
