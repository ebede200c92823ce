"""Undoable edits of a micrograph's manual boxes. Each command holds the micrograph's whole
box list before and after the edit and writes it in ONE transaction on redo and undo, so an
edit is saved the moment it is made and a crash loses nothing."""

from __future__ import annotations

from typing import Callable, Optional, Sequence

from PySide6.QtGui import QUndoCommand

from temnet_app.core.boxes import Box

# called after a command changed a micrograph: (micrograph id, its boxes, indices to select)
Changed = Callable[[int, list, list], None]


class BoxesCommand(QUndoCommand):
    """Replace the manual boxes of one micrograph (``before`` None: it was not annotated)."""

    def __init__(self, project, micrograph_id: int, before: Optional[Sequence[Box]],
                 after: Sequence[Box], text: str, on_change: Optional[Changed] = None,
                 select_after: Sequence[int] = (), select_before: Sequence[int] = ()) -> None:
        super().__init__(text)
        self.project, self.micrograph_id = project, int(micrograph_id)
        self.before = None if before is None else list(before)
        self.after = list(after)
        self.on_change = on_change
        self.select_after, self.select_before = list(select_after), list(select_before)

    def redo(self) -> None:
        self.project.set_manual_boxes(self.micrograph_id, self.after)
        if self.on_change:
            self.on_change(self.micrograph_id, self.after, self.select_after)

    def undo(self) -> None:
        if self.before is None:
            self.project.clear_manual_boxes(self.micrograph_id)
        else:
            self.project.set_manual_boxes(self.micrograph_id, self.before)
        if self.on_change:
            self.on_change(self.micrograph_id, self.before or [], self.select_before)


class ReviewedCommand(QUndoCommand):
    """Set or clear the reviewed mark of micrographs."""

    def __init__(self, project, micrograph_ids: Sequence[int], reviewed: bool,
                 was: dict[int, bool]) -> None:
        super().__init__("mark reviewed" if reviewed else "mark not reviewed")
        self.project, self.ids, self.reviewed, self.was = project, list(micrograph_ids), \
            reviewed, dict(was)

    def redo(self) -> None:
        for mid in self.ids:
            self.project.set_reviewed(mid, self.reviewed)

    def undo(self) -> None:
        for mid in self.ids:
            self.project.set_reviewed(mid, self.was.get(mid, False))


def moved(box: Box, x1: float, y1: float, x2: float, y2: float) -> Box:
    """``box`` with new corners (ordered), same class."""
    return Box(min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2), box.class_id)


def relabelled(box: Box, class_id: int) -> Box:
    return Box(box.x1, box.y1, box.x2, box.y2, int(class_id))
