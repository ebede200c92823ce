"""The ``temnet`` command that repeats what the window did (a detection run, an export), so
results can be reproduced from a terminal and the log says exactly how they were made."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Optional, Sequence


def _model_args(model: Optional[Path]) -> list[str]:
    return ["--model", str(model)] if model is not None else []


def detect_command(project_path: Path, micrographs: Sequence, experiments: dict,
                   all_micrographs: Sequence, model: Optional[Path] = None,
                   flips: Optional[bool] = None) -> str:
    """``temnet detect`` for ``micrographs`` of the project: the whole project, one
    experiment, or a list of ``--micrograph EXPERIMENT/FILE``; ``--flips`` / ``--no-flips``
    when ``flips`` is given (None: the model's own setting)."""
    args = ["temnet", "detect", str(project_path), *_model_args(model)]
    if flips is not None:
        args.append("--flips" if flips else "--no-flips")
    chosen = {m.id for m in micrographs}
    every = {m.id for m in all_micrographs}
    by_experiment: dict[int, set[int]] = {}
    for m in all_micrographs:
        by_experiment.setdefault(m.experiment_id, set()).add(m.id)
    whole = [eid for eid, ids in by_experiment.items() if ids == chosen]
    if chosen != every:
        if whole:
            args += ["--experiment", experiments[whole[0]]]
        else:
            for m in micrographs:
                args += ["--micrograph", f"{experiments[m.experiment_id]}/{m.name}"]
    return shlex.join(args)


def report_command(project_path: Path, out_dir: Path, threshold: float) -> str:
    """``temnet report`` writing the same CSV tables and PDF as the window's export."""
    return shlex.join(["temnet", "report", str(project_path), "--out", str(out_dir),
                       "--threshold", f"{threshold:.2f}", "--run", "newest"])
