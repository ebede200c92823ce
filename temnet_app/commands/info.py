"""``temnet info PROJECT``: print a project's summary (experiments, micrographs, manual
annotations, detection runs) without opening the window."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "print a project's summary: experiments, micrographs, manual data, detection runs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", type=Path, help="project file (*.temnet)")


def run(args: argparse.Namespace) -> int:
    from temnet_app.core.project import Project
    from temnet_app.core.reports import project_summary

    with Project.open(args.project) as project:
        if project.read_only:
            print(f"note: opened read-only because {project.read_only}")
        print(project_summary(project))
    return 0
