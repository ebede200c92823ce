"""Manual counts for labs that count without boxes: a table of an experiment's micrographs by
class; saving stores each changed row as the micrograph's manual counts (an empty row clears
them)."""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHeaderView, QLabel, QTableWidget,
                               QTableWidgetItem, QVBoxLayout)

from temnet_app.core.errors import TemnetError
from temnet_app.gui.dialogs.messages import show_error
from temnet_app.gui.style import class_colour, class_title, swatch


class ManualCountsDialog(QDialog):
    """Edit the manual counts of one experiment's micrographs."""

    def __init__(self, project, experiment_id: int, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("manualCountsDialog")
        self.project = project
        scheme = project.scheme
        self.names = scheme.names
        experiment = project.experiment(experiment_id)
        self.micrographs = project.micrographs(experiment_id)
        self.setWindowTitle(f"Manual counts — {experiment.name}")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Virions counted by hand per micrograph (leave a row empty for "
                                "no count). Micrographs with manual boxes are counted from "
                                "their boxes unless counts are entered here."))
        self.table = QTableWidget(len(self.micrographs), len(self.names), self)
        self.table.setObjectName("countsEditor")
        for col, name in enumerate(self.names):
            self.table.setHorizontalHeaderItem(col, QTableWidgetItem(
                swatch(class_colour(scheme, col + 1)), class_title(name)))
        self.table.setVerticalHeaderLabels([m.name for m in self.micrographs])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.original: dict[int, Optional[dict]] = {}
        for row, m in enumerate(self.micrographs):
            counts = project.manual_counts(m.id)
            self.original[m.id] = counts
            for col, name in enumerate(self.names):
                item = QTableWidgetItem()
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if counts is not None:
                    item.setData(Qt.ItemDataRole.EditRole, int(counts.get(name, 0)))
                self.table.setItem(row, col, item)
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(560, 120 + 30 * min(12, len(self.micrographs)))

    def row_counts(self, row: int) -> Optional[dict[str, int]]:
        """The counts typed in ``row`` (None when the row is empty); ValueError if not whole
        numbers >= 0."""
        values = {}
        for col, name in enumerate(self.names):
            text = (self.table.item(row, col).text() or "").strip()
            if text:
                number = float(text)
                if number < 0 or not number.is_integer():
                    raise ValueError(f"{self.micrographs[row].name}: {name} must be a whole "
                                     f"number >= 0, not {text}")
                values[name] = int(number)
        if not values:
            return None
        return {name: values.get(name, 0) for name in self.names}

    def accept(self) -> None:
        try:
            rows = [(m, self.row_counts(i)) for i, m in enumerate(self.micrographs)]
            for m, counts in rows:
                if counts != self.original[m.id]:
                    self.project.set_manual_counts(m.id, counts)
        except (ValueError, TemnetError) as error:
            show_error(self, "Manual counts", str(error))
            return
        super().accept()
