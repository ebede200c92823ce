"""The scale of a micrograph, an experiment or the project's camera: a pixel size in nm and a
nominal magnification, either left empty (0) to fall back to the next source.

The detector works from the pixel size; a magnification is converted with the project's camera
calibration. The dialog says what applies now and where it comes from, so the user sees the
effect of the file's own calibration before overriding it.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel,
                               QVBoxLayout)

from temnet_app.core import units
from temnet_app.core.scale import check_pixel_size
from temnet_app.gui.dialogs.messages import show_error

MAX_PIXEL_SIZE = units.nm_per_pixel(units.MIN_MAGNIFICATION)


class ScaleDialog(QDialog):
    """Ask for a pixel size (nm/px) and a magnification; 0 in a field means "not set"
    (unless ``required``: then both must be given, as for a camera calibration)."""

    def __init__(self, title: str, intro: str, pixel_size: Optional[float],
                 magnification: Optional[float], now: str = "", required: bool = False,
                 parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("scaleDialog")
        self.setWindowTitle(title)
        self.required = required
        layout = QVBoxLayout(self)
        text = QLabel(intro)
        text.setWordWrap(True)
        layout.addWidget(text)
        form = QFormLayout()
        self.pixel_size = QDoubleSpinBox(self)
        self.pixel_size.setObjectName("pixelSize")
        self.pixel_size.setDecimals(4)
        self.pixel_size.setRange(0.0, round(MAX_PIXEL_SIZE, 2))
        self.pixel_size.setSingleStep(0.01)
        self.pixel_size.setSuffix(" nm/px")
        self.pixel_size.setValue(pixel_size or 0.0)
        self.magnification = QDoubleSpinBox(self)
        self.magnification.setObjectName("magnification")
        self.magnification.setDecimals(0)
        self.magnification.setRange(0.0, units.MAX_MAGNIFICATION)
        self.magnification.setSingleStep(1000)
        self.magnification.setGroupSeparatorShown(True)
        self.magnification.setSuffix(" x")
        self.magnification.setValue(magnification or 0.0)
        if not required:
            self.pixel_size.setSpecialValueText("not set")
            self.magnification.setSpecialValueText("not set")
        form.addRow("Pixel size:", self.pixel_size)
        form.addRow("Magnification:", self.magnification)
        layout.addLayout(form)
        if now:
            current = QLabel(f"Now: {now}")
            current.setObjectName("scaleNow")
            current.setWordWrap(True)
            layout.addWidget(current)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)
        self.pixel_size.setFocus()
        self.pixel_size.selectAll()

    def values(self) -> tuple[Optional[float], Optional[float]]:
        """(pixel size nm, magnification), None for a field left at 0; ValueError when a
        value is out of range or a required one is missing."""
        size = self.pixel_size.value() or None
        mag = self.magnification.value() or None
        if size is not None:
            check_pixel_size(size)
        if mag is not None:
            units.check_magnification(mag)
        if self.required and (size is None or mag is None):
            raise ValueError("give both the pixel size and the magnification it was "
                             "measured at")
        return size, mag

    def accept(self) -> None:
        try:
            self.values()
        except ValueError as error:
            show_error(self, self.windowTitle(), str(error))
            return
        super().accept()


def ask_scale(parent, title: str, intro: str, pixel_size: Optional[float],
              magnification: Optional[float], now: str = "", required: bool = False
              ) -> Optional[tuple[Optional[float], Optional[float]]]:
    """Show a :class:`ScaleDialog`; the values on OK, None on Cancel."""
    dialog = ScaleDialog(title, intro, pixel_size, magnification, now, required, parent)
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.values()
    finally:
        dialog.deleteLater()
