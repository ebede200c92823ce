"""The viewer panel: a header naming the micrograph (experiment, magnification and where it
came from, zoom), the display controls (brightness, contrast, auto-levels) and the view.

It loads the session's current micrograph, its stored detections (newest run) and its manual
boxes, and re-applies the threshold and the layer switches as they change. A file that cannot
be read is reported once in a dialog and marked in the browser; the view says why.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Optional

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPushButton, QSlider, QToolButton,
                               QVBoxLayout, QWidget)

from temnet_app.core.errors import MicrographError, ProjectError
from temnet_app.core.micrographs import read_micrograph
from temnet_app.gui.dialogs.messages import show_error
from temnet_app.gui.session import Session
from temnet_app.gui.viewer.annotation_bar import AnnotationBar
from temnet_app.gui.viewer.editor import AnnotationEditor
from temnet_app.gui.viewer.levels import Levels, adjusted, auto_levels
from temnet_app.gui.viewer.title_label import SEPARATOR, TitleLabel
from temnet_app.gui.viewer.view import MicrographView

CACHE_SIZE = 3
# where the pixel size in the title came from (the tooltip says it in full)
_SHORT_SOURCE = {"override": "set", "file": "file", "experiment": "exp.", "default": "default"}


class ViewerPanel(QWidget):
    """The micrograph on show, with its overlay."""

    hovered = Signal(str)

    def __init__(self, session: Session, stack: QUndoStack, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.view = MicrographView(self)
        self.editor = AnnotationEditor(self.view, session, stack)
        self._cache: OrderedDict[int, tuple[str, np.ndarray]] = OrderedDict()
        self._base = Levels()
        self._build()
        session.currentChanged.connect(self._on_current)
        session.thresholdChanged.connect(self._on_threshold)
        session.detectionsStored.connect(self._on_detections)
        session.manualChanged.connect(self._on_manual)
        session.projectChanged.connect(self._on_project)
        session.structureChanged.connect(self._on_structure)
        session.classesChanged.connect(self._on_classes)
        self.view.zoomChanged.connect(self._on_zoom)
        self.view.overlay.threshold = session.threshold

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        bar = QWidget(self)
        bar.setObjectName("viewerBar")
        row = QHBoxLayout(bar)
        row.setContentsMargins(8, 4, 8, 4)
        self.prev_button = QToolButton(text="◀", toolTip="Previous micrograph (Page Up)")
        self.next_button = QToolButton(text="▶", toolTip="Next micrograph (Page Down)")
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.title = TitleLabel("No micrograph selected")
        self.title.setObjectName("viewerTitle")
        self.brightness = self._slider("Brightness")
        self.contrast = self._slider("Contrast")
        self.auto_button = QPushButton("Auto levels")
        self.auto_button.setToolTip("Stretch the 0.5-99.5 percentile grey range to full "
                                    "contrast and reset brightness and contrast")
        self.auto_button.clicked.connect(self.reset_levels)
        self.zoom_label = QLabel("")
        self.zoom_label.setMinimumWidth(52)
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        row.addWidget(self.prev_button)
        row.addWidget(self.next_button)
        row.addWidget(self.title, 1)
        for text, slider in (("Brightness", self.brightness), ("Contrast", self.contrast)):
            row.addWidget(QLabel(text))
            row.addWidget(slider)
        row.addWidget(self.auto_button)
        row.addWidget(self.zoom_label)
        layout.addWidget(bar)
        self.annotation_bar = AnnotationBar(self.session, self.editor, self)
        layout.addWidget(self.annotation_bar)
        layout.addWidget(self.view, 1)

    def _slider(self, name: str) -> QSlider:
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setObjectName(name.lower())
        slider.setRange(-100, 100)
        slider.setValue(0)
        slider.setFixedWidth(90)
        slider.setToolTip(f"{name} of the display (Auto levels resets it)")
        slider.valueChanged.connect(self._apply_levels)
        return slider

    # ----------------------------------------------------------------- levels
    def _apply_levels(self) -> None:
        self.view.set_levels(adjusted(self._base, self.brightness.value(),
                                      self.contrast.value()))

    def reset_levels(self) -> None:
        if self.view.pixels is not None:
            self._base = auto_levels(self.view.pixels)
        for slider in (self.brightness, self.contrast):
            slider.blockSignals(True)
            slider.setValue(0)
            slider.blockSignals(False)
        self._apply_levels()

    # ----------------------------------------------------------------- loading
    def _on_project(self) -> None:
        self._cache.clear()
        self.view.overlay.hidden_classes.clear()     # the class switches start all on
        self.view.overlay.threshold = self.session.threshold
        self._on_current(self.session.current_id)

    def _read(self, micrograph) -> np.ndarray:
        project = self.session.project
        cached = self._cache.get(micrograph.id)
        if cached and cached[0] == micrograph.checksum:
            self._cache.move_to_end(micrograph.id)
            return cached[1]
        pixels = read_micrograph(project.image_path(micrograph)).pixels
        self._cache[micrograph.id] = (micrograph.checksum, pixels)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return pixels

    def _on_current(self, micrograph_id: int) -> None:
        micrograph = self.session.current()
        self.prev_button.setEnabled(self.session.neighbour(-1) is not None)
        self.next_button.setEnabled(self.session.neighbour(1) is not None)
        if micrograph is None:
            self.title.set_parts("", "No micrograph selected" if self.session.is_open else "")
            self.view.show_message("Select a micrograph in the project browser"
                                   if self.session.is_open else "")
            return
        project = self.session.project
        experiment = self.session.experiment_of(micrograph.id)
        try:
            scale = project.scale(micrograph)
            pixels = self._read(micrograph)
        except (MicrographError, ProjectError, OSError) as error:
            self.title.set_parts(micrograph.name, " — cannot be shown")
            self.view.show_message(f"{micrograph.name} cannot be shown:\n{error}")
            if micrograph.id not in self.session.problems:
                show_error(self, "Cannot open micrograph",
                           f"{micrograph.name} (experiment "
                           f"{experiment.name if experiment else '?'}) cannot be shown.",
                           str(error))
            self.session.mark_problem(micrograph.id, str(error))
            return
        self.session.mark_problem(micrograph.id, None)
        self._show_title(micrograph, scale)
        self._base = auto_levels(pixels)
        self.view.show_pixels(pixels, scale.pixel_size_nm,
                              adjusted(self._base, self.brightness.value(),
                                       self.contrast.value()))
        self._load_predicted()
        self._load_manual()

    def _show_title(self, micrograph, scale) -> None:
        experiment = self.session.experiment_of(micrograph.id)
        model = self.session.model_of(micrograph.id)
        self.title.set_parts(micrograph.name,
                             f"{SEPARATOR}{experiment.name if experiment else ''}"
                             f"{SEPARATOR}{scale.pixel_size_nm:.3f} nm/px "
                             f"({_SHORT_SOURCE[scale.pixel_size_source]})"
                             + (f"{SEPARATOR}model {model}" if model else ""))
        self.title.setToolTip(f"{micrograph.path}\n{micrograph.width} x {micrograph.height} px "
                              f"(after the info-band crop)\npixel size "
                              f"{scale.describe_pixel_size()}\nmagnification "
                              f"{scale.describe_magnification()}"
                              + (f"\ndetections by model {model}" if model else ""))

    def _on_structure(self) -> None:
        """A rename or a new scale: update the title and the scale bar in place."""
        micrograph = self.session.current()
        if micrograph is None or not self.view.has_image:
            return
        try:
            scale = self.session.project.scale(micrograph)
        except (MicrographError, ProjectError):
            return
        self._show_title(micrograph, scale)
        self.view.pixel_size_nm = scale.pixel_size_nm
        self.view.viewport().update()

    def _load_predicted(self) -> None:
        m, index, project = self.session.current(), self.session.index, self.session.project
        run_id = index.run_of(m.id) if (m is not None and index is not None) else None
        if run_id is None:
            empty = np.zeros((0, 4))
            self.view.overlay.set_predicted(empty, np.zeros(0, int), np.zeros(0),
                                            self.session.scheme)
            return
        xyxy, class_ids, scores = project.detection_arrays(run_id, m.id)
        self.view.overlay.set_predicted(xyxy, class_ids, scores, self.session.scheme)

    def _load_manual(self) -> None:
        m, project = self.session.current(), self.session.project
        boxes = project.manual_boxes(m.id) if m is not None else []
        self.view.overlay.set_manual(boxes, self.session.scheme)
        self.editor.restore_selection()

    def _on_detections(self, ids: list) -> None:
        if self.session.current_id in ids and self.view.has_image:
            self._load_predicted()
            self._on_structure()          # the title names the model

    def _on_manual(self, ids: list) -> None:
        if self.session.current_id in ids and self.view.has_image:
            self._load_manual()

    def _on_classes(self) -> None:
        """New class names or colours: redraw the boxes (the class switches start all on)."""
        self.view.overlay.hidden_classes.clear()
        if self.view.has_image:
            self._load_predicted()
            self._load_manual()

    def _on_threshold(self, value: float) -> None:
        self.view.overlay.threshold = value
        self.view.overlay.apply()

    def _on_zoom(self, zoom: float) -> None:
        self.zoom_label.setText(f"{zoom * 100:.0f}%")

    # ----------------------------------------------------------------- navigation, layers
    def step(self, offset: int) -> None:
        target = self.session.neighbour(offset)
        if target is not None:
            self.session.set_current(target)

    def set_layers(self, *, predicted: Optional[bool] = None, manual: Optional[bool] = None,
                   labels: Optional[bool] = None) -> None:
        overlay = self.view.overlay
        if predicted is not None:
            overlay.show_predicted = predicted
        if manual is not None:
            overlay.show_manual = manual
        if labels is not None:
            overlay.show_labels = labels
        overlay.apply()

    def set_class_visible(self, class_id: int, visible: bool) -> None:
        hidden = self.view.overlay.hidden_classes
        hidden.discard(class_id) if visible else hidden.add(class_id)
        self.view.overlay.apply()
