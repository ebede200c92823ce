"""``temnet add PROJECT FOLDER_OR_FILES... [--experiment NAME]``: add micrographs."""

from __future__ import annotations

import argparse
from pathlib import Path

from temnet_app.commands._common import add_scale_arguments

HELP = "add micrograph folders (one experiment each) or files (--experiment) to a project"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", type=Path, help="project file (*.temnet)")
    parser.add_argument("paths", type=Path, nargs="+", metavar="FOLDER_OR_FILE",
                        help="folders become new experiments named after them; files need "
                             "--experiment")
    parser.add_argument("--experiment", default=None, metavar="NAME",
                        help="put everything (folders' micrographs and files) into this "
                             "experiment, created when missing")
    add_scale_arguments(parser, "what is added (a new experiment's setting, otherwise each "
                                "added micrograph's own)")


def run(args: argparse.Namespace) -> int:
    from temnet_app.commands._adding import add_to_project, describe, set_camera
    from temnet_app.core.errors import ProjectError
    from temnet_app.core.project import Project

    if args.experiment is not None and not args.experiment.strip():
        raise ProjectError("--experiment needs a name")
    with Project.open(args.project) as project:
        if project.read_only:
            raise ProjectError(f"cannot add micrographs: {args.project} is open read-only "
                               f"({project.read_only})")
        set_camera(project, args.camera)
        summary = add_to_project(project, args.paths, args.experiment, args.magnification,
                                 args.pixel_size)
    print(describe(summary))
    if not summary.added and summary.skipped:
        raise ProjectError(f"nothing was added ({len(summary.skipped)} skipped)")
    return 1 if summary.skipped else 0
