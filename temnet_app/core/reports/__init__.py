"""What leaves the program: matplotlib figures, CSV tables, the PDF report, a text summary."""

from temnet_app.core.reports.export import write_csv_reports, write_report
from temnet_app.core.reports.figures import (micrograph_counts_figure, morphology_figure,
                                             score_histogram_figure)
from temnet_app.core.reports.overlay import render_overlay, write_overlay
from temnet_app.core.reports.summary import project_summary

__all__ = ["micrograph_counts_figure", "morphology_figure", "project_summary",
           "render_overlay", "score_histogram_figure", "write_csv_reports", "write_overlay",
           "write_report"]
