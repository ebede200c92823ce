"""Which classes a training run learns: the lab's own (``temnet train --classes``), or those
its labels use, read from the VIA CSVs of dataset folders and the class sets of projects."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from temnet_app.core.annotations import via_class_names
from temnet_app.core.classes import ClassScheme
from temnet_app.core.errors import AnnotationError, ProjectError


def _folder_names(root: Path) -> list[str]:
    from temnet_app.detector.data.labelled import _folders_with_csv, _pick_csv

    names: list[str] = []
    for here, csvs in _folders_with_csv(root):
        names += via_class_names(_pick_csv(here, csvs))
    return names


def _project_scheme(path: Path) -> ClassScheme:
    from temnet_app.core.project import Project

    with Project.open(path, read_only=True) as project:
        return project.scheme


def training_classes(paths: Sequence[Path], base: ClassScheme,
                     given: Optional[ClassScheme] = None) -> tuple[ClassScheme, str]:
    """``(classes to train, where they come from)`` for the data in ``paths``.

    ``given`` (the lab's ``--classes``) wins. Otherwise ``base`` (the HIV classes, or those
    of the model fine-tuned) when the labels use no other class; else the class set of the
    projects among ``paths`` when it holds every class used; else every class the labels use,
    in order of first appearance (projects first, their colours kept).
    """
    if given is not None:
        return given, "--classes"
    schemes: list[ClassScheme] = []
    names: list[str] = []
    for path in paths:
        path = Path(path)
        try:
            if path.is_file() and path.suffix.lower() == ".temnet":
                schemes.append(_project_scheme(path))
                names += schemes[-1].names
            elif path.is_dir():
                names += _folder_names(path)
        except (AnnotationError, ProjectError):
            continue  # reading the data reports it with its full context
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.lower(), name)
    if set(seen) <= {n.lower() for n in base.names}:
        return base, "default"
    for scheme in schemes:
        if set(seen) <= {n.lower() for n in scheme.names}:
            return scheme, "the project"
    colours = {n.lower(): c for s in schemes for n, c in zip(s.names, s.colours)}
    ordered = tuple(seen.values())
    return ClassScheme(ordered, tuple(colours.get(n.lower()) for n in ordered)), "the labels"
