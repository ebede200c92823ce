"""The viewer's title line: the micrograph's name in bold, then its details (experiment, pixel
size, model). When the line does not fit, the name is shortened in the middle, so the details
at its end (what the numbers on screen depend on) stay readable."""

from __future__ import annotations

import html
import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QLabel, QSizePolicy

SEPARATOR = " · "     # rich text shows runs of spaces as one


class TitleLabel(QLabel):
    """A one-line label of a bold name and plain details; resizing re-elides the name."""

    def __init__(self, text: str = "", parent=None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setMinimumWidth(120)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._name, self._details = "", text
        self._render()

    def set_parts(self, name: str, details: str = "") -> None:
        """Show ``name`` in bold followed by ``details`` (each plain text)."""
        self._name, self._details = name, details
        self._render()

    def full_name(self) -> str:
        return self._name

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._render()

    def _render(self) -> None:
        shown = re.sub(r"\s+", " ", self._details)     # as rich text shows it
        details = html.escape(shown)
        if not self._name:
            self.setText(details)
            return
        bold = QFont(self.font())
        bold.setBold(True)
        room = self.contentsRect().width() - QFontMetrics(self.font()).horizontalAdvance(
            shown) - 2 * self.margin() - 4
        name = QFontMetrics(bold).elidedText(self._name, Qt.TextElideMode.ElideMiddle,
                                             max(room, 0))
        if not name:           # no room even for "…": the details go first anyway
            name = "…"
        self.setText(f"<b>{html.escape(name)}</b>{details}")
