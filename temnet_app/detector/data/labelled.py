"""Labelled micrographs for training: read from a dataset folder or a project (no TensorFlow).

Folder layouts (all found by one walk, up to :data:`MAX_DEPTH` folders deep):

* a flat folder: images + one VIA CSV (``annotations.csv``, else the folder's single ``*.csv``);
* the published TEMNet dataset, unchanged: ``<root>/train/<id>/<id>.tif`` (or ``.png``) with
  ``<root>/train/<id>/region_data_<id>.csv``, likewise ``<root>/val/...``. A folder holding
  exactly one image and one ``region_data_<stem>.csv`` binds every row of the CSV to that
  image whatever its ``#filename`` column says (the research code's augmented copies write the
  CSV's own path there);
* any mix: every folder holding a CSV is read as images + that CSV.

In a folder, a CSV row's file name (its last path component) is matched to an image exactly,
else ignoring letter case, else by name without extension (``1797001.png`` in the CSV finds
``1797001.tif``). Images the CSV does not list are not labelled and are ignored; an image listed
without regions is a labelled micrograph with no virions (all its crops are background).
A CSV naming an image that is not in its folder is an error (``missing="skip"`` logs a warning
and skips it instead): training on silently reduced data is worse than stopping.

The scale of a micrograph is its pixel size (see :mod:`temnet_app.core.scale`). In a folder, the
first of: the CSV row's ``file_attributes`` (``{"pixel_size_nm": 0.28}`` or ``{"magnification":
25000}``, per image), the image file's calibration, its magnification, the folder default (a
:data:`SCALE_FILE` in the CSV's folder or a folder above it, up to the dataset root, holding
``{"pixel_size_nm": 0.28}``, ``{"magnification": 25000}`` or a microscope text such as ``Cal:
0.28 nm/pix``), 30,000x; magnifications at the reference calibration. From a project: its
scale (override, file, experiment, default, with the project's camera calibration). A
micrograph whose labelled boxes measure far from an HIV-1 virion (~145 nm) at its scale is
logged as a warning with the pixel size that would fit. Boxes keep the micrograph's full-image
coordinates; the microscope info band that
:func:`~temnet_app.core.micrographs.reader.read_micrograph` crops off lies below every label.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Iterable, Optional, Sequence, Union

from temnet_app.core import units
from temnet_app.core.annotations import read_via_csv, read_via_scales
from temnet_app.core.boxes import DEFAULT_SCHEME, Box, ClassScheme
from temnet_app.core.errors import AnnotationError, MicrographError, ProjectError
from temnet_app.core.micrographs import is_micrograph_file, read_info
from temnet_app.core.scale import check_pixel_size, resolve_scale
from temnet_app.detector.data.label_scale import SCALE_FILE, folder_scale, warn_if_off_scale

__all__ = ["LabelledMicrograph", "DatasetSplit", "read_folder", "read_project",
           "split_micrographs", "micrograph_group", "MAX_DEPTH"]

PathLike = Union[str, os.PathLike]
_log = logging.getLogger(__name__)

MAX_DEPTH = 4
ANNOTATIONS_NAME = "annotations.csv"
# Suffixes the research code appends to the folders / files of augmented and cropped copies.
_DERIVED = re.compile(r"-(horizontal-flip|vertical-flip|180-rotation|salt-pepper|"
                      r"translate-(up|down|left|right|rigth)|crop\d+)$", re.IGNORECASE)
_TRAIN_NAMES = {"train", "training"}
_VAL_NAMES = {"val", "valid", "validation"}


@dataclass(frozen=True)
class LabelledMicrograph:
    """A micrograph with its reference boxes (full-micrograph pixels, class ids of the scheme it
    was read with). ``key`` is unique within a dataset (relative image path, or
    ``experiment/path`` for projects). ``group`` ties micrographs that must stay on the same
    side of a split (copies of one image); ``split_hint`` is "train" / "validation" when the
    folder layout says so."""

    key: str
    path: Path
    boxes: tuple[Box, ...]
    magnification: float = units.DEFAULT_MAGNIFICATION
    group: str = ""
    split_hint: Optional[str] = None
    pixel_size_nm: Optional[float] = None

    def __post_init__(self) -> None:
        """A given ``pixel_size_nm`` decides, and ``magnification`` becomes the magnification
        giving it at the reference calibration (the unit of the crop plan and the model's
        ``train_magnification``); otherwise the pixel size follows from ``magnification``."""
        object.__setattr__(self, "path", Path(self.path))
        object.__setattr__(self, "boxes", tuple(self.boxes))
        if self.pixel_size_nm is not None:
            size = check_pixel_size(self.pixel_size_nm)
            object.__setattr__(self, "pixel_size_nm", size)
            object.__setattr__(self, "magnification", units.check_magnification(
                units.magnification_from_pixel_size(size)))
        else:
            mag = units.check_magnification(self.magnification)
            object.__setattr__(self, "magnification", mag)
            object.__setattr__(self, "pixel_size_nm", units.nm_per_pixel(mag))
        if not self.group:
            object.__setattr__(self, "group", self.key)


def micrograph_group(name: str) -> str:
    """The image a file name derives from: extension and research-code suffixes removed
    (``7826001-horizontal-flip.png`` -> ``7826001``)."""
    stem = PurePosixPath(name.replace("\\", "/")).name
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    while True:
        shorter = _DERIVED.sub("", stem)
        if shorter == stem:
            return stem
        stem = shorter


# ------------------------------------------------------------------------------------ folders
def read_folder(folder: PathLike, scheme: ClassScheme = DEFAULT_SCHEME, *,
                missing: str = "error") -> list[LabelledMicrograph]:
    """Every labelled micrograph under ``folder`` (see the module docstring), sorted by key.

    Raises AnnotationError when the folder does not exist, holds no VIA CSV, a folder holds
    several CSVs and none is ``annotations.csv``, a CSV names a missing image (unless
    ``missing="skip"``), an image is labelled by two CSVs, or nothing labelled is found.
    """
    if missing not in ("error", "skip"):
        raise ValueError(f"missing must be 'error' or 'skip', got {missing!r}")
    root = Path(folder)
    if not root.is_dir():
        raise AnnotationError(f"dataset folder not found: {root}")
    found: dict[Path, LabelledMicrograph] = {}
    csv_folders = 0
    for here, csvs in _folders_with_csv(root):
        csv_folders += 1
        csv = _pick_csv(here, csvs)
        for item in _read_annotated_folder(root, here, csv, scheme, missing):
            if item.path in found:
                raise AnnotationError(f"{item.path} is labelled twice (in {csv} and another CSV)")
            found[item.path] = item
    if not csv_folders:
        raise AnnotationError(f"no VIA CSV found in {root} or its sub-folders (expected "
                              f"{ANNOTATIONS_NAME} or one *.csv beside the images)")
    if not found:
        raise AnnotationError(f"no labelled micrographs found in {root}: the CSV files there "
                              f"name no image that exists")
    return sorted(found.values(), key=lambda m: m.key)


def _folders_with_csv(root: Path) -> Iterable[tuple[Path, list[Path]]]:
    for here, dirs, files in os.walk(root):
        here_path = Path(here)
        depth = len(here_path.relative_to(root).parts)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if depth < MAX_DEPTH else []
        csvs = sorted(here_path / f for f in files
                      if f.lower().endswith(".csv") and not f.startswith("."))
        if csvs:
            yield here_path, csvs


def _pick_csv(here: Path, csvs: list[Path]) -> Path:
    if len(csvs) == 1:
        return csvs[0]
    for csv in csvs:
        if csv.name.lower() == ANNOTATIONS_NAME:
            return csv
    names = ", ".join(c.name for c in csvs[:5]) + (", ..." if len(csvs) > 5 else "")
    raise AnnotationError(f"{here} holds several CSV files ({names}); name the VIA annotations "
                          f"{ANNOTATIONS_NAME} or keep one CSV per folder")


def _split_hint(relative: Path) -> Optional[str]:
    for part in relative.parts[:-1]:
        name = part.lower()
        if name in _TRAIN_NAMES:
            return "train"
        if name in _VAL_NAMES:
            return "validation"
    return None


def _read_annotated_folder(root: Path, here: Path, csv: Path, scheme: ClassScheme,
                           missing: str) -> list[LabelledMicrograph]:
    images = sorted(p for p in here.iterdir()
                    if p.is_file() and not p.name.startswith(".") and is_micrograph_file(p))
    single_image = _single_image_csv(csv, images)

    def image_size(name: str):
        image = single_image or _match_image(name, images)
        if image is None:
            return None
        info = read_info(image)
        return info.width, info.height

    by_file = read_via_csv(csv, scheme, image_size=image_size)
    boxes_for: dict[Path, list[Box]] = {}
    single = single_image
    if single is not None:
        boxes_for[single] = [b for boxes in by_file.values() for b in boxes]
    else:
        absent = []
        for name, boxes in by_file.items():
            image = _match_image(name, images)
            if image is None:
                absent.append(name)
            else:
                boxes_for.setdefault(image, []).extend(boxes)
        if absent:
            listed = ", ".join(absent[:3]) + (f" and {len(absent) - 3} more"
                                              if len(absent) > 3 else "")
            if missing == "error":
                raise AnnotationError(f"{csv} names {len(absent)} image(s) not found in "
                                      f"{here}: {listed}")
            _log.warning("%s: skipping %d image(s) not found in %s: %s", csv, len(absent),
                         here, listed)
    stated = {}
    for name, scale in read_via_scales(csv).items():
        image = single_image or _match_image(name, images)
        if image is not None:
            stated[image] = scale
    folder_size, folder_mag = folder_scale(root, here)
    out = []
    for image, boxes in boxes_for.items():
        relative = image.relative_to(root)
        info = read_info(image)
        via_size, via_mag = stated.get(image, (None, None))
        try:
            scale = resolve_scale(override_pixel_size=via_size, override_magnification=via_mag,
                                  file_pixel_size=info.pixel_size_nm,
                                  file_magnification=info.magnification,
                                  experiment_pixel_size=folder_size,
                                  experiment_magnification=folder_mag)
        except MicrographError as error:
            raise AnnotationError(f"{image}: {error}") from None
        item = LabelledMicrograph(
            key=relative.as_posix(), path=image, boxes=tuple(boxes),
            pixel_size_nm=scale.pixel_size_nm,
            group=micrograph_group(image.name), split_hint=_split_hint(relative))
        levels = {"override": "the CSV's file_attributes", "experiment": SCALE_FILE}
        warn_if_off_scale(item, levels.get(scale.pixel_size_source, scale.origin()))
        out.append(item)
    return out


def _single_image_csv(csv: Path, images: list[Path]) -> Optional[Path]:
    """The image of a research-layout folder (one image + ``region_data_<stem>.csv``)."""
    name = csv.name.lower()
    if len(images) != 1 or not name.startswith("region_data_"):
        return None
    stem = name[len("region_data_"):-len(".csv")]
    return images[0] if images[0].stem.lower() == stem else None


def _match_image(name: str, images: list[Path]) -> Optional[Path]:
    base = PureWindowsPath(name).name if "\\" in name else PurePosixPath(name).name
    for test in (lambda p: p.name == base, lambda p: p.name.lower() == base.lower()):
        hits = [p for p in images if test(p)]
        if len(hits) == 1:
            return hits[0]
    stem = base.rsplit(".", 1)[0].lower() if "." in base else base.lower()
    hits = [p for p in images if p.stem.lower() == stem]
    return hits[0] if len(hits) == 1 else None


# ----------------------------------------------------------------------------------- projects
def read_project(project, scheme: ClassScheme = DEFAULT_SCHEME,
                 experiments: Optional[Sequence[str]] = None,
                 reviewed_only: bool = False) -> list[LabelledMicrograph]:
    """Every annotated micrograph of a project (a :class:`~temnet_app.core.project.project.Project`
    or a ``*.temnet`` path), in project order; only those of ``experiments`` (names) when
    given, only those marked reviewed with ``reviewed_only``.

    "Annotated" includes micrographs explicitly marked as holding no virions. Class ids are
    mapped by name from the project's classes to ``scheme``; a project class that ``scheme``
    lacks, an unknown experiment, or an image file that cannot be found raises ProjectError.
    """
    from temnet_app.core.project import Project

    if isinstance(project, Project):
        return _project_items(project, scheme, experiments, reviewed_only)
    with Project.open(project) as opened:
        return _project_items(opened, scheme, experiments, reviewed_only)


def _project_items(project, scheme: ClassScheme, wanted: Optional[Sequence[str]],
                   reviewed_only: bool) -> list[LabelledMicrograph]:
    annotated = project.annotated_micrograph_ids()
    if reviewed_only:
        annotated &= project.reviewed_micrograph_ids()
    source_scheme = project.scheme
    experiments = {e.id: e.name for e in project.experiments()}
    keep = set(experiments)
    if wanted:
        by_name = {name.lower(): eid for eid, name in experiments.items()}
        missing = [w for w in wanted if w.lower() not in by_name]
        if missing:
            raise ProjectError(f"no experiment named {missing[0]!r} in {project.path.name} "
                               f"(experiments: {', '.join(experiments.values())})")
        keep = {by_name[w.lower()] for w in wanted}
    out = []
    for m in project.micrographs():
        if m.id not in annotated or m.experiment_id not in keep:
            continue
        boxes = []
        for box in project.manual_boxes(m.id):
            name = source_scheme.name(box.class_id)
            try:
                class_id = scheme.id(name)
            except ValueError:
                raise ProjectError(f"micrograph {m.name} has manual boxes of class {name!r}, "
                                   f"which the model's classes ({', '.join(scheme.names)}) "
                                   f"do not include") from None
            boxes.append(Box(box.x1, box.y1, box.x2, box.y2, class_id))
        scale = project.scale(m)
        item = LabelledMicrograph(
            key=f"{experiments[m.experiment_id]}/{m.path}", path=project.image_path(m),
            boxes=tuple(boxes), pixel_size_nm=scale.pixel_size_nm,
            group=f"sha256:{m.checksum}")
        warn_if_off_scale(item, scale.origin())
        out.append(item)
    if not out:
        which = " reviewed" if reviewed_only else ""
        raise ProjectError(f"{project.path.name} has no{which} micrographs with manual "
                           f"annotations to train on" + (" in the experiments chosen"
                                                         if wanted else ""))
    return out


# -------------------------------------------------------------------------------------- split
@dataclass(frozen=True)
class DatasetSplit:
    """Which micrographs (by key) train and which validate; ``method`` is "folders" (the
    dataset's own train / val folders) or "seeded" (hash order under ``seed``)."""

    train: tuple[str, ...]
    validation: tuple[str, ...]
    method: str
    seed: int
    validation_fraction: float
    notes: tuple[str, ...] = field(default=())

    def select(self, micrographs: Sequence[LabelledMicrograph]
               ) -> tuple[list[LabelledMicrograph], list[LabelledMicrograph]]:
        """``(train, validation)`` records of ``micrographs`` in this split."""
        train, val = set(self.train), set(self.validation)
        return ([m for m in micrographs if m.key in train],
                [m for m in micrographs if m.key in val])

    def to_dict(self) -> dict:
        """JSON-able record for the model card."""
        return {"method": self.method, "seed": self.seed,
                "validation_fraction": self.validation_fraction, "train": list(self.train),
                "validation": list(self.validation), "notes": list(self.notes)}


def _rank(seed: int, group: str) -> str:
    return hashlib.sha256(f"{int(seed)}\x00{group}".encode("utf-8")).hexdigest()


def split_micrographs(micrographs: Sequence[LabelledMicrograph],
                      validation_fraction: float = 0.2, seed: int = 0, *,
                      use_folder_split: bool = True) -> DatasetSplit:
    """Assign whole micrographs (whole groups: copies of one image stay together) to training
    or validation.

    With ``use_folder_split`` and every micrograph under a train / val folder (the published
    dataset) that split is kept. Otherwise groups are ordered by a hash of ``seed`` and the
    group name (independent of input order; adding micrographs rarely moves others) and the
    first ``round(fraction * groups)`` validate, at least one when there are two or more
    groups and the fraction is positive, never all. A single group trains alone.
    """
    if not 0.0 <= validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in [0, 1), got {validation_fraction!r}")
    items = list(micrographs)
    keys = [m.key for m in items]
    if len(set(keys)) != len(keys):
        raise AnnotationError("two labelled micrographs share a key; cannot split them")
    hints = {m.split_hint for m in items}
    if use_folder_split and items and None not in hints and hints == {"train", "validation"}:
        side = {}
        for m in items:
            if side.setdefault(m.group, m.split_hint) != m.split_hint:
                raise AnnotationError(f"micrograph {m.group} appears in both the train and "
                                      f"the validation folders; the split would leak it")
        return DatasetSplit(tuple(m.key for m in items if m.split_hint == "train"),
                            tuple(m.key for m in items if m.split_hint == "validation"),
                            "folders", int(seed), float(validation_fraction))
    groups = sorted({m.group for m in items}, key=lambda g: (_rank(seed, g), g))
    n_val = int(round(validation_fraction * len(groups)))
    if validation_fraction > 0 and len(groups) >= 2:
        n_val = min(max(n_val, 1), len(groups) - 1)
    notes = () if len(groups) >= 2 else ("only one micrograph: nothing left to validate on",)
    val_groups = set(groups[:n_val])
    return DatasetSplit(tuple(m.key for m in items if m.group not in val_groups),
                        tuple(m.key for m in items if m.group in val_groups),
                        "seeded", int(seed), float(validation_fraction), notes)
