"""``temnet import PROJECT FILE``: manual boxes (VIA CSV, COCO JSON) or counts (counts CSV)
onto the project's micrographs, matched by file name."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "import"
HELP = "import manual boxes (VIA CSV, COCO JSON) or counts (CSV) onto micrographs by file name"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", type=Path, help="project file (*.temnet)")
    parser.add_argument("file", type=Path, help="VIA CSV, COCO JSON or counts CSV")
    parser.add_argument("--experiment", default=None, metavar="NAME",
                        help="match only the micrographs of this experiment")


def run(args: argparse.Namespace) -> int:
    from temnet_app.core.errors import AnnotationError, ProjectError
    from temnet_app.core.project import Project
    from temnet_app.jobs import import_annotations

    if not args.file.is_file():
        raise AnnotationError(f"file not found: {args.file}")
    with Project.open(args.project) as project:
        experiment_id = None
        if args.experiment is not None:
            experiment = project.experiment_by_name(args.experiment)
            if experiment is None:
                raise ProjectError(f"no experiment named {args.experiment!r} in "
                                   f"{args.project}")
            experiment_id = experiment.id
        summary = import_annotations(project, args.file, experiment_id)
    for name in summary.unmatched:
        print(f"no micrograph named {name}", file=sys.stderr)
    for name in summary.ambiguous:
        print(f"several micrographs named {name} (use --experiment)", file=sys.stderr)
    if not summary.matched:
        raise AnnotationError(f"no file name in {args.file} matches a micrograph of "
                              f"{args.project}")
    print(summary.describe())
    return 1 if summary.unmatched or summary.ambiguous else 0
