"""The open project as the window sees it: the project, its experiments and micrographs, the
detection counts at the confidence threshold, the current micrograph, and which image files
could not be read. Panels observe it through signals and never query each other.

The class scheme (names and colours) is kept here too, and changes only in the GUI thread:
a detection run may change the project's classes from its worker (a fresh project takes the
model's), and panels that build a column, a button or a menu entry per class must rebuild
from the same list they count with (``classesChanged``).

Project change callbacks arrive in the thread that wrote (a detection worker); they are
forwarded here through a queued signal, so every slot below runs in the GUI thread.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from temnet_app.core.analysis import DetectionIndex
from temnet_app.core.classes import ClassScheme
from temnet_app.core.errors import ProjectError
from temnet_app.core.project import ChangeEvent, Experiment, Micrograph, Project

THRESHOLD_SETTING = "threshold"
CURRENT_SETTING = "shown_micrograph"
_log = logging.getLogger(__name__)


class Session(QObject):
    """One open project (or none) and the view state shared by the panels."""

    projectChanged = Signal()              # opened, closed
    structureChanged = Signal()            # experiments / micrographs added, removed, renamed
    countsChanged = Signal()               # threshold moved or detections stored
    detectionsStored = Signal(list)        # micrograph ids whose detections were stored
    manualChanged = Signal(list)           # micrograph ids whose manual data changed
    thresholdChanged = Signal(float)
    currentChanged = Signal(int)           # micrograph id, -1 for none
    problemsChanged = Signal()             # unreadable / missing files found or cleared
    classesChanged = Signal()              # class names or colours changed (project open)
    _event = Signal(object)

    def __init__(self, threshold: float = 0.5, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.project: Optional[Project] = None
        self.scheme: Optional[ClassScheme] = None     # the project's, as the window shows it
        self.index: Optional[DetectionIndex] = None
        self.threshold = float(threshold)
        self.current_id = -1
        self.experiments: list[Experiment] = []
        self.micrographs: dict[int, list[Micrograph]] = {}
        self.by_id: dict[int, Micrograph] = {}
        self.annotated: set[int] = set()
        self.reviewed: set[int] = set()
        self.run_models: dict[int, str] = {}     # run id -> model id
        self.problems: dict[int, str] = {}
        self._unsubscribe = None
        self._event.connect(self._on_event, Qt.ConnectionType.QueuedConnection)
        self._save_timer = QTimer(self, singleShot=True, interval=600)
        self._save_timer.timeout.connect(self._save_threshold)

    # ----------------------------------------------------------------- open / close
    def open(self, path) -> Project:
        """Open the project file at ``path`` (closing the current one); ProjectError if it is
        not a usable TEMNet project."""
        project = Project.open(Path(path))
        self.close()
        self.project = project
        self._unsubscribe = project.subscribe(self._event.emit)
        saved = project.setting(THRESHOLD_SETTING)
        if isinstance(saved, (int, float)) and 0.0 <= float(saved) <= 1.0:
            self.threshold = float(saved)
        self._reload_structure()
        self.scheme = project.scheme
        self.index = self._new_index()
        self.annotated = project.annotated_micrograph_ids()
        self.reviewed = project.reviewed_micrograph_ids()
        self.run_models = {r.id: r.model_id for r in project.runs()}
        self.problems = {}
        self.check_files()
        self.current_id = -1
        self.projectChanged.emit()
        self.thresholdChanged.emit(self.threshold)
        self.countsChanged.emit()
        shown = project.setting(CURRENT_SETTING)
        first = next(iter(self.by_id), -1)
        self.set_current(shown if isinstance(shown, int) and shown in self.by_id else first)
        return project

    def close(self) -> None:
        if self.project is None:
            return
        self._save_threshold()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.project.close()
        self.project, self.index, self.scheme = None, None, None
        self.experiments, self.micrographs, self.by_id = [], {}, {}
        self.annotated, self.reviewed, self.problems = set(), set(), {}
        self.current_id = -1
        self.projectChanged.emit()
        self.currentChanged.emit(-1)

    @property
    def is_open(self) -> bool:
        return self.project is not None

    @property
    def class_names(self) -> tuple[str, ...]:
        """The class names the window shows (empty with no project open)."""
        return self.scheme.names if self.scheme is not None else ()

    def _new_index(self) -> DetectionIndex:
        index = DetectionIndex(self.scheme.names)
        index.refresh(self.project)
        return index

    def _reload_structure(self) -> None:
        assert self.project is not None
        self.experiments = self.project.experiments()
        self.micrographs = {e.id: [] for e in self.experiments}
        for m in self.project.micrographs():
            self.micrographs.setdefault(m.experiment_id, []).append(m)
        self.by_id = {m.id: m for ms in self.micrographs.values() for m in ms}

    # ----------------------------------------------------------------- threshold
    def set_threshold(self, value: float) -> None:
        value = min(1.0, max(0.0, float(value)))
        if abs(value - self.threshold) < 1e-9:
            return
        self.threshold = value
        self.thresholdChanged.emit(value)
        self.countsChanged.emit()
        if self.project is not None:
            self._save_timer.start()

    @Slot()
    def _save_threshold(self) -> None:
        """Remember the threshold and the shown micrograph in the project (debounced)."""
        self._save_timer.stop()
        if self.project is None or self.project.closed or self.project.read_only:
            return
        for key, value in ((THRESHOLD_SETTING, self.threshold),
                           (CURRENT_SETTING, self.current_id if self.current_id != -1 else None)):
            if self.project.setting(key) != value:
                try:
                    self.project.set_setting(key, value)
                except Exception:  # noqa: BLE001 - a busy file must not break the window
                    _log.exception("could not save the %s setting", key)

    # ----------------------------------------------------------------- selection
    def set_current(self, micrograph_id: int) -> None:
        micrograph_id = int(micrograph_id)
        if micrograph_id != -1 and micrograph_id not in self.by_id:
            micrograph_id = -1
        if micrograph_id != self.current_id:
            self.current_id = micrograph_id
            self.currentChanged.emit(micrograph_id)
            if self.project is not None:
                self._save_timer.start()

    def current(self) -> Optional[Micrograph]:
        return self.by_id.get(self.current_id)

    def experiment_of(self, micrograph_id: int) -> Optional[Experiment]:
        m = self.by_id.get(int(micrograph_id))
        return next((e for e in self.experiments if m and e.id == m.experiment_id), None)

    def neighbour(self, step: int) -> Optional[int]:
        """The micrograph ``step`` places after the current one within its experiment."""
        m = self.current()
        if m is None:
            return None
        siblings = self.micrographs.get(m.experiment_id, [])
        ids = [s.id for s in siblings]
        i = ids.index(m.id) + step
        return ids[i] if 0 <= i < len(ids) else None

    # ----------------------------------------------------------------- counts
    def counts(self, micrograph_id: int) -> Optional[np.ndarray]:
        """Detections per class of one micrograph at the threshold (None: not detected)."""
        return None if self.index is None else self.index.counts_of(micrograph_id,
                                                                    self.threshold)

    def model_of(self, micrograph_id: int) -> Optional[str]:
        """The model whose detections of this micrograph are shown (None: not detected)."""
        run = self.index.run_of(micrograph_id) if self.index is not None else None
        return self.run_models.get(run) if run is not None else None

    def experiment_counts(self, experiment_id: int) -> Optional[np.ndarray]:
        if self.index is None:
            return None
        return self.index.total([m.id for m in self.micrographs.get(experiment_id, [])],
                                self.threshold)

    def project_counts(self) -> Optional[np.ndarray]:
        return None if self.index is None else self.index.total(self.by_id, self.threshold)

    # ----------------------------------------------------------------- problems
    def check_files(self) -> None:
        """Mark micrographs whose image file is missing or changed (a stat per file; a moved
        file is looked for where the project keeps looking). Unreadable content is found when
        a micrograph is shown or detected."""
        if self.project is None:
            return
        changed = False
        for mid, micrograph in self.by_id.items():
            try:
                self.project.image_path(micrograph)
            except ProjectError as error:
                changed |= self.problems.get(mid) != str(error)
                self.problems[mid] = str(error)
            else:
                if mid in self.problems and ("not found" in self.problems[mid]
                                             or "changed" in self.problems[mid]):
                    del self.problems[mid]
                    changed = True
        if changed:
            self.problemsChanged.emit()

    def mark_problem(self, micrograph_id: int, reason: Optional[str]) -> None:
        """Record (or clear, with None) why a micrograph's file cannot be used."""
        before = self.problems.get(micrograph_id)
        if reason is None:
            self.problems.pop(micrograph_id, None)
        else:
            self.problems[micrograph_id] = reason
        if before != reason:
            self.problemsChanged.emit()

    # ----------------------------------------------------------------- project events
    @Slot(object)
    def _on_event(self, event: ChangeEvent) -> None:
        if self.project is None or self.project.closed:
            return
        if event.kind in ("experiment", "micrograph"):
            self._reload_structure()
            gone = [i for i in event.ids if event.kind == "micrograph" and i not in self.by_id]
            if gone:
                self.index.refresh(self.project, gone)
                for mid in gone:
                    self.problems.pop(mid, None)
            self.check_files()
            self.structureChanged.emit()
            if self.current_id != -1 and self.current_id not in self.by_id:
                self.set_current(-1)
            if gone:
                self.countsChanged.emit()
        elif event.kind == "detections":
            self.index.refresh(self.project, event.ids)
            self.detectionsStored.emit(list(event.ids))
            self.countsChanged.emit()
        elif event.kind == "run":
            self.run_models = {r.id: r.model_id for r in self.project.runs()}
            self.index.refresh(self.project)
            self.countsChanged.emit()
        elif event.kind == "manual":
            self.annotated = self.project.annotated_micrograph_ids()
            self.reviewed = self.project.reviewed_micrograph_ids()
            self.manualChanged.emit(list(event.ids))
        elif event.kind == "classes":
            self._classes_changed()

    def _classes_changed(self) -> None:
        """The project's classes changed (renamed, recoloured, added or removed): count with
        the new list, then let the panels rebuild."""
        if self.project is None or self.project.closed:
            return
        scheme = self.project.scheme  # already the new one when the change is announced
        if scheme == self.scheme:
            return
        self.scheme = scheme
        self.index = self._new_index()
        self.classesChanged.emit()
        self.countsChanged.emit()
