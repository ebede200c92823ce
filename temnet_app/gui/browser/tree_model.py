"""A Qt item model over the session's project: experiments (top level) and their micrographs,
with per-class counts at the threshold, totals, magnification and status marks.

The model reads the session (which caches the project's tables and the detection index) and
is reset when experiments or micrographs change; count columns are refreshed in place when
the threshold moves or detections arrive. Experiment names are edited in place (rename).
"""

from __future__ import annotations

from typing import Any, Optional

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont

from temnet_app.core.errors import MicrographError, ProjectError
from temnet_app.gui.session import Session
from temnet_app.gui.style import class_colour, class_title, status_icon, swatch

NAME_COL = 0
EXPERIMENT_ROLE = Qt.ItemDataRole.UserRole + 1   # experiment id (both levels)
MICROGRAPH_ROLE = Qt.ItemDataRole.UserRole + 2   # micrograph id, or -1 on experiment rows
_TOP = 0xFFFFFFFF
_ROLES = {Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole, Qt.ItemDataRole.DecorationRole,
          Qt.ItemDataRole.FontRole, Qt.ItemDataRole.TextAlignmentRole,
          Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.ToolTipRole, EXPERIMENT_ROLE,
          MICROGRAPH_ROLE}
_SELECTABLE = (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
               | Qt.ItemFlag.ItemIsDropEnabled)
_EDITABLE = _SELECTABLE | Qt.ItemFlag.ItemIsEditable
_BOLD = QFont()
_BOLD.setBold(True)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
# how the scale column marks where a micrograph's pixel size comes from
SOURCE_MARK = {"file": "", "experiment": "(exp.)", "override": "(set)", "default": "(def.)"}


def abbreviation(names: tuple[str, ...], index: int) -> str:
    """A count column's title: the first three letters and a dot ("Mat."), the whole name when
    it is four letters or less, more letters while another class starts the same way."""
    name = names[index]
    if len(name) <= 4:
        return class_title(name)
    others = [n.lower() for i, n in enumerate(names) if i != index]
    size = 3
    while size < len(name) and any(o.startswith(name[:size].lower()) for o in others):
        size += 1
    return class_title(name) if size >= len(name) else class_title(name[:size]) + "."


