"""Project > Classes…: the project's particle classes, their names and colours.

A table with a row per class (its id, an editable name, a colour button opening the colour
chooser), "Add class" and "Remove last class". OK stores the list with
:meth:`Project.set_classes`; what the project refuses (a class its boxes, detections or manual
counts still use) or what is not a valid class list is said in a dialog, and nothing changes.
A read-only project shows its classes without letting them be edited.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QColorDialog, QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView,
                               QLabel, QLineEdit, QPushButton, QTableWidget, QTableWidgetItem,
                               QToolButton, QVBoxLayout)

from temnet_app.core.classes import ClassScheme, default_colours
from temnet_app.core.errors import TemnetError
from temnet_app.gui.dialogs.messages import show_error
from temnet_app.gui.style import overlay_hex, swatch

ID_COL, NAME_COL, COLOUR_COL = 0, 1, 2
INTRO = ("Boxes, detections and counts keep their class number (1, 2, ...): a new name or "
         "colour relabels them everywhere (window, plots, reports). A class can be removed "
         "only while no box, detection or manual count uses it.")


class ClassesDialog(QDialog):
    """Edit the classes of ``project``; OK stores them (see the module)."""

    def __init__(self, project, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("classesDialog")
        self.setWindowTitle("Classes")
        self.project = project
        self.read_only = bool(project.read_only)
        self.colours: list[str] = []
        layout = QVBoxLayout(self)
        intro = QLabel(INTRO + (f"\n\nThe project is open read-only ({project.read_only}): "
                                f"its classes cannot be changed." if self.read_only else ""))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = QTableWidget(0, 3, self)
        self.table.setObjectName("classesTable")
        self.table.setHorizontalHeaderLabels(["Id", "Name", "Colour"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers if self.read_only
                                   else QTableWidget.EditTrigger.DoubleClicked
                                   | QTableWidget.EditTrigger.EditKeyPressed
                                   | QTableWidget.EditTrigger.AnyKeyPressed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(ID_COL, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(NAME_COL, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COLOUR_COL, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.add_button = QPushButton("&Add class")
        self.add_button.setObjectName("addClass")
        self.remove_button = QPushButton("Re&move last class")
        self.remove_button.setObjectName("removeClass")
        self.add_button.clicked.connect(self.add_class)
        self.remove_button.clicked.connect(self.remove_last_class)
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        scheme = project.scheme
        for name, colour in zip(scheme.names, scheme.colours):
            self._append(name, colour)
        self.add_button.setEnabled(not self.read_only)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not self.read_only)
        self._update_buttons()
        self.setMinimumWidth(480)
        self.resize(480, 190 + 30 * min(8, len(scheme.names)))

    # ----------------------------------------------------------------- rows
    def _append(self, name: str, colour: str) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        number = QTableWidgetItem(str(row + 1))
        number.setFlags(Qt.ItemFlag.ItemIsEnabled)
        number.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        self.table.setItem(row, ID_COL, number)
        item = QTableWidgetItem(name)
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        item.setFlags(flags if self.read_only else flags | Qt.ItemFlag.ItemIsEditable)
        self.table.setItem(row, NAME_COL, item)
        button = QToolButton()
        button.setObjectName(f"colourButton{row + 1}")
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        button.setAutoRaise(True)
        button.setEnabled(not self.read_only)
        button.clicked.connect(lambda checked=False, r=row: self.choose_colour(r))
        self.table.setCellWidget(row, COLOUR_COL, button)
        self.colours.append(colour)
        self._show_colour(row)

    def _show_colour(self, row: int) -> None:
        colour = self.colours[row]
        button = self.colour_button(row)
        button.setIcon(swatch(QColor(colour), 14))
        button.setText(colour)
        on_grey = overlay_hex(colour)
        button.setToolTip(f"{colour} in plots and reports"
                          + (f"; drawn lighter ({on_grey}) on micrographs" if on_grey != colour
                             else "") + ". Click to choose another colour.")

    def colour_button(self, row: int) -> QToolButton:
        return self.table.cellWidget(row, COLOUR_COL)

    def names(self) -> list[str]:
        return [(self.table.item(r, NAME_COL).text() or "") for r in range(self.table.rowCount())]

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(not self.read_only and self.table.rowCount() > 1)

    # ----------------------------------------------------------------- commands
    def add_class(self) -> None:
        """A row named "class N" in the next free colour, its name open for typing."""
        names = self.names()
        taken = {n.strip().lower() for n in names}
        number = len(names) + 1
        while f"class {number}" in taken:
            number += 1
        colour = default_colours(names + ["?"], self.colours + [None])[-1]
        self._append(f"class {number}", colour)
        self._update_buttons()
        item = self.table.item(self.table.rowCount() - 1, NAME_COL)
        self.table.setCurrentItem(item)
        self.table.editItem(item)

    def remove_last_class(self) -> None:
        if self.table.rowCount() > 1:
            self.table.removeRow(self.table.rowCount() - 1)
            self.colours.pop()
            self._update_buttons()

    def choose_colour(self, row: int) -> None:
        name = self.table.item(row, NAME_COL).text()
        chosen = QColorDialog.getColor(QColor(self.colours[row]), self, f"Colour of {name}")
        if chosen.isValid():
            self.colours[row] = chosen.name()
            self._show_colour(row)

    def _commit_typing(self) -> None:
        """A name still being typed counts (OK clicked without Enter first)."""
        index = self.table.currentIndex()
        editor = self.table.indexWidget(index) if index.isValid() else None
        if isinstance(editor, QLineEdit):
            self.table.itemDelegate().setModelData(editor, self.table.model(), index)

    def scheme(self) -> ClassScheme:
        """The classes as edited; ValueError when they are not a valid class list."""
        self._commit_typing()
        return ClassScheme(tuple(n.strip() for n in self.names()), tuple(self.colours))

    def accept(self) -> None:
        if self.read_only:
            return
        try:
            scheme = self.scheme()
            if scheme != self.project.scheme:
                self.project.set_classes(scheme)
        except (TemnetError, ValueError) as error:
            show_error(self, "Classes",
                       f"The classes were not changed: {str(error).rstrip('.')}.")
            return
        super().accept()


def edit_classes(parent, session) -> Optional[ClassScheme]:
    """Project > Classes…: show the dialog for the open project; the new classes on OK."""
    if session.project is None:
        return None
    dialog = ClassesDialog(session.project, parent)
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return session.project.scheme
    finally:
        dialog.deleteLater()
