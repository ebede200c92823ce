"""Choosing the detector model: the shipped model or another model folder, with its card
(name, version, training data, validation metrics, notes) shown before it is used. Reading a
card needs no TensorFlow."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Optional

from PySide6.QtWidgets import (QButtonGroup, QDialog, QDialogButtonBox, QFileDialog,
                               QHBoxLayout, QLineEdit, QPushButton, QRadioButton, QTextBrowser,
                               QVBoxLayout)

from temnet_app.core.errors import ModelError
from temnet_app.jobs import describe_model


def card_html(folder: Optional[Path]) -> tuple[str, bool]:
    """The card of the model in ``folder`` (None: shipped) as HTML, and whether it is usable."""
    try:
        summary = describe_model(folder)
    except ModelError as error:
        return f"<p style='color:#d93025'><b>This model cannot be used:</b> " \
               f"{html.escape(str(error))}</p>", False
    parts = [f"<h3>{html.escape(summary.name)} <small>version {html.escape(summary.version)}"
             f"</small></h3>",
             f"<p><b>Classes:</b> {html.escape(', '.join(summary.classes))}<br>"
             f"<b>Date:</b> {html.escape(summary.date)}<br>"
             f"<b>Folder:</b> {html.escape(str(summary.folder))}</p>",
             f"<p><b>Training:</b> {html.escape(summary.training)}</p>"]
    if summary.metrics:
        parts.append("<p><b>Validation:</b><br>" + "<br>".join(
            html.escape(m) for m in summary.metrics) + "</p>")
    if summary.command:
        parts.append(f"<p><b>Made with:</b> <code>{html.escape(summary.command)}</code></p>")
    parts += [f"<p>{html.escape(note)}</p>" for note in summary.notes]
    return "".join(parts), True


class ModelDialog(QDialog):
    """Returns the chosen folder through :attr:`folder` (None: the shipped model)."""

    def __init__(self, current: Optional[Path], parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("modelDialog")
        self.setWindowTitle("Detector model")
        self.folder: Optional[Path] = current
        layout = QVBoxLayout(self)
        self.shipped = QRadioButton("The shipped model (trained on simulated micrographs)")
        self.other = QRadioButton("A model folder:")
        group = QButtonGroup(self)
        group.addButton(self.shipped)
        group.addButton(self.other)
        self.path = QLineEdit(str(current) if current else "")
        self.path.setPlaceholderText("folder holding model_card.json and weights.weights.h5")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.other)
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        layout.addWidget(self.shipped)
        layout.addLayout(row)
        self.card = QTextBrowser()
        self.card.setObjectName("modelCard")
        self.card.setMinimumSize(560, 300)
        layout.addWidget(self.card, 1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Use this model")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        (self.other if current else self.shipped).setChecked(True)
        self.shipped.toggled.connect(self._update)
        self.path.editingFinished.connect(self._update)
        self._update()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Model folder", self.path.text())
        if folder:
            self.path.setText(folder)
            self.other.setChecked(True)
            self._update()

    def chosen(self) -> Optional[Path]:
        if self.shipped.isChecked() or not self.path.text().strip():
            return None
        return Path(self.path.text().strip())

    def _update(self) -> None:
        text, usable = card_html(self.chosen())
        self.card.setHtml(text)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(usable)

    def accept(self) -> None:
        self.folder = self.chosen()
        super().accept()
