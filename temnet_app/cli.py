"""The ``temnet`` command.

Sub-commands live one per module in :mod:`temnet_app.commands` and are discovered there, so a
new command is a new module. Errors meant for the user (:class:`TemnetError`) print one line on
stderr and exit with status 2; a cancel (Ctrl-C) exits with 130. Anything else is a bug: one
line naming the log file, the traceback in the log, exit status 70.

What native libraries print (TensorFlow's C++ logging, absl, CUDA probes) goes to the log file
``temnet-cli.log`` in the user's data folder, not the terminal; ``--verbose`` shows it.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
import traceback
from typing import Optional, Sequence

from temnet_app import __version__
from temnet_app.core.errors import TemnetError
from temnet_app.core.logfile import NativeOutputDiversion, remove_cli_logging, setup_cli_logging

DEFAULT_COMMAND = "open"
_log = logging.getLogger("temnet_app.cli")


def _command_modules() -> dict:
    import temnet_app.commands as package

    modules = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        modules[getattr(module, "NAME", info.name.replace("_", "-"))] = module
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
        p.add_argument("--verbose", action="store_true",
                       help="also show TensorFlow's own log lines and debug messages")
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or (argv[0] not in parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
                    and not argv[0].startswith("-")):
        argv = [DEFAULT_COMMAND, *argv]
    args = parser.parse_args(argv)
    verbose = bool(getattr(args, "verbose", False))
    log = setup_cli_logging(verbose)
    diversion = None if verbose or log is None else NativeOutputDiversion(log)
    if diversion is not None:
        diversion.start()
    _log.info("temnet %s: %s", __version__, " ".join(argv))
    try:
        return int(args._run(args) or 0)
    except TemnetError as error:
        _log.info("error: %s", error)
        print(f"temnet {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"temnet {args.command}: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        _log.exception("out of memory")
        print(f"temnet {args.command}: error: out of memory; close other programs or use "
              "--mode tiled", file=sys.stderr)
        return 2
    except Exception as error:  # a bug: one line for the user, the traceback in the log
        _log.exception("unexpected error")
        where = f" (details in {log})" if log is not None else ""
        print(f"temnet {args.command}: internal error: {type(error).__name__}: {error}{where}",
              file=sys.stderr)
        if verbose:
            traceback.print_exc()
        return 70
    finally:
        if diversion is not None:
            diversion.restore()
        remove_cli_logging()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
