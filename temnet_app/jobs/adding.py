"""Adding micrographs to a project: whole folders (one experiment each) and loose files (into
an existing experiment). Every file is read for its size, metadata and checksum, so this is
long work with progress and cancel; what cannot be added is listed with the reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from temnet_app.core.errors import Cancelled, MicrographError, ProjectError
from temnet_app.core.micrographs import FORMAT_LIST, is_micrograph_file
from temnet_app.core.progress import CancelToken, ProgressFn, check_cancel, no_progress, scaled


@dataclass
class AddSummary:
    """What :func:`add_paths` did: experiments created, micrographs added, and every file or
    folder skipped with its reason (shown to the user in one notice)."""

    experiments: list = field(default_factory=list)
    added: list = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    cancelled: bool = False


def add_paths(project, paths: Sequence, experiment_id: Optional[int] = None,
              progress: Optional[ProgressFn] = None,
              cancel: Optional[CancelToken] = None) -> AddSummary:
    """Add ``paths`` to ``project``: each folder becomes a new experiment named after it; loose
    image files go into experiment ``experiment_id`` (skipped with a reason when it is None).
    A cancel stops between items and keeps what was added (``cancelled`` set)."""
    progress = progress or no_progress
    items = [Path(p) for p in paths]
    folders = [p for p in items if p.is_dir()]
    files = [p for p in items if not p.is_dir()]
    summary = AddSummary()
    total = max(1, len(folders) + (1 if files else 0))
    try:
        for i, folder in enumerate(folders):
            check_cancel(cancel)
            step = scaled(progress, i / total, (i + 1) / total)
            try:
                result = project.add_folder(folder, progress=step, cancel=cancel)
            except ProjectError as error:
                summary.skipped.append((folder, str(error)))
                continue
            summary.experiments.append(result.experiment)
            summary.added.extend(result.added)
            summary.skipped.extend(result.skipped)
        if files:
            _add_files(project, files, experiment_id,
                       scaled(progress, len(folders) / total, 1.0), cancel, summary)
    except Cancelled:
        summary.cancelled = True
    progress(1.0, f"added {len(summary.added)} micrograph(s), skipped {len(summary.skipped)}")
    return summary


def _add_files(project, files: list[Path], experiment_id: Optional[int], progress: ProgressFn,
               cancel: Optional[CancelToken], summary: AddSummary) -> None:
    if experiment_id is None:
        summary.skipped.extend((f, "no experiment selected: drop loose files on an experiment, "
                                   "or drop their folder") for f in files)
        return
    for i, path in enumerate(files):
        check_cancel(cancel)
        progress(i / len(files), f"reading {path.name}")
        if not path.exists():
            summary.skipped.append((path, "file not found"))
            continue
        if not is_micrograph_file(path):
            summary.skipped.append((path, f"not a micrograph image file ({FORMAT_LIST})"))
            continue
        try:
            summary.added.append(project.add_micrograph(experiment_id, path))
        except (MicrographError, ProjectError) as error:
            summary.skipped.append((path, str(error)))
