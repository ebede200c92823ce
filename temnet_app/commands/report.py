"""``temnet report PROJECT --out DIR``: write the CSV exports (per box, per micrograph, per
experiment) and the PDF report of a detection run, and print their paths."""

from __future__ import annotations

import argparse
from pathlib import Path

from temnet_app.commands._common import run_arg, threshold_arg

HELP = "write CSV tables and a PDF report (distributions, agreement, thumbnails) of a project"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", type=Path, help="project file (*.temnet)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="folder for the report files (created if missing)")
    parser.add_argument("--threshold", type=threshold_arg, default=0.5,
                        help="count detections with confidence >= this (default 0.5)")
    parser.add_argument("--run", type=run_arg, default=None, metavar="ID|newest",
                        help="detection run id (default: the latest run with detections); "
                             "'newest': each micrograph's newest run, as the window shows")
    parser.add_argument("--no-thumbnails", action="store_true",
                        help="leave the micrograph thumbnail pages out of the PDF")


def run(args: argparse.Namespace) -> int:
    from temnet_app.commands._common import TextProgress
    from temnet_app.core.errors import OutputError
    from temnet_app.core.output_paths import prepare_output_folder
    from temnet_app.core.project import Project
    from temnet_app.core.reports import write_report
    from temnet_app.jobs import load_statistics

    with Project.open(args.project) as project:
        prepare_output_folder(args.out, "report folder")
        stats = load_statistics(project, args.run, args.threshold)
        bar = TextProgress()
        try:
            paths = write_report(stats, args.out,
                                 image_path=None if args.no_thumbnails else project.image_path,
                                 progress=bar)
        except OSError as exc:
            raise OutputError(f"cannot write the report to {args.out}: "
                               f"{exc.strerror or exc}") from exc
        finally:
            bar.close()
    for path in paths.values():
        print(path)
    return 0
