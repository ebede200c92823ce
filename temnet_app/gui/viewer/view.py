"""The zoomable, pannable view of one micrograph.

The image is one pixmap item built from an 8-bit indexed QImage: brightness and contrast only
change its 256-entry colour table. Boxes are items above it (:mod:`.boxes`). The wheel zooms
around the cursor, dragging pans, the arrow keys scroll; until the user zooms, the image stays
fitted to the window. The scale bar is painted over the viewport, in nm from the micrograph's
pixel size.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (QFrame, QGraphicsItem, QGraphicsPixmapItem, QGraphicsScene,
                               QGraphicsView)

from temnet_app.gui.viewer.boxes import BoxItem, BoxOverlay
from temnet_app.gui.viewer.levels import Levels
from temnet_app.gui.viewer.scale_bar import format_length, nice_length_nm

ZOOM_STEP = 1.25
HANDLE_PX = 5
_EDITOR_KEYS = {Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3, Qt.Key.Key_E, Qt.Key.Key_M,
                Qt.Key.Key_I, Qt.Key.Key_Delete, Qt.Key.Key_Backspace, Qt.Key.Key_Escape}
MIN_ZOOM, MAX_ZOOM = 0.02, 16.0
BACKGROUND = QColor("#202124")


class MicrographView(QGraphicsView):
    """Shows one micrograph and its boxes."""

    zoomChanged = Signal(float)
    boxHovered = Signal(str)        # "mature, score 0.93" of the box under the cursor

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("micrographView")
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(BACKGROUND)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.pixmap_item = QGraphicsPixmapItem()
        self.pixmap_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        # the scaled image is kept at screen resolution: moving the slider repaints boxes only
        self.pixmap_item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.scene().addItem(self.pixmap_item)
        self.overlay = BoxOverlay(self.scene())
        self.pixels: Optional[np.ndarray] = None
        self._image: Optional[QImage] = None
        self.pixel_size_nm: Optional[float] = None
        self.fitted = True
        self.message = ""
        self._hovered = ""
        self._pan_from = None
        self.editor = None              # an AnnotationEditor attaches itself here
        self.setMouseTracking(True)

    # ----------------------------------------------------------------- content
    def show_pixels(self, pixels: np.ndarray, pixel_size_nm: Optional[float],
                    levels: Levels) -> None:
        """Show a 2-D uint8 image (kept by reference) at ``levels``; boxes are cleared."""
        self.overlay.clear()
        self.pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
        h, w = self.pixels.shape
        self._image = QImage(self.pixels.data, w, h, self.pixels.strides[0],
                             QImage.Format.Format_Indexed8)
        self.pixel_size_nm = pixel_size_nm
        self.message = ""
        self.set_levels(levels)
        self.scene().setSceneRect(QRectF(0, 0, w, h))
        self.fit()

    def set_levels(self, levels: Levels) -> None:
        if self._image is None:
            return
        grey = levels.table().astype(np.uint32)
        self._image.setColorTable((0xFF000000 | (grey << 16) | (grey << 8) | grey).tolist())
        self.pixmap_item.setPixmap(QPixmap.fromImage(self._image))

    def show_message(self, text: str) -> None:
        """Clear the image and show ``text`` in the middle (e.g. why a file cannot open)."""
        self.overlay.clear()
        self.pixmap_item.setPixmap(QPixmap())
        self.pixels, self._image, self.pixel_size_nm = None, None, None
        self.scene().setSceneRect(QRectF(0, 0, 1, 1))
        self.message = text
        self.viewport().update()

    @property
    def has_image(self) -> bool:
        return self._image is not None

    # ----------------------------------------------------------------- zoom
    def zoom(self) -> float:
        return float(self.transform().m11())

    def set_zoom(self, factor: float, anchor_under_mouse: bool = False) -> None:
        factor = min(MAX_ZOOM, max(MIN_ZOOM, float(factor)))
        old = self.transformationAnchor()
        if not anchor_under_mouse:
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        ratio = factor / max(self.zoom(), 1e-9)
        self.scale(ratio, ratio)
        self.setTransformationAnchor(old)
        self.fitted = False
        self.zoomChanged.emit(self.zoom())
        self.viewport().update()

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom() * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom() / ZOOM_STEP)

    def actual_size(self) -> None:
        self.set_zoom(1.0)

    def fit(self) -> None:
        if self._image is None:
            return
        self.fitInView(self.scene().sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
        self.fitted = True
        self.zoomChanged.emit(self.zoom())
        self.viewport().update()

    def wheelEvent(self, event) -> None:
        delta = event.angleDelta().y()
        if delta == 0 or self._image is None:
            return
        steps = delta / 120.0
        self.set_zoom(self.zoom() * ZOOM_STEP ** steps, anchor_under_mouse=True)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.fitted:
            self.fit()

    # ----------------------------------------------------------------- mouse, keys
    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = event.position()
            return
        if self.editor is not None and self.editor.press(event):
            return
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = None
            return
        if self.editor is not None and self.editor.release(event):
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event) -> None:
        if self.editor is not None and self.editor.key(event):
            return
        super().keyPressEvent(event)

    def event(self, event) -> bool:
        # in annotation mode the view keeps its keys (class, delete, escape) from shortcuts
        if event.type() == event.Type.ShortcutOverride and self.editor is not None and \
                self.editor.active and event.key() in _EDITOR_KEYS and \
                not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            event.accept()
            return True
        return super().event(event)

    def mouseMoveEvent(self, event) -> None:
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value()
                                                - int(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(delta.y()))
            return
        if self.editor is not None and self.editor.move(event):
            return
        super().mouseMoveEvent(event)
        if event.buttons() != Qt.MouseButton.NoButton:
            return
        item = next((i for i in self.items(event.position().toPoint())
                     if isinstance(i, BoxItem) and i.isVisible()), None)
        text = item.describe() if item is not None else ""
        if text != self._hovered:
            self._hovered = text
            if text:
                self.boxHovered.emit(text)

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        self.viewport().update()  # the scale bar is drawn in viewport coordinates

    # ----------------------------------------------------------------- scale bar, message
    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        painter.save()
        painter.resetTransform()
        if self.message:
            painter.setPen(QColor("#f1f3f4"))
            font = QFont()
            font.setPointSize(12)
            painter.setFont(font)
            painter.drawText(QRectF(self.viewport().rect()).adjusted(40, 40, -40, -40),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self.message)
        elif self._image is not None and self.pixel_size_nm:
            self._draw_scale_bar(painter)
        if self.editor is not None and self.editor.active:
            self._draw_handles(painter)
        painter.restore()

    def _draw_handles(self, painter: QPainter) -> None:
        painter.setPen(QPen(QColor("black"), 1))
        painter.setBrush(QColor("white"))
        for index in self.editor.selected:
            for point in self.editor.corners(index):
                painter.drawRect(QRectF(point.x() - HANDLE_PX, point.y() - HANDLE_PX,
                                        2 * HANDLE_PX, 2 * HANDLE_PX))

    def _draw_scale_bar(self, painter: QPainter) -> None:
        nm_per_screen_px = self.pixel_size_nm / max(self.zoom(), 1e-9)
        length_nm = nice_length_nm(nm_per_screen_px)
        length_px = length_nm / nm_per_screen_px
        text = format_length(length_nm)
        font = QFont()
        font.setPointSize(11)
        font.setBold(True)
        painter.setFont(font)
        margin = 18
        bottom = self.viewport().height() - margin
        left = margin
        text_rect = QRectF(left, bottom - 34, max(length_px, 80), 20)
        box = QRectF(left - 8, bottom - 38, max(length_px, painter.fontMetrics()
                                                .horizontalAdvance(text)) + 16, 46)
        painter.fillRect(box, QColor(0, 0, 0, 150))
        painter.setPen(QColor("white"))
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         text)
        painter.setPen(QPen(QColor("white"), 5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap))
        painter.drawLine(QPointF(left, bottom - 6), QPointF(left + length_px, bottom - 6))
