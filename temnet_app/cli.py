"""The ``temnet`` command.

Sub-commands live one per module in :mod:`temnet_app.commands` and are discovered there, so a
new command is a new module. Errors meant for the user (:class:`TemnetError`) print one line on
stderr and exit with status 2; a cancel (Ctrl-C) exits with 130.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from typing import Optional, Sequence

from temnet_app import __version__
from temnet_app.core.errors import TemnetError

DEFAULT_COMMAND = "open"


def _command_modules() -> dict:
    import temnet_app.commands as package

    modules = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        modules[info.name.replace("_", "-")] = module
    return modules


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="temnet",
        description="TEMNet Studio: find HIV-1 virions in TEM micrographs and classify them "
                    "as mature, immature or eccentric.",
    )
    parser.add_argument("--version", action="version", version=f"temnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in _command_modules().items():
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or (argv[0] not in parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
                    and not argv[0].startswith("-")):
        argv = [DEFAULT_COMMAND, *argv]
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except TemnetError as error:
        print(f"temnet {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"temnet {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
