"""What to export and where: the report (CSV tables and PDF), the manual annotations (VIA CSV
and COCO JSON), PNG overlays of the chosen micrographs."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QVBoxLayout)


class ExportDialog(QDialog):
    """``folder``, ``kinds`` (names of jobs.EXPORT_KINDS) and whether overlays are wanted."""

    def __init__(self, folder: Path, threshold: float, n_overlays: int,
                 has_annotations: bool, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Counts and overlays use the detections with confidence ≥ "
                                f"{threshold:.2f} (each micrograph's newest run); every file "
                                f"names the model, the threshold and the magnification."))
        self.report = QCheckBox("Report: CSV tables (per box, micrograph, experiment) and PDF")
        self.annotations = QCheckBox("Manual annotations: VIA CSV and COCO JSON")
        self.overlays = QCheckBox(f"PNG overlays of the {n_overlays} micrograph(s) selected "
                                  f"in the browser")
        self.report.setChecked(True)
        self.annotations.setEnabled(has_annotations)
        self.annotations.setChecked(has_annotations)
        self.overlays.setEnabled(n_overlays > 0)
        for box in (self.report, self.annotations, self.overlays):
            layout.addWidget(box)
        row = QHBoxLayout()
        row.addWidget(QLabel("Folder:"))
        self.folder = QLineEdit(str(folder))
        row.addWidget(self.folder, 1)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row.addWidget(browse)
        layout.addLayout(row)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.resize(560, 220)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def kinds(self) -> list[str]:
        return [kind for kind, box in (("report", self.report),
                                       ("annotations", self.annotations),
                                       ("overlays", self.overlays)) if box.isChecked()]

    def chosen_folder(self) -> Optional[Path]:
        text = self.folder.text().strip()
        return Path(text) if text else None
