"""``temnet demo``: generate the demo project once (3 experiments x 3 simulated micrographs)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "generate the demo project (3 experiments x 3 simulated micrographs) if it is missing"
DEFAULT_DEMO = Path("demo_project") / "demo.temnet"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=DEFAULT_DEMO,
                        help=f"project file to create (default: {DEFAULT_DEMO})")


def run(args: argparse.Namespace) -> int:
    from temnet_app.core.errors import ProjectError
    from temnet_app.core.output_paths import check_output_file
    from temnet_app.core.project import Project
    from temnet_app.jobs import build_demo_project

    target = Path(args.out)
    if target.exists():
        if not target.is_file():
            raise ProjectError(f"{target} exists and is a folder, not a demo project file")
        with Project.open(target, read_only=True):   # ProjectError if it is something else
            pass
        print(f"demo project already exists: {target}")
        return 0
    check_output_file(target, "demo project file")

    def progress(fraction: float, message: str) -> None:
        print(f"[{fraction * 100:5.1f}%] {message}", file=sys.stderr, flush=True)

    build_demo_project(target, progress=progress)
    print(f"demo project created: {target}")
    return 0
