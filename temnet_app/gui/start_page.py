"""The start page, shown when no project is open: new, open, the demo project, and the recent
projects."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton,
                               QVBoxLayout, QWidget)

from temnet_app.gui.style import app_icon


class StartPage(QWidget):
    """Buttons and the recent-project list; the window connects the signals."""

    newRequested = Signal()
    openRequested = Signal()
    demoRequested = Signal()
    recentChosen = Signal(Path)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("startPage")
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        column = QVBoxLayout()
        logo = QLabel()
        logo.setPixmap(app_icon().pixmap(96, 96))
        title = QLabel("<h1>TEMNet Studio</h1>"
                       "<p>Find HIV-1 virions in TEM micrographs and classify them as mature, "
                       "immature or eccentric.</p>")
        title.setWordWrap(True)
        head = QHBoxLayout()
        head.addWidget(logo)
        head.addWidget(title, 1)
        column.addLayout(head)
        buttons = QHBoxLayout()
        for text, signal, name in (("New project…", self.newRequested, "newButton"),
                                   ("Open project…", self.openRequested, "openButton"),
                                   ("Open demo project", self.demoRequested, "demoButton")):
            button = QPushButton(text)
            button.setObjectName(name)
            button.setMinimumHeight(36)
            button.clicked.connect(signal)
            buttons.addWidget(button)
        column.addLayout(buttons)
        column.addWidget(QLabel("<b>Recent projects</b>"))
        self.recent = QListWidget()
        self.recent.setObjectName("recentList")
        self.recent.itemActivated.connect(
            lambda item: self.recentChosen.emit(Path(item.data(Qt.ItemDataRole.UserRole))))
        column.addWidget(self.recent)
        hint = QLabel("Tip: drop a folder of micrographs on the window to start a project "
                      "with it as the first experiment.")
        hint.setWordWrap(True)
        column.addWidget(hint)
        holder = QWidget()
        holder.setLayout(column)
        holder.setMaximumWidth(640)
        row.addWidget(holder, 3)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

    def set_recent(self, paths: list[Path]) -> None:
        self.recent.clear()
        for path in paths:
            item = QListWidgetItem(f"{path.name}    —    {path.parent}")
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            item.setToolTip(str(path))
            if not path.exists():
                item.setForeground(Qt.GlobalColor.gray)
                item.setText(item.text() + "   (missing)")
            self.recent.addItem(item)
        if not paths:
            placeholder = QListWidgetItem("No recent projects yet")
            placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
            self.recent.addItem(placeholder)
