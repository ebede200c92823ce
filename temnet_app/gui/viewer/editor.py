"""Annotation mode: drawing, selecting, moving, resizing, relabelling and deleting the manual
boxes of the shown micrograph with the mouse and keys. Every edit is an undoable command
(:mod:`.edit_commands`) that saves the micrograph's boxes at once.

Mouse, in annotation mode: drag on empty image to draw a box of the current class; click a
manual box to select it (Ctrl+click adds to the selection), drag it to move it, drag one of
its corner handles to resize it; the middle button pans. Keys: 1-9 or a class's initial
(E/M/I for the HIV classes, when no other class starts with the same letter) set the class (of
the selection, or of the next box drawn), Delete or Backspace removes the selection, Esc
cancels a drag or clears the selection.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPen, QUndoStack
from PySide6.QtWidgets import QGraphicsRectItem

from temnet_app.core.boxes import Box
from temnet_app.gui.session import Session
from temnet_app.gui.style import class_colour
from temnet_app.gui.viewer.class_keys import class_keys, key_text
from temnet_app.gui.viewer.edit_commands import BoxesCommand, moved, relabelled

HANDLE_GRAB_PX = 9     # how close to a corner a press grabs it
MIN_SIDE = 6.0         # the smallest box side kept, in micrograph pixels
PREDICTED_OPACITY_EDITING = 0.35
DEFAULT_CLASS = 2      # mature, in the HIV scheme


class AnnotationEditor(QObject):
    """Edits the manual boxes shown in a :class:`~.view.MicrographView`."""

    modeChanged = Signal(bool)
    classChanged = Signal(int)
    selectionChanged = Signal()

    def __init__(self, view, session: Session, stack: QUndoStack) -> None:
        super().__init__(view)
        self.view, self.session, self.stack = view, session, stack
        self.active = False
        self.current_class = DEFAULT_CLASS
        self.selected: list[int] = []
        self._drag: Optional[tuple] = None
        self._rubber: Optional[QGraphicsRectItem] = None
        self._pending: Optional[tuple[int, list]] = None
        view.editor = self
        session.classesChanged.connect(self._classes_changed)
        session.projectChanged.connect(self._classes_changed)

    # ----------------------------------------------------------------- state
    def set_active(self, on: bool) -> None:
        if on == self.active:
            return
        self._pending = None
        self.active = on
        self.cancel_drag()
        self.select([])
        self.view.setDragMode(self.view.DragMode.NoDrag if on else
                              self.view.DragMode.ScrollHandDrag)
        self.view.viewport().setCursor(Qt.CursorShape.CrossCursor if on else
                                       Qt.CursorShape.OpenHandCursor)
        self.view.overlay.set_predicted_opacity(PREDICTED_OPACITY_EDITING if on else 1.0)
        self.modeChanged.emit(on)

    def set_class(self, class_id: int) -> None:
        """The class for new boxes; with a selection, relabel it (one undoable edit)."""
        names = self._names()
        if not 1 <= class_id <= len(names):
            return
        self.current_class = class_id
        self.classChanged.emit(class_id)
        if self.selected:
            boxes = self.boxes()
            after = [relabelled(b, class_id) if i in self.selected else b
                     for i, b in enumerate(boxes)]
            if after != boxes:
                self._push(boxes, after, f"set class {names[class_id - 1]}", self.selected,
                           self.selected)

    def _names(self) -> tuple[str, ...]:
        return self.session.class_names

    def _classes_changed(self) -> None:
        """Another project or its classes changed: keep the class of new boxes if it still
        exists (without relabelling the selection), else take the default one."""
        self.cancel_drag()
        count = len(self._names())
        if count and not 1 <= self.current_class <= count:
            self.current_class = DEFAULT_CLASS if count >= DEFAULT_CLASS else 1
        self.classChanged.emit(self.current_class)

    def boxes(self) -> list[Box]:
        return list(self.view.overlay.manual_boxes)

    def select(self, indices: list[int]) -> None:
        count = len(self.view.overlay.manual)
        indices = sorted({i for i in indices if 0 <= i < count})
        if indices != self.selected:
            self.selected = indices
            for i, item in enumerate(self.view.overlay.manual):
                item.set_selected_look(i in indices)
            self.selectionChanged.emit()
            self.view.viewport().update()

    def restore_selection(self) -> None:
        """After the manual items were rebuilt: select what the last edit asked for, else keep
        the selection (items are new objects: their look is set again)."""
        indices = self.selected
        if self._pending and self._pending[0] == self.session.current_id:
            indices = self._pending[1]
            self._pending = None
        self.selected = []
        self.select(indices)

    # ----------------------------------------------------------------- edits
    def _push(self, before, after, text: str, select_after, select_before) -> None:
        mid = self.session.current_id
        was = before if mid in self.session.annotated else None
        self.stack.push(BoxesCommand(self.session.project, mid, was, after, text,
                                     self._changed, select_after, select_before))

    def _changed(self, micrograph_id: int, boxes: list, selection: list) -> None:
        """A command wrote ``boxes``: show them at once (the project's change event, which
        arrives through the event loop, would be too late for a key pressed right after)."""
        self._pending = (micrograph_id, list(selection))
        if micrograph_id != self.session.current_id:
            self.session.set_current(micrograph_id)   # undo shows where it happened
        elif self.view.has_image:
            self.view.overlay.set_manual(boxes, self.session.scheme)
            self.restore_selection()

    def delete_selected(self) -> None:
        if not self.selected:
            return
        boxes = self.boxes()
        after = [b for i, b in enumerate(boxes) if i not in self.selected]
        n = len(boxes) - len(after)
        self._push(boxes, after, f"delete {n} box{'es' if n > 1 else ''}", [], self.selected)

    def accept_detections(self, micrograph_ids: list[int], threshold: float) -> int:
        """Make the detections at ``threshold`` the manual boxes of ``micrograph_ids`` (one
        undoable step); returns how many micrographs changed."""
        project, index = self.session.project, self.session.index
        self.stack.beginMacro(f"accept detections >= {threshold:.2f} as annotations")
        changed = 0
        try:
            for mid in micrograph_ids:
                run = index.run_of(mid) if index is not None else None
                if run is None:
                    continue
                after = [Box(d.x1, d.y1, d.x2, d.y2, d.class_id)
                         for d in project.detections(run, mid, threshold)]
                before = project.manual_boxes(mid) if mid in self.session.annotated else None
                self.stack.push(BoxesCommand(project, mid, before, after,
                                             "accept detections", self._changed))
                changed += 1
        finally:
            self.stack.endMacro()
        return changed

    # ----------------------------------------------------------------- geometry helpers
    def _clip(self, rect: QRectF) -> QRectF:
        bounds = self.view.scene().sceneRect()
        return rect.normalized().intersected(bounds)

    def _box_at(self, pos: QPointF) -> Optional[int]:
        for item in self.view.items(pos.toPoint()):
            if item in self.view.overlay.manual and item.isVisible():
                return self.view.overlay.manual.index(item)
        return None

    def corners(self, index: int) -> list[QPointF]:
        """The four corners of a manual box in viewport coordinates."""
        rect = self.view.overlay.manual[index].rect()
        return [QPointF(self.view.mapFromScene(p)) for p in
                (rect.topLeft(), rect.topRight(), rect.bottomLeft(), rect.bottomRight())]

    def _handle_at(self, pos: QPointF) -> Optional[tuple[int, int]]:
        for index in self.selected:
            for corner, point in enumerate(self.corners(index)):
                if abs(point.x() - pos.x()) <= HANDLE_GRAB_PX and \
                        abs(point.y() - pos.y()) <= HANDLE_GRAB_PX:
                    return index, corner
        return None

    # ----------------------------------------------------------------- mouse and keys
    def press(self, event) -> bool:
        if not self.active or not self.view.has_image or \
                event.button() != Qt.MouseButton.LeftButton:
            return False
        pos = event.position()
        scene = self.view.mapToScene(pos.toPoint())
        handle = self._handle_at(pos)
        if handle is not None:
            index, corner = handle
            self._drag = ("resize", index, corner, self.view.overlay.manual[index].rect())
            return True
        index = self._box_at(pos)
        if index is not None:
            if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self.select(list(set(self.selected) ^ {index}))
            elif index not in self.selected:
                self.select([index])
            self._drag = ("move", index, scene, self.view.overlay.manual[index].rect())
            return True
        self.select([])
        self._drag = ("draw", scene)
        colour = class_colour(self.session.scheme, self.current_class)
        self._rubber = QGraphicsRectItem(QRectF(scene, scene))
        pen = QPen(QColor(colour), 2, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self._rubber.setPen(pen)
        self._rubber.setZValue(50)
        self.view.scene().addItem(self._rubber)
        return True

    def move(self, event) -> bool:
        if self._drag is None:
            return False
        scene = self.view.mapToScene(event.position().toPoint())
        kind = self._drag[0]
        if kind == "draw":
            self._rubber.setRect(self._clip(QRectF(self._drag[1], scene)))
        elif kind == "move":
            _, index, start, rect = self._drag
            self.view.overlay.manual[index].setRect(
                self._clip(rect.translated(scene - start)) if self._inside(
                    rect.translated(scene - start)) else rect)
        else:
            _, index, corner, rect = self._drag
            self.view.overlay.manual[index].setRect(self._clip(_resized(rect, corner, scene)))
        self.view.viewport().update()
        return True

    def _inside(self, rect: QRectF) -> bool:
        return self.view.scene().sceneRect().contains(rect)

    def release(self, event) -> bool:
        if self._drag is None or event.button() != Qt.MouseButton.LeftButton:
            return self._drag is not None
        drag, self._drag = self._drag, None
        boxes = self.boxes()
        if drag[0] == "draw":
            rect = self._rubber.rect()
            self.view.scene().removeItem(self._rubber)
            self._rubber = None
            if rect.width() < MIN_SIDE or rect.height() < MIN_SIDE:
                return True
            new = Box(rect.left(), rect.top(), rect.right(), rect.bottom(), self.current_class)
            self._push(boxes, boxes + [new], f"draw {self._names()[new.class_id - 1]} box",
                       [len(boxes)], [])
            return True
        index = drag[1]
        item = self.view.overlay.manual[index]
        rect = item.rect()
        if rect.width() < MIN_SIDE or rect.height() < MIN_SIDE or rect == drag[-1]:
            item.setRect(drag[-1])
            return True
        after = list(boxes)
        after[index] = moved(boxes[index], rect.left(), rect.top(), rect.right(), rect.bottom())
        self._push(boxes, after, "move box" if drag[0] == "move" else "resize box", [index],
                   [index])
        return True

    def cancel_drag(self) -> None:
        if self._drag is None:
            return
        if self._drag[0] == "draw" and self._rubber is not None:
            self.view.scene().removeItem(self._rubber)
            self._rubber = None
        elif self._drag[0] in ("move", "resize"):
            self.view.overlay.manual[self._drag[1]].setRect(self._drag[-1])
        self._drag = None

    def key(self, event) -> bool:
        if not self.active:
            return False
        key = event.key()
        text = key_text(key)
        if text and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            target = next((cid for cid, keys in class_keys(self._names()).items()
                           if text in keys), None)
            if target is None:
                return False
            self.set_class(target)
            return True
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_selected()
            return True
        if key == Qt.Key.Key_Escape and (self._drag is not None or self.selected):
            self.cancel_drag()
            self.select([])
            return True
        return False


def _resized(rect: QRectF, corner: int, point: QPointF) -> QRectF:
    """``rect`` with corner ``corner`` (0 top-left, 1 top-right, 2 bottom-left, 3
    bottom-right) moved to ``point``; the opposite corner stays."""
    left, top, right, bottom = rect.left(), rect.top(), rect.right(), rect.bottom()
    if corner in (0, 2):
        left = point.x()
    else:
        right = point.x()
    if corner in (0, 1):
        top = point.y()
    else:
        bottom = point.y()
    return QRectF(QPointF(left, top), QPointF(right, bottom)).normalized()
