"""``temnet self-test``: check an installation end to end (window offscreen, a project of two
simulated micrographs, detection with the shipped model, threshold, CSV and PDF export)."""

from __future__ import annotations

import argparse

HELP = "check this installation: window, detection with the shipped model, export (about 30 s)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    from temnet_app.gui.self_test import run_self_test

    return run_self_test()
