"""Error and notice dialogs. They open window-modal without a nested event loop (``open()``,
not ``exec()``), so a worker's signals and the window keep flowing while one is shown."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QApplication, QDialog, QDialogButtonBox, QLabel, QMessageBox,
                               QPlainTextEdit, QVBoxLayout, QWidget)


_open: set = set()   # parentless dialogs stay referenced until they close


def _parent(parent: Optional[QWidget]) -> Optional[QWidget]:
    return parent if parent is not None else QApplication.activeWindow()


def _keep(dialog) -> None:
    if dialog.parent() is None:
        _open.add(dialog)
        dialog.finished.connect(lambda *_: _open.discard(dialog))


def show_error(parent: Optional[QWidget], title: str, message: str,
               details: str = "") -> QMessageBox:
    """A warning with ``message`` (and optional ``details`` behind "Show Details...")."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok,
                      _parent(parent))
    box.setObjectName("errorDialog")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if details:
        box.setDetailedText(details)
    _keep(box)
    box.open()
    return box


def show_exception(message: str, details: str, log_file: Path) -> QMessageBox:
    """The dialog of the global exception hook: what happened, the traceback, the log file."""
    box = QMessageBox(QMessageBox.Icon.Critical, "Unexpected error",
                      f"TEMNet Studio hit an unexpected error and kept running:\n\n{message}\n\n"
                      f"Your saved work is safe. The details are in the log file:\n{log_file}",
                      QMessageBox.StandardButton.Ok, _parent(None))
    box.setObjectName("exceptionDialog")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setDetailedText(details)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    _keep(box)
    box.open()
    return box


class ListNotice(QDialog):
    """A non-modal notice with a line of text and a list (e.g. the files that were skipped)."""

    def __init__(self, parent: Optional[QWidget], title: str, text: str,
                 lines: Iterable[str], wrap: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("listNotice")
        self.setWindowTitle(title)
        self.setModal(False)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        layout = QVBoxLayout(self)
        label = QLabel(text)
        label.setWordWrap(True)
        layout.addWidget(label)
        self.list = QPlainTextEdit(("\n\n" if wrap else "\n").join(lines))
        self.list.setReadOnly(True)
        self.list.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth if wrap
                                  else QPlainTextEdit.LineWrapMode.NoWrap)
        layout.addWidget(self.list)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        self.resize(640, 320)


def show_list(parent: Optional[QWidget], title: str, text: str,
              lines: Iterable[str], wrap: bool = False) -> ListNotice:
    """Show a :class:`ListNotice`; ``wrap``: long lines wrap and are spaced apart."""
    notice = ListNotice(parent, title, text, lines, wrap)
    _keep(notice)
    notice.show()
    return notice
