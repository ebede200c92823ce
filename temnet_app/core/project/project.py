"""A TEMNet project: ONE SQLite file (``*.temnet``) holding experiments, micrographs, manual
reference data and detection runs (see :mod:`.schema` for the tables).

:class:`Project` is the face the rest of the program uses. It opens and creates the file (see
:mod:`.opening`) and hands each call to the helper that owns the table:
:class:`~.experiments.Experiments`, :class:`~.micrographs.Micrographs`,
:class:`~.manual.ManualData`, :class:`~.runs.Runs` and :class:`~.meta.Meta` (class names,
settings), all sharing one :class:`~.store.Store` (the connection, its lock, transactions and
change events; see there for the guarantees).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np

from temnet_app.core.atomic import atomic_path
from temnet_app.core.boxes import Box, ClassScheme, Detection
from temnet_app.core.errors import ProjectError
from temnet_app.core.progress import CancelToken, ProgressFn
from temnet_app.core.project import schema
from temnet_app.core.project.experiments import UNCHANGED, Experiments
from temnet_app.core.project.files import absolute
from temnet_app.core.project.manual import ManualData
from temnet_app.core.project.meta import Meta
from temnet_app.core.project.micrographs import Micrographs
from temnet_app.core.project.opening import create_file, open_connection
from temnet_app.core.project.records import (AddFolderResult, ChangeEvent, DetectionRun, Experiment,
                                             Micrograph)
from temnet_app.core.project.runs import Runs
from temnet_app.core.project.store import Store
from temnet_app.core.scale import CameraCalibration, Scale

SCHEMA_VERSION = schema.SCHEMA_VERSION
PROJECT_SUFFIX = schema.PROJECT_SUFFIX
MicrographRef = Union[Micrograph, int]


class Project:
    """An open project file. Create with :meth:`create` or :meth:`open`; use as a context
    manager or call :meth:`close`. Safe to share between threads."""

    def __init__(self, path: Path, conn: sqlite3.Connection, read_only: str = "") -> None:
        self._store = Store(path, conn, read_only)
        self._meta = Meta(self._store)
        self._experiments = Experiments(self._store)
        self._micrographs = Micrographs(self._store, self._meta.camera_calibration)
        self._manual = ManualData(self._store, self._meta)
        self._runs = Runs(self._store, self._meta)

    # ----------------------------------------------------------------- open / close
    @classmethod
    def create(cls, path) -> "Project":
        """Create a new, empty project file (it must end in ``.temnet`` and must not exist)."""
        return cls.open(create_file(path))

    @classmethod
    def open(cls, path, read_only: bool = False) -> "Project":
        """Open an existing project, upgrading an older project format (after a backup copy
        ``<name>.temnet.format<N>.bak``).

        A project whose file or folder cannot be written (a CD, a shared folder without write
        rights) is opened read-only: everything can be read, and a change raises
        :class:`ProjectError` saying why (:attr:`read_only` holds the reason). ``read_only``
        asks for that mode explicitly."""
        path = absolute(Path(path))
        conn, reason = open_connection(path, read_only)
        return cls(path, conn, read_only=reason)

    @property
    def read_only(self) -> str:
        """Why the project is open read-only ("" when it can be changed)."""
        return self._store.read_only

    @property
    def path(self) -> Path:
        return self._store.path

    @property
    def folder(self) -> Path:
        """The folder holding the project file (stored image paths are relative to it)."""
        return self._store.folder

    def close(self) -> None:
        """Close the file (idempotent); later calls raise :class:`ProjectError`."""
        self._store.close()

    @property
    def closed(self) -> bool:
        return self._store.closed

    def __enter__(self) -> "Project":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Project({str(self.path)!r}{', closed' if self.closed else ''})"

    def save_copy(self, target) -> Path:
        """Write a consistent copy of the project to ``target`` (a new ``.temnet`` file,
        atomically); the open project stays the one in use. Image paths stay valid from the
        copy's folder too (each micrograph also remembers its absolute path)."""
        target = absolute(Path(target))
        if target.suffix.lower() != PROJECT_SUFFIX:
            raise ProjectError(f"a project file name must end in {PROJECT_SUFFIX}: "
                               f"{target.name}")
        if target == self.path:
            raise ProjectError("choose another file name: this is the open project")
        try:
            with atomic_path(target) as tmp, self._store.reading() as conn:
                schema.backup_to(conn, tmp)
        except (OSError, sqlite3.Error) as exc:
            raise ProjectError(f"cannot save a copy to {target}: {exc}") from exc
        return target

    def subscribe(self, callback: Callable[[ChangeEvent], None]) -> Callable[[], None]:
        """Call ``callback(event)`` after each committed change; returns the unsubscribe
        function. Callbacks run in the writing thread; an exception in one is logged."""
        return self._store.subscribe(callback)

    # ----------------------------------------------------------------- classes, settings
    @property
    def class_names(self) -> tuple[str, ...]:
        """Foreground class names; class id ``i + 1`` is ``class_names[i]``."""
        return self._meta.class_names

    @property
    def scheme(self) -> ClassScheme:
        return self._meta.scheme

    def set_classes(self, classes: Union[ClassScheme, Sequence[str]]) -> None:
        """Rename, recolour or add classes (a scheme, or names with default colours), e.g.
        from a model card. Refused if stored boxes use a class id beyond the new list or
        manual counts use a name not in it."""
        self._meta.set_classes(classes)

    def classes_in_use(self) -> bool:
        """Whether boxes, detections or counts are stored under the project's classes."""
        return self._meta.classes_in_use()

    def setting(self, key: str, default: Any = None) -> Any:
        """A value the project remembers (JSON), e.g. the window's confidence threshold."""
        return self._meta.setting(key, default)

    def set_setting(self, key: str, value: Optional[Any]) -> None:
        """Remember ``value`` (JSON-serialisable) under ``key``; ``None`` forgets it."""
        self._meta.set_setting(key, value)

    # ----------------------------------------------------------------- experiments
    def add_experiment(self, name: str, notes: str = "", magnification: Optional[float] = None,
                       pixel_size_nm: Optional[float] = None) -> Experiment:
        """A new experiment; its name must be unique (case-insensitive)."""
        return self._experiments.add_experiment(name, notes, magnification, pixel_size_nm)

    def experiments(self) -> list[Experiment]:
        return self._experiments.experiments()

    def experiment(self, experiment_id: int) -> Experiment:
        return self._experiments.experiment(experiment_id)

    def experiment_by_name(self, name: str) -> Optional[Experiment]:
        """The experiment called ``name`` (case-insensitive), or ``None``."""
        return self._experiments.experiment_by_name(name)

    def update_experiment(self, experiment_id: int, *, name: Optional[str] = None,
                          notes: Optional[str] = None, magnification=UNCHANGED,
                          pixel_size_nm=UNCHANGED) -> Experiment:
        """Change name, notes, magnification and/or pixel size (``None`` clears a value)."""
        return self._experiments.update_experiment(experiment_id, name=name, notes=notes,
                                                   magnification=magnification,
                                                   pixel_size_nm=pixel_size_nm)

    def remove_experiment(self, experiment_id: int) -> None:
        """Delete the experiment with its micrographs, manual data and detections."""
        self._experiments.remove_experiment(experiment_id)

    # ----------------------------------------------------------------- micrographs
    def add_folder(self, folder, name: Optional[str] = None,
                   magnification: Optional[float] = None, *,
                   pixel_size_nm: Optional[float] = None,
                   progress: Optional[ProgressFn] = None,
                   cancel: Optional[CancelToken] = None) -> AddFolderResult:
        """A new experiment named after ``folder`` (or ``name``; a taken name becomes
        ``name (2)``) with one micrograph per image file, in natural name order; skipped files
        are listed with the reason. ``magnification`` / ``pixel_size_nm``: the experiment's
        scale, used for micrographs whose files state none."""
        return self._micrographs.add_folder(folder, name, magnification,
                                            pixel_size_nm=pixel_size_nm, progress=progress,
                                            cancel=cancel)

    def add_micrograph(self, experiment_id: int, image_path) -> Micrograph:
        """Add one image file to an experiment (read once for size, metadata, checksum)."""
        return self._micrographs.add_micrograph(experiment_id, image_path)

    def micrographs(self, experiment_id: Optional[int] = None) -> list[Micrograph]:
        """Micrographs of one experiment (or all), by experiment then insertion order."""
        return self._micrographs.micrographs(experiment_id)

    def micrograph(self, micrograph_id: int) -> Micrograph:
        return self._micrographs.micrograph(micrograph_id)

    def remove_micrograph(self, micrograph_id: int) -> None:
        """Delete a micrograph with its manual data and detections (the image file stays)."""
        self._micrographs.remove_micrograph(micrograph_id)

    def image_path(self, micrograph: MicrographRef) -> Path:
        """The micrograph's image file on disk, found again after a move when its bytes
        match; :class:`ProjectError` when it is missing or changed."""
        return self._micrographs.image_path(micrograph)

    def relink_micrograph(self, micrograph_id: int, image_path) -> Micrograph:
        """Point a micrograph at a moved file; it must have the same bytes (sha256)."""
        return self._micrographs.relink_micrograph(micrograph_id, image_path)

    def set_magnification_override(self, micrograph_id: int, value: Optional[float]) -> None:
        """Set (or clear with ``None``) the user's magnification for one micrograph."""
        self._micrographs.set_magnification_override(micrograph_id, value)

    def set_pixel_size_override(self, micrograph_id: int, value: Optional[float]) -> None:
        """Set (or clear with ``None``) the user's pixel size in nm for one micrograph."""
        self._micrographs.set_pixel_size_override(micrograph_id, value)

    def scale(self, micrograph: MicrographRef) -> Scale:
        """The micrograph's pixel size (what the detector uses) and magnification, each with
        where it came from: override, file, experiment, default (pixel size first at each
        level; magnifications converted with the camera calibration)."""
        return self._micrographs.scale(micrograph)

    def pixel_size(self, micrograph: MicrographRef) -> float:
        """nm per pixel used for the micrograph (``scale(micrograph).pixel_size_nm``)."""
        return self._micrographs.scale(micrograph).pixel_size_nm

    def magnification(self, micrograph: MicrographRef) -> float:
        """The nominal magnification (the lab's label; the detector uses :meth:`pixel_size`)."""
        return self._micrographs.scale(micrograph).magnification

    def camera_calibration(self) -> Optional[CameraCalibration]:
        """The camera's nm/px at a magnification (None: 0.561 nm/px at 30,000x)."""
        return self._meta.camera_calibration()

    def set_camera_calibration(self, calibration: Optional[CameraCalibration]) -> None:
        """Set the project's camera calibration (``None``: the reference calibration)."""
        self._meta.set_camera_calibration(calibration)

    # ----------------------------------------------------------------- manual reference data
    def set_manual_boxes(self, micrograph_id: int, boxes: Sequence[Box]) -> None:
        """Replace all manual boxes of a micrograph and mark it annotated (an empty list
        means "annotated, no virions")."""
        self._manual.set_manual_boxes(micrograph_id, boxes)

    def clear_manual_boxes(self, micrograph_id: int) -> None:
        """Remove a micrograph's manual boxes and its "annotated" mark."""
        self._manual.clear_manual_boxes(micrograph_id)

    def manual_boxes(self, micrograph_id: int) -> list[Box]:
        """The micrograph's manual boxes in the order they were given."""
        return self._manual.manual_boxes(micrograph_id)

    def annotated_micrograph_ids(self, experiment_id: Optional[int] = None) -> set[int]:
        """Micrographs with a stored manual box set (possibly empty)."""
        return self._manual.annotated_micrograph_ids(experiment_id)

    def set_manual_counts(self, micrograph_id: int,
                          counts: Optional[Mapping[str, int]]) -> None:
        """Store explicit per-class counts (class name -> count >= 0); ``None`` clears them."""
        self._manual.set_manual_counts(micrograph_id, counts)

    def manual_counts(self, micrograph_id: int) -> Optional[dict[str, int]]:
        """Explicit counts as stored (in class order), or ``None`` if none were set."""
        return self._manual.manual_counts(micrograph_id)

    def set_reviewed(self, micrograph_id: int, reviewed: bool = True) -> None:
        """Mark (or unmark) a micrograph as reviewed: a person checked its manual boxes."""
        self._manual.set_reviewed(micrograph_id, reviewed)

    def reviewed_micrograph_ids(self, experiment_id: Optional[int] = None) -> set[int]:
        return self._manual.reviewed_micrograph_ids(experiment_id)

    # ----------------------------------------------------------------- detection runs
    def start_run(self, model_id: str, settings: dict, score_floor: float) -> DetectionRun:
        """A new run with status ``running``; ``settings`` must be JSON-serialisable."""
        return self._runs.start_run(model_id, settings, score_floor)

    def store_detections(self, run_id: int, micrograph_id: int,
                         detections: Sequence[Detection], scale: Optional[Scale] = None) -> None:
        """Replace the micrograph's detections in the run, in ONE transaction; ``scale`` (the
        one the detector was given) is recorded with them."""
        self._runs.store_detections(run_id, micrograph_id, detections, scale)

    def run_scales(self, run_id: int) -> dict[int, tuple[Optional[float], Optional[str]]]:
        """{micrograph id: (nm/px, where it came from)} the run used (None for runs stored
        before project format 4)."""
        return self._runs.run_scales(run_id)

    def finish_run(self, run_id: int, status: str) -> DetectionRun:
        """Set the run's status (``complete``, ``cancelled``, ``failed``, or ``running``)."""
        return self._runs.finish_run(run_id, status)

    def claim_run(self, run_id: int) -> DetectionRun:
        """Resume run ``run_id`` in this process (refused while another live process runs it;
        see :meth:`Runs.claim_run`)."""
        return self._runs.claim_run(run_id)

    def runs(self) -> list[DetectionRun]:
        return self._runs.runs()

    def run(self, run_id: int) -> DetectionRun:
        return self._runs.run(run_id)

    def latest_run(self) -> Optional[DetectionRun]:
        """The newest run with detections stored for at least one micrograph (any status)."""
        return self._runs.latest_run()

    def remove_run(self, run_id: int) -> None:
        self._runs.remove_run(run_id)

    def detected_micrograph_ids(self, run_id: int) -> set[int]:
        """Micrographs whose detections are stored in the run (including zero detections)."""
        return self._runs.detected_micrograph_ids(run_id)

    def detections(self, run_id: int, micrograph_id: int,
                   min_score: float = 0.0) -> list[Detection]:
        """The micrograph's detections in the run with score >= ``min_score``, best first."""
        return self._runs.detections(run_id, micrograph_id, min_score)

    def detection_arrays(self, run_id: int, micrograph_id: int, min_score: float = 0.0
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(xyxy (N, 4), class_ids (N,), scores (N,))`` of :meth:`detections`."""
        return self._runs.detection_arrays(run_id, micrograph_id, min_score)

    def detection_counts(self, run_id: int, min_score: float = 0.0,
                         experiment_id: Optional[int] = None) -> dict[int, dict[str, int]]:
        """Per processed micrograph of the run, detections per class name with score >=
        ``min_score`` (zeros included), counted in SQL."""
        return self._runs.detection_counts(run_id, min_score, experiment_id)

    def latest_runs(self) -> dict[int, int]:
        """``{micrograph_id: run_id}``: the newest run holding each detected micrograph."""
        return self._runs.latest_runs()

    def latest_scores(self, micrograph_ids: Optional[Sequence[int]] = None
                      ) -> tuple[dict[int, int], np.ndarray]:
        """The newest run of each micrograph and its detections as ``(N, 3)`` rows of
        ``micrograph_id, class_id, score`` (see :meth:`.runs.Runs.latest_scores`)."""
        return self._runs.latest_scores(micrograph_ids)