class ProjectTreeModel(QAbstractItemModel):
    """Experiments -> micrographs of the open project."""

    renameFailed = Signal(str)

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self._icons: dict[tuple[bool, bool, bool, bool], Any] = {}
        self._mags: dict[int, str] = {}
        session.projectChanged.connect(self.reset)
        session.classesChanged.connect(self.reset)       # count columns follow the classes
        session.structureChanged.connect(self.reset)
        session.countsChanged.connect(self.refresh_counts)
        session.manualChanged.connect(lambda ids: self.refresh_marks())
        session.problemsChanged.connect(self.refresh_marks)

    # ----------------------------------------------------------------- columns
    @property
    def class_names(self) -> tuple[str, ...]:
        """The session's classes (changed only between a model reset's begin and end)."""
        return self.session.class_names

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 3 + len(self.class_names)

    @property
    def total_col(self) -> int:
        return 1 + len(self.class_names)

    @property
    def mag_col(self) -> int:
        return 2 + len(self.class_names)

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        names = self.class_names
        if role == Qt.ItemDataRole.DisplayRole:
            if section == NAME_COL:
                return "Name"
            if 1 <= section <= len(names):
                return abbreviation(names, section - 1)
            return "Total" if section == self.total_col else "nm/px"
        if role == Qt.ItemDataRole.DecorationRole and 1 <= section <= len(names):
            return swatch(class_colour(self.session.scheme, section))
        if role == Qt.ItemDataRole.ToolTipRole and section == self.mag_col:
            return ("Pixel size in nm the detector uses: from the file (its calibration, else its "
                    "magnification), or (exp.) the experiment's setting, (set) set for the "
                    "micrograph, (def.) the default 30,000x; magnifications are converted with "
                    "the camera calibration")
        if role == Qt.ItemDataRole.ToolTipRole and 0 < section <= self.total_col:
            what = names[section - 1] if section <= len(names) else "all classes"
            return (f"{class_title(what)}: detections with confidence >= "
                    f"{self.session.threshold:.2f} "
                    f"(newest run of each micrograph)")
        return None

    # ----------------------------------------------------------------- structure
    def index(self, row: int, column: int, parent: QModelIndex = QModelIndex()) -> QModelIndex:
        if row < 0 or not 0 <= column < self.columnCount():
            return QModelIndex()
        if not parent.isValid():
            if row >= len(self.session.experiments):
                return QModelIndex()
            return self.createIndex(row, column, _TOP)
        if parent.internalId() != _TOP or row >= self.rowCount(parent):
            return QModelIndex()
        return self.createIndex(row, column, parent.row())

    def parent(self, child: QModelIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        if not child.isValid() or child.internalId() == _TOP:
            return QModelIndex()
        return self.createIndex(int(child.internalId()), 0, _TOP)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        if not parent.isValid():
            return len(self.session.experiments)
        if parent.internalId() == _TOP and parent.column() == 0:
            experiment = self.session.experiments[parent.row()]
            return len(self.session.micrographs.get(experiment.id, []))
        return 0

    def _record(self, index: QModelIndex):
        """(experiment, micrograph or None) of an index."""
        if index.internalId() == _TOP:
            return self.session.experiments[index.row()], None
        experiment = self.session.experiments[int(index.internalId())]
        return experiment, self.session.micrographs[experiment.id][index.row()]

    def reset(self) -> None:
        self.beginResetModel()
        self._mags.clear()
        self.endResetModel()

    def refresh_counts(self) -> None:
        """Counts and marks changed (threshold or detections): repaint those cells."""
        if not self.session.experiments:
            return
        last = self.total_col
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 1, self.total_col)
        top = self.rowCount() - 1
        self.dataChanged.emit(self.index(0, 0), self.index(top, last))
        for row in range(top + 1):
            parent = self.index(row, 0)
            n = self.rowCount(parent)
            if n:
                self.dataChanged.emit(self.index(0, 0, parent), self.index(n - 1, last, parent))

    refresh_marks = refresh_counts

    # ----------------------------------------------------------------- data
    def flags(self, index: QModelIndex):
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        if index.internalId() == _TOP and index.column() == NAME_COL:
            return _EDITABLE
        return _SELECTABLE

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if role not in _ROLES or not index.isValid():   # the view asks for many roles per cell
            return None
        experiment, micrograph = self._record(index)
        col = index.column()
        if role == EXPERIMENT_ROLE:
            return experiment.id
        if role == MICROGRAPH_ROLE:
            return micrograph.id if micrograph is not None else -1
        if micrograph is None:
            return self._experiment_data(experiment, col, role)
        return self._micrograph_data(micrograph, col, role)

    def _counts_text(self, counts, col: int) -> Optional[str]:
        if counts is None:
            return "–"
        if col == self.total_col:
            return str(int(counts.sum()))
        return str(int(counts[col - 1]))

    def _experiment_data(self, experiment, col: int, role):
        micrographs = self.session.micrographs.get(experiment.id, [])
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if col == NAME_COL:
                return experiment.name if role == Qt.ItemDataRole.EditRole else \
                    f"{experiment.name}  ({len(micrographs)})"
            if col <= self.total_col:
                return self._counts_text(self.session.experiment_counts(experiment.id), col)
            if col == self.mag_col:
                if experiment.pixel_size_nm:
                    return f"{experiment.pixel_size_nm:.3f}"
                return f"{experiment.magnification / 1000:g}kx" if experiment.magnification \
                    else ""
        if role == Qt.ItemDataRole.FontRole and col == NAME_COL:
            return _BOLD
        if role == Qt.ItemDataRole.TextAlignmentRole and col > NAME_COL:
            return _RIGHT
        if role == Qt.ItemDataRole.ToolTipRole:
            detected = sum(1 for m in micrographs if self.session.index and
                           self.session.index.detected(m.id))
            annotated = sum(1 for m in micrographs if m.id in self.session.annotated)
            reviewed = sum(1 for m in micrographs if m.id in self.session.reviewed)
            notes = f"\n{experiment.notes}" if experiment.notes else ""
            return (f"{experiment.name}: {len(micrographs)} micrographs, {detected} detected, "
                    f"{annotated} manually annotated, {reviewed} reviewed{notes}")
        return None

    def _micrograph_data(self, micrograph, col: int, role):
        session = self.session
        detected = bool(session.index and session.index.detected(micrograph.id))
        annotated = micrograph.id in session.annotated
        reviewed = micrograph.id in session.reviewed
        problem = session.problems.get(micrograph.id)
        if role == Qt.ItemDataRole.DisplayRole:
            if col == NAME_COL:
                return micrograph.name
            if col <= self.total_col:
                return self._counts_text(session.counts(micrograph.id), col)
            if col == self.mag_col:
                return self._magnification(micrograph)
        if role == Qt.ItemDataRole.DecorationRole and col == NAME_COL:
            key = (detected, annotated, problem is not None, reviewed)
            if key not in self._icons:
                self._icons[key] = status_icon(*key)
            return self._icons[key]
        if role == Qt.ItemDataRole.TextAlignmentRole and col > NAME_COL:
            return _RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and problem is not None:
            return QBrush(QColor("#d93025"))
        if role == Qt.ItemDataRole.ToolTipRole:
            marks = [f"detected by {session.model_of(micrograph.id)} "
                     f"(run #{session.index.run_of(micrograph.id)})" if detected
                     else "not detected yet"]
            if annotated:
                marks.append("manually annotated" + (", reviewed" if reviewed else ""))
            if problem:
                marks.append(f"cannot be read: {problem}")
            try:
                scale = f"\n{session.project.scale(micrograph).describe()}"
            except (ProjectError, MicrographError):
                scale = ""
            return f"{micrograph.path}{scale}\n" + "; ".join(marks)
        return None

    def _magnification(self, micrograph) -> str:
        if micrograph.id not in self._mags:
            try:
                scale = self.session.project.scale(micrograph)
                self._mags[micrograph.id] = \
                    f"{scale.pixel_size_nm:.3f} {SOURCE_MARK[scale.pixel_size_source]}".strip()
            except (ProjectError, MicrographError):
                self._mags[micrograph.id] = "?"
        return self._mags[micrograph.id]

    def setData(self, index: QModelIndex, value, role=Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or \
                index.internalId() != _TOP or self.session.project is None:
            return False
        experiment = self.session.experiments[index.row()]
        name = str(value).strip()
        if not name or name == experiment.name:
            return False
        try:
            self.session.project.update_experiment(experiment.id, name=name)
        except ProjectError as error:
            self.renameFailed.emit(str(error))
            return False
        return True

    # ----------------------------------------------------------------- drops
    def supportedDropActions(self):
        return Qt.DropAction.CopyAction

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list"]

    def canDropMimeData(self, data, action, row, column, parent) -> bool:
        return data.hasUrls()
