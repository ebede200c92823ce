"""``temnet classes PROJECT [NAME[:#RRGGBB],...]``: show or change a project's particle classes
(names, order and colours)."""

from __future__ import annotations

import argparse
from pathlib import Path

from temnet_app.commands._common import classes_arg

HELP = "show or change a project's particle classes and their colours"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", type=Path, help="project file (*.temnet)")
    parser.add_argument("classes", type=classes_arg, nargs="?", default=None,
                        metavar="NAME[:#RRGGBB],...",
                        help="new class list, e.g. 'RiftValley:#e41a1c,Ebola,Marburg'; the "
                             "n-th name renames class n (boxes keep their class), names may "
                             "be added; a class in use cannot be removed")


def run(args: argparse.Namespace) -> int:
    from temnet_app.core.project import Project

    with Project.open(args.project) as project:
        if args.classes is not None:
            project.set_classes(args.classes)
        scheme = project.scheme
        for class_id, name in zip(scheme.ids, scheme.names):
            print(f"{class_id}  {name:<20} {scheme.colour(class_id)}")
    return 0
