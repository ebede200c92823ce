"""The project browser dock: the experiment / micrograph tree, selection, drag and drop of
folders and files, and the context menu (the same actions as the menus)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSize, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QMenu, QTreeView,
                               QVBoxLayout, QWidget)

from temnet_app.gui.browser.tree_model import (EXPERIMENT_ROLE, MICROGRAPH_ROLE, NAME_COL,
                                               ProjectTreeModel)
from temnet_app.gui.session import Session


def dropped_paths(mime) -> list[Path]:
    """Local files and folders of a drop (other URLs are ignored)."""
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class ProjectTree(QTreeView):
    """The tree; accepts drops of folders and micrograph files from the desktop."""

    pathsDropped = Signal(list, int)     # paths, experiment id under the drop (-1: none)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("projectTree")
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed
                             | QAbstractItemView.EditTrigger.SelectedClicked)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setIconSize(QSize(30, 14))
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setIndentation(14)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:
        paths = dropped_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        target = self.indexAt(event.position().toPoint())
        experiment_id = int(target.data(EXPERIMENT_ROLE)) if target.isValid() else -1
        event.acceptProposedAction()
        self.pathsDropped.emit(paths, experiment_id)


class BrowserPanel(QWidget):
    """The dock's content: a hint line and the tree."""

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.model = ProjectTreeModel(session, self)
        self.tree = ProjectTree(self)
        self.tree.setModel(self.model)
        self.hint = QLabel("Drop folders of micrographs here: each folder becomes an experiment.")
        self.hint.setWordWrap(True)
        self.hint.setObjectName("browserHint")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.hint)
        layout.addWidget(self.tree, 1)
        self.context_actions: list = []
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.selectionModel().currentChanged.connect(self._on_current_index)
        self.model.modelAboutToBeReset.connect(self._remember)
        self.model.modelReset.connect(self._restore)
        session.currentChanged.connect(self.select_micrograph)
        self._expanded: set[int] = set()
        self._configure_header()

    def _configure_header(self) -> None:
        """Fixed count columns (sized for "Imm." and 4 digits): re-measuring every row on
        each slider step would cost more than the counting itself."""
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(36)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(NAME_COL, QHeaderView.ResizeMode.Stretch)
        self._size_columns()
        self.model.modelReset.connect(self._size_columns)

    def _size_columns(self) -> None:
        metrics = self.tree.fontMetrics()
        header = self.tree.header()
        counts = max(metrics.horizontalAdvance("Imm.") + 24, metrics.horizontalAdvance("00000"))
        for col in range(1, self.model.columnCount()):
            width = counts if col < self.model.mag_col else \
                metrics.horizontalAdvance("0.561 (exp.)") + 8
            header.resizeSection(col, width)
        self.setMinimumWidth(380)

    # ----------------------------------------------------------------- selection
    def _on_current_index(self, current: QModelIndex, previous: QModelIndex) -> None:
        if current.isValid():
            mid = int(current.data(MICROGRAPH_ROLE))
            if mid != -1:
                self.session.set_current(mid)

    def _find(self, micrograph_id: int) -> QModelIndex:
        for row in range(self.model.rowCount()):
            parent = self.model.index(row, 0)
            for child in range(self.model.rowCount(parent)):
                index = self.model.index(child, 0, parent)
                if index.data(MICROGRAPH_ROLE) == micrograph_id:
                    return index
        return QModelIndex()

    def select_micrograph(self, micrograph_id: int) -> None:
        index = self._find(micrograph_id) if micrograph_id != -1 else QModelIndex()
        if not index.isValid() or index == self.tree.currentIndex():
            return
        self.tree.expand(index.parent())
        self.tree.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.tree.scrollTo(index)

    def select_experiment(self, experiment_id: int) -> None:
        for row in range(self.model.rowCount()):
            index = self.model.index(row, 0)
            if index.data(EXPERIMENT_ROLE) == experiment_id:
                self.tree.expand(index)
                self.tree.selectionModel().setCurrentIndex(
                    index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows)
                return

    def selected_micrograph_ids(self) -> list[int]:
        """Micrographs selected, with every micrograph of a selected experiment."""
        ids: list[int] = []
        for index in self.tree.selectionModel().selectedRows(NAME_COL):
            mid = int(index.data(MICROGRAPH_ROLE))
            if mid != -1:
                ids.append(mid)
            else:
                ids.extend(m.id for m in self.session.micrographs.get(
                    int(index.data(EXPERIMENT_ROLE)), []))
        seen: set[int] = set()
        return [i for i in ids if not (i in seen or seen.add(i))]

    def current_experiment_id(self) -> Optional[int]:
        index = self.tree.currentIndex()
        if index.isValid():
            return int(index.data(EXPERIMENT_ROLE))
        current = self.session.current()
        return current.experiment_id if current is not None else None

    def current_is_experiment(self) -> bool:
        index = self.tree.currentIndex()
        return index.isValid() and int(index.data(MICROGRAPH_ROLE)) == -1

    def rename_current(self) -> None:
        index = self.tree.currentIndex()
        if index.isValid():
            target = index.parent() if index.parent().isValid() else index
            self.tree.edit(target.sibling(target.row(), NAME_COL))

    # ----------------------------------------------------------------- keep state on reset
    def _remember(self) -> None:
        self._expanded = {int(self.model.index(r, 0).data(EXPERIMENT_ROLE))
                          for r in range(self.model.rowCount())
                          if self.tree.isExpanded(self.model.index(r, 0))}

    def _restore(self) -> None:
        self.hint.setVisible(not self.session.experiments)
        for row in range(self.model.rowCount()):
            index = self.model.index(row, 0)
            if int(index.data(EXPERIMENT_ROLE)) in self._expanded or len(self._expanded) == 0:
                self.tree.expand(index)
        if self.session.current_id != -1:
            self.select_micrograph(self.session.current_id)

    # ----------------------------------------------------------------- context menu
    def _context_menu(self, pos) -> None:
        if not self.context_actions:
            return
        menu = QMenu(self)
        for action in self.context_actions:
            if action is None:
                menu.addSeparator()
            else:
                menu.addAction(action)
        menu.popup(self.tree.viewport().mapToGlobal(pos))
