"""The models of the project: the shipped model, the ones trained here and folders added by
hand, each with its card; which one detection uses; and a side-by-side comparison on the
project's reviewed micrographs that none of them trained on."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QDialog, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QListWidget,
                               QListWidgetItem, QPushButton, QSplitter, QTableWidget,
                               QTableWidgetItem, QTextBrowser, QVBoxLayout, QWidget)

from temnet_app.core.errors import TemnetError
from temnet_app.gui.dialogs.messages import show_error
from temnet_app.gui.dialogs.model_dialog import card_html
from temnet_app.jobs import (compare_models, describe_model, project_models, register_model,
                             untouched_micrographs)


def _pct(value) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else f"{value * 100:.1f}"


class ModelsDialog(QDialog):
    """Non-modal; ``useModel(folder)`` when the user picks the model detection uses."""

    useModel = Signal(Path)
    trainRequested = Signal()

    def __init__(self, session, runner, current: Optional[Path], parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("modelsDialog")
        self.setWindowTitle("Models of the project")
        self.session, self.runner, self.current = session, runner, current
        self.scores: list = []
        self.list = QListWidget()
        self.list.setObjectName("modelList")
        self.card = QTextBrowser()
        self.card.setObjectName("modelsCard")
        self.table = QTableWidget(0, 0)
        self.table.setObjectName("comparisonTable")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.comparison_note = QLabel("Compare the models on the reviewed micrographs that "
                                      "none of them trained on.")
        self.comparison_note.setWordWrap(True)
        buttons = QHBoxLayout()
        self.use_button = QPushButton("Use for detection")
        self.add_button = QPushButton("Add model folder…")
        self.train_button = QPushButton("Train a new model…")
        self.compare_button = QPushButton("Compare on reviewed micrographs")
        close = QPushButton("Close")
        for button in (self.use_button, self.add_button, self.train_button,
                       self.compare_button, close):
            buttons.addWidget(button)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.list)
        top.addWidget(self.card)
        top.setSizes([300, 560])
        bottom = QWidget()
        column = QVBoxLayout(bottom)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.comparison_note)
        column.addWidget(self.table)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(bottom)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)
        self.list.currentItemChanged.connect(self._show_card)
        self.use_button.clicked.connect(self.use_selected)
        self.add_button.clicked.connect(self._add)
        self.train_button.clicked.connect(self.trainRequested)
        self.compare_button.clicked.connect(self.compare)
        self.table.cellDoubleClicked.connect(lambda row, col: self._use_row(row))
        self.table.currentCellChanged.connect(lambda row, *_: self._select_row(row))
        close.clicked.connect(self.close)
        self.refresh()
        self.resize(900, 640)

    # ----------------------------------------------------------------- list
    def folders(self) -> list[Path]:
        return project_models(self.session.project)

    def refresh(self) -> None:
        self.list.clear()
        for folder in self.folders():
            try:
                summary = describe_model(folder)
                text = summary.model_id
            except TemnetError as error:
                text = f"{folder.name} (unusable: {error})"
            if self.current is not None and folder.resolve() == Path(self.current).resolve() \
                    or self.current is None and folder == self.folders()[0]:
                text += "   ← used for detection"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, str(folder))
            self.list.addItem(item)
        self.list.setCurrentRow(0)

    def selected_folder(self) -> Optional[Path]:
        item = self.list.currentItem()
        return Path(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def _show_card(self, item, previous=None) -> None:
        if item is not None:
            self.card.setHtml(card_html(Path(item.data(Qt.ItemDataRole.UserRole)))[0])

    def use_selected(self) -> None:
        folder = self.selected_folder()
        if folder is not None:
            self._use(folder)

    def _use(self, folder: Path) -> None:
        shipped = folder == self.folders()[0]
        self.current = None if shipped else folder
        self.useModel.emit(folder)
        self.refresh()

    def _add(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Model folder")
        if folder:
            self.add_folder(Path(folder))

    def add_folder(self, folder: Path) -> bool:
        try:
            register_model(self.session.project, folder)
        except TemnetError as error:
            show_error(self, "Add a model", f"{folder} is not a usable model folder.",
                       str(error))
            return False
        self.refresh()
        return True

    # ----------------------------------------------------------------- comparison
    def comparison_micrographs(self) -> list[int]:
        project = self.session.project
        reviewed = sorted(project.reviewed_micrograph_ids() &
                          project.annotated_micrograph_ids())
        return untouched_micrographs(project, reviewed, self.folders())

    def compare(self) -> bool:
        ids = self.comparison_micrographs()
        if not ids:
            show_error(self, "Compare models", "No reviewed micrograph that none of the "
                       "models trained on: mark corrected micrographs as reviewed (Edit > "
                       "Mark reviewed) and keep some out of training.")
            return False
        if self.runner.running:
            show_error(self, "Compare models", f"Wait for “{self.runner.name}” to finish.")
            return False
        self.comparison_note.setText(f"Scoring {len(self.folders())} model(s) on {len(ids)} "
                                     f"reviewed micrograph(s)…")
        self.runner.start("model comparison", compare_models, self.session.project,
                          self.folders(), ids, self.session.threshold,
                          on_success=lambda scores: self._show_scores(scores, len(ids)),
                          on_failure=lambda msg, details: show_error(self, "Compare models",
                                                                     msg, details))
        return True

    def _show_scores(self, scores, n: int) -> None:
        self.scores = list(scores)
        names = self.session.class_names
        headers = ["model", "mAP@0.5", "precision", "recall", "F1",
                   *[f"AP {n_}" for n_ in names]]
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setRowCount(len(self.scores))
        for row, score in enumerate(self.scores):
            o = score.evaluation.overall
            cells = [score.model_id, _pct(o.map), _pct(o.precision), _pct(o.recall),
                     _pct(o.f1), *[_pct(score.evaluation.per_class[i].ap)
                                   for i in range(1, len(names) + 1)]]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight |
                                          Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, item)
        self.comparison_note.setText(
            f"On {n} reviewed micrograph(s) none of the models trained on; IoU > 0.5; "
            f"precision / recall / F1 at confidence ≥ {self.session.threshold:.2f}. Select a "
            f"row and press “Use for detection” (or double-click it) to detect with it.")

    def _select_row(self, row: int) -> None:
        """A comparison row selects its model in the list (and shows its card)."""
        if 0 <= row < len(self.scores):
            wanted = str(self.scores[row].folder)
            for i in range(self.list.count()):
                if self.list.item(i).data(Qt.ItemDataRole.UserRole) == wanted:
                    self.list.setCurrentRow(i)

    def _use_row(self, row: int) -> None:
        if 0 <= row < len(self.scores):
            self._use(self.scores[row].folder)
