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
    from temnet_app.jobs import build_demo_project

    target = Path(args.out)
    if target.exists():
        print(f"demo project already exists: {target}")
        return 0

    def progress(fraction: float, message: str) -> None:
        print(f"[{fraction * 100:5.1f}%] {message}", file=sys.stderr, flush=True)

    build_demo_project(target, progress=progress)
    print(f"demo project created: {target}")
    return 0
