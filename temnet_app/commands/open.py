"""``temnet open PROJECT``: open a project (the default command).

The desktop window is not part of this build yet; until it lands, ``open`` prints the
project's summary: experiments, micrographs, manual annotations and detection runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "open a project; until the desktop window lands, print the project's summary"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", type=Path, nargs="?",
                        default=Path("demo_project") / "demo.temnet",
                        help="project file (*.temnet); default: the demo project")


def run(args: argparse.Namespace) -> int:
    from temnet_app.core.project import Project
    from temnet_app.core.reports import project_summary

    with Project.open(args.project) as project:
        print(project_summary(project))
    return 0
