"""The confidence slider: a labelled slider with a numeric box (superqt) that filters stored
detections live; no detector runs while it moves."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget
from superqt import QLabeledDoubleSlider


_KEY_STEPS = {Qt.Key.Key_Left: -0.01, Qt.Key.Key_Down: -0.01, Qt.Key.Key_Right: 0.01,
              Qt.Key.Key_Up: 0.01, Qt.Key.Key_PageDown: -0.1, Qt.Key.Key_PageUp: 0.1,
              Qt.Key.Key_Home: -9, Qt.Key.Key_End: 9}


class ThresholdSlider(QWidget):
    """``valueChanged(float)`` on every step while dragging."""

    valueChanged = Signal(float)

    def __init__(self, value: float = 0.5, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("thresholdSlider")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        label = QLabel("Confidence ≥")
        label.setToolTip("Show and count detections whose confidence is at least this value")
        self.slider = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0.0, 1.0)
        self.slider.setSingleStep(0.01)
        self.slider.setDecimals(2)
        self.slider.setValue(value)
        self.slider.setMinimumWidth(220)
        self.slider.setToolTip(label.toolTip())
        layout.addWidget(label)
        layout.addWidget(self.slider, 1)
        self.slider.valueChanged.connect(lambda v: self.valueChanged.emit(float(v)))
        # superqt's slider bar has no keyboard handling yet: arrows, Page Up/Down, Home, End
        self.handle().setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.handle().installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if watched is self.handle() and event.type() == QEvent.Type.ShortcutOverride and \
                event.key() in _KEY_STEPS:
            event.accept()          # the focused slider keeps its keys (Page Down, ...)
            return True
        if watched is self.handle() and event.type() == QEvent.Type.KeyPress:
            step = _KEY_STEPS.get(event.key())
            if step is not None:
                value = {-9: 0.0, 9: 1.0}.get(step, self.value() + step)
                self.set_value(min(1.0, max(0.0, round(value, 2))))
                return True
        return super().eventFilter(watched, event)

    def number_box(self):
        """The numeric box beside the slider (typing a value there moves the slider)."""
        return self.slider._label

    def handle(self):
        """The slider bar itself (keyboard: arrows move by 0.01)."""
        return self.slider._slider

    def value(self) -> float:
        return float(self.slider.value())

    def set_value(self, value: float) -> None:
        if abs(self.value() - value) > 1e-9:
            self.slider.setValue(float(value))
