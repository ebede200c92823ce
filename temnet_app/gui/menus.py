"""Menus whose entries depend on state: Open recent (from the settings) and the per-class
visibility switches (from the project's classes, kept in step with the count table)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from temnet_app.gui.session import Session
from temnet_app.gui.settings import AppSettings
from temnet_app.gui.style import class_colour, class_title, swatch


class RecentMenu(QMenu):
    """File > Open recent: filled each time it opens."""

    chosen = Signal(Path)

    def __init__(self, settings: AppSettings, parent=None) -> None:
        super().__init__("Open &recent", parent)
        self.setObjectName("recentMenu")
        self.settings = settings
        self.aboutToShow.connect(self.fill)

    def fill(self) -> None:
        self.clear()
        recent = self.settings.recent_projects()
        for i, path in enumerate(recent, start=1):
            action = self.addAction(f"&{i} {path.name}  —  {path.parent}")
            action.setEnabled(path.exists())
            action.triggered.connect(lambda checked=False, p=path: self.chosen.emit(p))
        if not recent:
            self.addAction("No recent projects").setEnabled(False)
        else:
            self.addSeparator()
            self.addAction("Clear the list").triggered.connect(self._clear)

    def _clear(self) -> None:
        for path in self.settings.recent_projects():
            self.settings.forget_recent(path)


class ClassToggles(QObject):
    """View > Classes: one check action per class of the open project."""

    toggled = Signal(int, bool)     # class id, visible

    def __init__(self, session: Session, menu: QMenu) -> None:
        super().__init__(menu)
        self.session, self.menu = session, menu
        self.actions: dict[int, QAction] = {}
        session.projectChanged.connect(self.rebuild)
        session.classesChanged.connect(self.rebuild)
        self.rebuild()

    def rebuild(self) -> None:
        self.menu.clear()
        self.actions = {}
        names, scheme = self.session.class_names, self.session.scheme
        for i, name in enumerate(names):
            action = self.menu.addAction(swatch(class_colour(scheme, i + 1)), class_title(name))
            action.setCheckable(True)
            action.setChecked(True)
            action.setObjectName(f"action_class_{name}")
            action.toggled.connect(lambda on, cid=i + 1: self.toggled.emit(cid, on))
            self.actions[i + 1] = action
        self.menu.setEnabled(bool(names))

    def set_checked(self, class_id: int, visible: bool) -> None:
        action = self.actions.get(class_id)
        if action is not None and action.isChecked() != visible:
            action.setChecked(visible)
