"""``temnet new PROJECT.temnet [FOLDER...]``: create a project, one experiment per folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from temnet_app.commands._common import add_scale_arguments, classes_arg

HELP = "create a project file, with one experiment per micrograph folder given"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", type=Path, help="new project file (*.temnet)")
    parser.add_argument("folders", type=Path, nargs="*", metavar="FOLDER",
                        help="micrograph folders; each becomes an experiment named after it")
    add_scale_arguments(parser, "these experiments' micrographs when their files state none")
    parser.add_argument("--classes", type=classes_arg, default=None,
                        metavar="NAME[:#RRGGBB],...",
                        help="the project's particle classes in order, each with an optional "
                             "colour (default: eccentric, mature, immature; a project with no "
                             "boxes yet also takes the classes of the model first run on it)")


def run(args: argparse.Namespace) -> int:
    from temnet_app.commands._adding import add_to_project, describe, set_camera
    from temnet_app.core.errors import ProjectError
    from temnet_app.core.output_paths import check_output_file
    from temnet_app.core.project import Project

    if args.project.exists():
        raise ProjectError(f"{args.project} already exists; add folders to it with "
                           f"`temnet add {args.project} FOLDER`")
    files = [f for f in args.folders if f.exists() and not f.is_dir()]
    if files:
        raise ProjectError(f"{files[0]} is a file: `temnet new` takes folders (one experiment "
                           f"each); add loose files with `temnet add PROJECT FILE... "
                           f"--experiment NAME`")
    check_output_file(args.project, "project file")
    with Project.create(args.project) as project:
        set_camera(project, args.camera)
        if args.classes is not None:
            project.set_classes(args.classes)
        summary = add_to_project(project, args.folders, None, args.magnification,
                                 args.pixel_size) if args.folders else None
    print(f"created {args.project}" + (f"; {describe(summary)}" if summary else ""))
    return 1 if summary is not None and summary.skipped else 0
