"""``temnet stats PROJECT``: print the per-experiment morphology distributions and their
agreement with the manual counts (RMSE, Pearson chi-square, detection metrics)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from temnet_app.commands._common import run_arg, threshold_arg

HELP = "print morphology distributions per experiment and their agreement with manual counts"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", type=Path, help="project file (*.temnet)")
    parser.add_argument("--threshold", type=threshold_arg, default=0.5,
                        help="count detections with confidence >= this (default 0.5)")
    parser.add_argument("--run", type=run_arg, default=None, metavar="ID|newest",
                        help="detection run id (default: the latest run with detections); "
                             "'newest': each micrograph's newest run, as the window shows")


def format_statistics(stats) -> str:
    """The printed report: a header line, the distribution table and the agreement table."""
    import pandas as pd

    from temnet_app.core.analysis import agreement_table, distribution_table, format_p

    run = stats.run
    head = (f"run #{run.id} (model {run.model_id}, {run.status})" if run is not None
            else "no detection run (manual data only)")
    lines = [f"{stats.data.project_path}: {head}, confidence >= {stats.threshold:.2f}"]
    lines += [f"note: {note}" for note in stats.notes]
    with pd.option_context("display.width", 250, "display.max_columns", None):
        dist = distribution_table(stats.per_experiment, stats.scheme.names)
        lines += ["", "Morphology distribution (% of virions; SD over micrographs, ddof=1):",
                  dist.to_string(index=False, na_rep="-")]
        agree = agreement_table(stats.per_experiment)
        lines += ["", "Agreement with manual counts on paired micrographs (RMSE in percentage "
                      "points, Pearson chi-square) and detection metrics (IoU > 0.5):",
                  agree.to_string(index=False, na_rep="-",
                                  formatters={"p": format_p, "dof": "{:.0f}".format})]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from temnet_app.core.project import Project
    from temnet_app.jobs import load_statistics

    with Project.open(args.project) as project:
        stats = load_statistics(project, args.run, args.threshold)
    if stats.run is None:
        print("temnet stats: no detection run in the project; showing manual data only",
              file=sys.stderr)
    print(format_statistics(stats))
    return 0
