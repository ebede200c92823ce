"""Adding micrographs from the command line (shared by ``temnet new`` and ``temnet add``):
folders become experiments, or everything goes into one named experiment; a bar on stderr;
one line per skipped file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional, Sequence

NOT_AN_IMAGE = "not a micrograph image file"


def add_to_project(project, paths: Sequence[Path], experiment: Optional[str],
                   magnification: Optional[float], pixel_size: Optional[float] = None):
    """Add ``paths`` to the open ``project``; returns the jobs ``AddSummary``.

    Without ``experiment`` each folder becomes a new experiment (named after it, with
    ``magnification`` / ``pixel_size`` as its setting) and loose files are refused with a
    reason. With it, the micrographs of folders (not recursive) and loose files all go into
    that experiment (created when missing, with that setting); files added to an existing
    experiment whose setting differs get the values as their own overrides."""
    from temnet_app.commands._common import TextProgress
    from temnet_app.core.errors import ProjectError
    from temnet_app.core.micrographs import is_micrograph_file
    from temnet_app.jobs import add_paths

    missing = [p for p in paths if not p.exists()]
    if missing:
        raise ProjectError(f"not found: {', '.join(str(p) for p in missing[:3])}")
    bar = TextProgress()
    try:
        if experiment is None:
            summary = _add_folders(project, paths, magnification, pixel_size, bar)
        else:
            target = project.experiment_by_name(experiment)
            created = target is None
            if created:
                target = project.add_experiment(experiment, magnification=magnification,
                                                pixel_size_nm=pixel_size)
            files: list[Path] = []
            for path in paths:
                if path.is_dir():
                    files += sorted((f for f in path.iterdir()
                                     if f.is_file() and is_micrograph_file(f)),
                                    key=lambda f: f.name.lower())
                else:
                    files.append(path)
            summary = add_paths(project, files, target.id, progress=bar)
            if created:
                summary.experiments.append(target)
            if magnification is not None and not created and \
                    target.magnification != magnification:
                for m in summary.added:
                    project.set_magnification_override(m.id, magnification)
            if pixel_size is not None and not created and target.pixel_size_nm != pixel_size:
                for m in summary.added:
                    project.set_pixel_size_override(m.id, pixel_size)
    finally:
        bar.close()
    # other files in a micrograph folder (labels, notes) are not problems: listed, not counted
    ignored = [(p, r) for p, r in summary.skipped if r.startswith(NOT_AN_IMAGE)]
    summary.skipped = [(p, r) for p, r in summary.skipped if not r.startswith(NOT_AN_IMAGE)]
    for path, reason in ignored:
        print(f"ignored {path}: {reason}", file=sys.stderr)
    for path, reason in summary.skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    return summary


def _add_folders(project, paths, magnification, pixel_size, progress):
    from temnet_app.jobs import add_paths

    summary = add_paths(project, paths, None, progress=progress)
    if magnification is not None or pixel_size is not None:
        for experiment in summary.experiments:
            project.update_experiment(experiment.id, magnification=magnification,
                                      pixel_size_nm=pixel_size)
    return summary


def set_camera(project, camera) -> None:
    """Store ``camera`` (a CameraCalibration, or None: leave as is) in the project, saying
    so on stderr."""
    if camera is not None:
        project.set_camera_calibration(camera)
        print(f"camera calibration: {camera.describe()}", file=sys.stderr)


def describe(summary) -> str:
    names = ", ".join(e.name for e in summary.experiments)
    made = f"; new experiment(s): {names}" if names else ""
    return f"added {len(summary.added)} micrograph(s), skipped {len(summary.skipped)}{made}"
