"""The class-count table: per class, the detections at the threshold in the shown
micrograph, its experiment and the whole project, and the micrograph's manual boxes; a check
box per class hides or shows that class in the overlay."""

from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from temnet_app.gui.session import Session
from temnet_app.gui.style import class_colour, class_title, swatch

COLUMNS = ("Class", "Shown", "Experiment", "Project", "Manual")


class CountsPanel(QWidget):
    """The counts dock's content."""

    classToggled = Signal(int, bool)        # class id, visible

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.caption = QLabel()
        self.caption.setObjectName("countsCaption")
        self.caption.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("countsTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setHorizontalHeaderItem(1, QTableWidgetItem("Shown"))
        self.table.horizontalHeaderItem(1).setToolTip("The micrograph in the viewer")
        self.table.horizontalHeaderItem(4).setToolTip(
            "Manual boxes of the micrograph in the viewer")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(self.table, 1)
        self.table.itemChanged.connect(self._on_item_changed)
        session.projectChanged.connect(self._rebuild)
        session.classesChanged.connect(self._rebuild)
        session.countsChanged.connect(self.refresh)
        session.currentChanged.connect(lambda _: self.refresh())
        session.manualChanged.connect(self._on_manual)
        session.structureChanged.connect(self.refresh)
        self._names: tuple[str, ...] = ()
        self._manual_cache: tuple[int, Optional[np.ndarray]] = (-1, None)
        self._rebuild()

    def _rebuild(self) -> None:
        scheme = self.session.scheme
        self._names = self.session.class_names
        self.table.blockSignals(True)
        self.table.setRowCount(len(self._names) + 1 if self._names else 0)
        bold = QFont()
        bold.setBold(True)
        for row, name in enumerate(self._names):
            item = QTableWidgetItem(swatch(class_colour(scheme, row + 1), 14), class_title(name))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            item.setToolTip(f"Show or hide {name} boxes in the viewer")
            item.setData(Qt.ItemDataRole.UserRole, row + 1)
            self.table.setItem(row, 0, item)
        if self._names:
            total = QTableWidgetItem("Total")
            total.setFont(bold)
            total.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.table.setItem(len(self._names), 0, total)
        self.table.blockSignals(False)
        self._manual_cache = (-1, None)
        self.refresh()

    def _on_manual(self, ids: list) -> None:
        self._manual_cache = (-1, None)
        self.refresh()

    def _manual_counts(self, micrograph_id: int) -> Optional[np.ndarray]:
        """Manual boxes per class of the shown micrograph (read once per micrograph)."""
        if micrograph_id == -1 or micrograph_id not in self.session.annotated:
            return None
        if self._manual_cache[0] == micrograph_id:
            return self._manual_cache[1]
        counts = np.zeros(len(self._names), dtype=np.int64)
        for box in self.session.project.manual_boxes(micrograph_id):
            if 1 <= box.class_id <= len(counts):
                counts[box.class_id - 1] += 1
        self._manual_cache = (micrograph_id, counts)
        return counts

    def refresh(self) -> None:
        session = self.session
        if not self._names or session.project is None:
            self.caption.setText("Open a project to see counts.")
            return
        current = session.current()
        experiment = session.experiment_of(current.id) if current else None
        columns = [session.counts(current.id) if current else None,
                   session.experiment_counts(experiment.id) if experiment else None,
                   session.project_counts(), self._manual_counts(session.current_id)]
        self.table.blockSignals(True)
        for col, counts in enumerate(columns, start=1):
            for row in range(len(self._names) + 1):
                if counts is None:
                    text = "–"
                else:
                    value = counts.sum() if row == len(self._names) else counts[row]
                    text = str(int(value))
                item = self.table.item(row, col)
                if item is None:
                    item = QTableWidgetItem()
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight |
                                          Qt.AlignmentFlag.AlignVCenter)
                    item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                    self.table.setItem(row, col, item)
                item.setText(text)
        self.table.blockSignals(False)
        where = f"{current.name} in {experiment.name}" if current and experiment else \
            "no micrograph shown"
        self.caption.setText(f"Detections with confidence ≥ {session.threshold:.2f} "
                             f"({where}); manual = boxes drawn or imported by hand.")

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == 0 and item.data(Qt.ItemDataRole.UserRole):
            self.classToggled.emit(int(item.data(Qt.ItemDataRole.UserRole)),
                                   item.checkState() == Qt.CheckState.Checked)

    def set_class_checked(self, class_id: int, visible: bool) -> None:
        item = self.table.item(class_id - 1, 0)
        if item is not None:
            item.setCheckState(Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked)

