"""Box items over the micrograph: one item per box, coloured by class, with a pen of constant
screen width (cosmetic) at every zoom. Predicted boxes are solid, manual boxes dashed; a score
label can be shown; hovering a box shows its class and score.

:class:`BoxOverlay` owns the items of the shown micrograph and applies the threshold, the
per-class visibility and the layer switches by showing or hiding items (nothing is rebuilt
while the confidence slider moves).
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import (QGraphicsItem, QGraphicsRectItem, QGraphicsScene,
                               QStyleOptionGraphicsItem)

from temnet_app.core.classes import ClassScheme
from temnet_app.gui.style import BOX_PEN_WIDTH, MANUAL_PEN_WIDTH, MANUAL_STYLE, class_colour

BOX_Z = 10.0
LABEL_FONT_PT = 9


class ScoreLabel(QGraphicsItem):
    """A small score tag at the box's top-left corner, the same size at every zoom."""

    def __init__(self, text: str, colour: QColor, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self._text, self._colour = text, colour
        self._font = QFont()
        self._font.setPointSize(LABEL_FONT_PT)
        self._font.setBold(True)
        metrics = QFontMetricsF(self._font)
        self._rect = QRectF(0, -metrics.height() - 2, metrics.horizontalAdvance(text) + 6,
                            metrics.height() + 2)

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        painter.fillRect(self._rect, QColor(0, 0, 0, 170))
        painter.setPen(self._colour)
        painter.setFont(self._font)
        painter.drawText(self._rect, Qt.AlignmentFlag.AlignCenter, self._text)


class BoxItem(QGraphicsRectItem):
    """One box. ``score`` is None for a manual box."""

    def __init__(self, rect: QRectF, class_id: int, class_name: str, colour: QColor,
                 score: Optional[float]) -> None:
        super().__init__(rect)
        self.class_id, self.class_name, self.score = class_id, class_name, score
        self.manual = score is None
        self.setZValue(BOX_Z + (0 if self.manual else 1))
        self._pen = QPen(colour, MANUAL_PEN_WIDTH if self.manual else BOX_PEN_WIDTH)
        self._pen.setCosmetic(True)
        if self.manual:
            self._pen.setStyle(MANUAL_STYLE)
        self.setPen(self._pen)
        self.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        self.setAcceptHoverEvents(True)
        what = "manual" if self.manual else f"score {score:.2f}"
        self.setToolTip(f"{class_name} ({what})")
        self.label: Optional[ScoreLabel] = None
        if not self.manual:
            self.label = ScoreLabel(f"{score:.2f}", colour, self)
            self.label.setPos(rect.topLeft())
            self.label.setVisible(False)

    def set_selected_look(self, selected: bool) -> None:
        """Selected manual boxes are drawn solid and thicker (their handles are drawn by the
        view)."""
        self._selected = selected
        pen = QPen(self._pen)
        if selected:
            pen.setStyle(Qt.PenStyle.SolidLine)
            pen.setWidthF(self._pen.widthF() + 1.2)
        self.setPen(pen)

    def hoverEnterEvent(self, event) -> None:
        pen = QPen(self._pen)
        pen.setWidthF(self._pen.widthF() + 1.5)
        self.setPen(pen)
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event) -> None:
        self.set_selected_look(getattr(self, "_selected", False))
        super().hoverLeaveEvent(event)

    def describe(self) -> str:
        return self.toolTip()


class BoxOverlay:
    """The box items of the micrograph on show, and what is visible of them."""

    def __init__(self, scene: QGraphicsScene) -> None:
        self.scene = scene
        self.predicted: list[BoxItem] = []
        self.manual: list[BoxItem] = []
        self.manual_boxes: list = []        # the Box records behind ``manual``, in order
        self.threshold = 0.5
        self.hidden_classes: set[int] = set()
        self.show_predicted = True
        self.show_manual = True
        self.show_labels = False
        self.predicted_opacity = 1.0      # fainter while the manual boxes are being edited

    def clear(self) -> None:
        for item in self.predicted + self.manual:
            self.scene.removeItem(item)
        self.predicted, self.manual, self.manual_boxes = [], [], []

    def _make(self, xyxy, class_id: int, scheme: Optional[ClassScheme], score) -> BoxItem:
        x1, y1, x2, y2 = (float(v) for v in xyxy)
        class_id = int(class_id)
        known = scheme is not None and 1 <= class_id <= len(scheme.names)
        name = scheme.name(class_id) if known else f"class {class_id}"
        item = BoxItem(QRectF(x1, y1, x2 - x1, y2 - y1), class_id, name,
                       class_colour(scheme, class_id), score)
        self.scene.addItem(item)
        return item

    def set_predicted(self, xyxy: np.ndarray, class_ids: np.ndarray, scores: np.ndarray,
                      scheme: Optional[ClassScheme]) -> None:
        """Boxes coloured and named by ``scheme`` (the project's classes)."""
        for item in self.predicted:
            self.scene.removeItem(item)
        self.predicted = [self._make(b, c, scheme, float(s))
                          for b, c, s in zip(xyxy, class_ids, scores)]
        for item in self.predicted:
            item.setOpacity(self.predicted_opacity)
        self.apply()

    def set_predicted_opacity(self, opacity: float) -> None:
        self.predicted_opacity = float(opacity)
        for item in self.predicted:
            item.setOpacity(self.predicted_opacity)

    def set_manual(self, boxes: Sequence, scheme: Optional[ClassScheme]) -> None:
        for item in self.manual:
            self.scene.removeItem(item)
        self.manual_boxes = list(boxes)
        self.manual = [self._make((b.x1, b.y1, b.x2, b.y2), b.class_id, scheme, None)
                       for b in self.manual_boxes]
        self.apply()

    def apply(self) -> None:
        """Show or hide every item for the current threshold and switches."""
        for item in self.predicted:
            on = (self.show_predicted and item.score >= self.threshold
                  and item.class_id not in self.hidden_classes)
            item.setVisible(on)
            if item.label is not None:
                item.label.setVisible(on and self.show_labels)
        for item in self.manual:
            item.setVisible(self.show_manual and item.class_id not in self.hidden_classes)

    def visible_predicted(self) -> list[BoxItem]:
        return [item for item in self.predicted if item.isVisible()]

    def visible_manual(self) -> list[BoxItem]:
        return [item for item in self.manual if item.isVisible()]
