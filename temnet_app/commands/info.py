"""``temnet info PROJECT``: print a project's summary (experiments, micrographs, manual
annotations, detection runs) without opening the window."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "print a project's summary: experiments, micrographs, manual data, detection runs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", type=Path, help="project file (*.temnet)")
    parser.add_argument("--micrographs", action="store_true",
                        help="list every micrograph with its pixel size and magnification and "
                             "where each came from")


def run(args: argparse.Namespace) -> int:
    from temnet_app.core.project import Project
    from temnet_app.core.reports import project_summary

    with Project.open(args.project) as project:
        if project.read_only:
            print(f"note: opened read-only because {project.read_only}")
        print(project_summary(project, each_micrograph=args.micrographs))
    return 0
