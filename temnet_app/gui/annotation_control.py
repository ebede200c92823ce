"""What the Edit menu does: undo and redo of box edits, annotation mode, accepting detections
as annotations, the reviewed mark, manual counts, and copying the last ``temnet`` command."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication, QUndoStack
from PySide6.QtWidgets import QMessageBox

from temnet_app.gui.dialogs.manual_counts import ManualCountsDialog
from temnet_app.gui.dialogs.messages import show_error
from temnet_app.gui.session import Session
from temnet_app.gui.viewer.edit_commands import ReviewedCommand

_log = logging.getLogger(__name__)


class AnnotationControl(QObject):
    """Handlers of the annotation commands; ``editor`` is the viewer's AnnotationEditor."""

    message = Signal(str)

    def __init__(self, window, session: Session, stack: QUndoStack, editor) -> None:
        super().__init__(window)
        self.window, self.session, self.stack, self.editor = window, session, stack, editor
        self.last_command = ""
        session.projectChanged.connect(self.stack.clear)

    def accept_detections(self, micrograph_ids: list[int]) -> int:
        """Accept the detections at the threshold as the manual boxes of ``micrograph_ids``
        (the shown micrograph when empty); asks before replacing existing manual boxes."""
        ids = list(micrograph_ids) or ([self.session.current_id]
                                       if self.session.current_id != -1 else [])
        index = self.session.index
        ids = [i for i in ids if index is not None and index.detected(i)]
        if not ids:
            show_error(self.window, "Accept detections", "The micrographs chosen have no "
                       "detections yet: run the detector on them first (Run menu).")
            return 0
        replaced = [i for i in ids if i in self.session.annotated]
        if replaced:
            answer = QMessageBox.question(
                self.window, "Accept detections",
                f"{len(replaced)} of the {len(ids)} micrograph(s) already have manual boxes. "
                f"Replace them with the detections at confidence ≥ "
                f"{self.session.threshold:.2f}? (Edit > Undo brings them back.)")
            if answer != QMessageBox.StandardButton.Yes:
                return 0
        changed = self.editor.accept_detections(ids, self.session.threshold)
        self.message.emit(f"Detections at ≥ {self.session.threshold:.2f} accepted as manual "
                          f"boxes of {changed} micrograph(s): correct them in annotation mode")
        return changed

    def toggle_reviewed(self) -> None:
        mid = self.session.current_id
        if mid == -1:
            return
        was = mid in self.session.reviewed
        self.stack.push(ReviewedCommand(self.session.project, [mid], not was, {mid: was}))
        self.message.emit(f"{self.session.current().name}: "
                          f"{'not reviewed' if was else 'reviewed'}")

    def edit_counts(self, experiment_id) -> None:
        if experiment_id is None:
            show_error(self.window, "Manual counts", "Select an experiment first.")
            return
        ManualCountsDialog(self.session.project, experiment_id, self.window).exec()

    def remember_command(self, command: str) -> None:
        """Log the ``temnet`` command equivalent to what just ran, for Copy command."""
        self.last_command = command
        _log.info("equivalent command: %s", command)

    def copy_command(self) -> None:
        if not self.last_command:
            self.message.emit("No detection run or export yet in this session")
            return
        QGuiApplication.clipboard().setText(self.last_command)
        self.message.emit(f"Copied: {self.last_command}")
