"""``temnet open [PROJECT]``: open the desktop window (the default command, so plain
``temnet`` does it too) on PROJECT, else on the last project, else on the start page.

A machine without a display gets one line and exit status 2; ``temnet info PROJECT`` prints a
project's summary without a window.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "open the TEMNet Studio window (on PROJECT, else the last project or the start page)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", type=Path, nargs="?", default=None,
                        help="project file (*.temnet) to open")


def run(args: argparse.Namespace) -> int:
    from temnet_app.core.errors import ProjectError, TemnetError

    if args.project is not None and not args.project.is_file():
        what = "is a folder, not a project file" if args.project.is_dir() else "not found"
        raise ProjectError(f"project file {what}: {args.project}")
    from temnet_app.gui.app import NoDisplayError, run_app

    try:
        return run_app(args.project)
    except NoDisplayError as error:
        raise TemnetError(str(error)) from None
