"""Helpers of the hostile-input corpus: run the real ``temnet`` entry point (in this process
or as a subprocess) and check what a user sees: the exit status, one clear error line, no
traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from read_only_folder import read_only  # noqa: F401 - re-exported for the corpus

from temnet_app.cli import main

TF_NOISE = ("oneDNN", "cuda", "cuInit", "absl", "cpu_feature_guard", "PredictCost",
            "I0000", "W0000", "E0000", "tensorflow/")


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    @property
    def error_lines(self) -> list[str]:
        return [ln for ln in self.err.splitlines() if ": error: " in ln]


def run_in_process(capsys, *argv) -> Outcome:
    """``temnet ARGV`` through :func:`temnet_app.cli.main`; argparse's exit is caught."""
    capsys.readouterr()
    try:
        code = main([str(a) for a in argv])
    except SystemExit as stop:          # argparse: usage line(s), then one error line
        code = stop.code if isinstance(stop.code, int) else 2
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def run_process(*argv, env=None, timeout=600, user=None, cwd=None) -> Outcome:
    """``temnet ARGV`` as a separate process (``python -m temnet_app``)."""
    environment = dict(os.environ, **(env or {}))
    done = subprocess.run([sys.executable, "-m", "temnet_app", *map(str, argv)],
                          capture_output=True, text=True, timeout=timeout, env=environment,
                          user=user, cwd=cwd)
    return Outcome(done.returncode, done.stdout, done.stderr)


def assert_clear_error(outcome: Outcome, command: str, *fragments: str, code: int = 2) -> None:
    """Exit ``code``, exactly one ``temnet COMMAND: error:`` line holding every fragment (the
    last line), and no traceback anywhere."""
    text = outcome.out + outcome.err
    assert "Traceback" not in text, text
    assert outcome.code == code, (outcome.code, text)
    lines = outcome.error_lines
    assert len(lines) == 1, text
    assert lines[0].startswith(f"temnet {command}: error: "), lines[0]
    assert outcome.err.rstrip().splitlines()[-1] == lines[0], outcome.err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def assert_no_traceback(outcome: Outcome) -> None:
    assert "Traceback" not in outcome.out + outcome.err, outcome.out + outcome.err


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative name -> bytes): to show nothing saved was lost."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}
