"""The annotation bar, shown under the viewer's header in annotation mode: one button per
class (with its keys), the active one pressed (clicking sets the class of new boxes, or of the
selected boxes), a line on how to edit, and the annotation commands of the window."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QWidget

from temnet_app.gui.style import class_colour, class_title, swatch
from temnet_app.gui.viewer.class_keys import class_keys

HINT = ("drag to draw · click to select, drag to move · corners resize · Del deletes · "
        "Ctrl+Z undoes")


class ElidedLabel(QLabel):
    """One line of text ending in "…" when it does not fit (the whole text is the tooltip)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.full_text = text
        self.setToolTip(text)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.setText(self.fontMetrics().elidedText(self.full_text, Qt.TextElideMode.ElideRight,
                                                   self.width()))


class AnnotationBar(QWidget):
    """Class buttons and annotation commands; visible only in annotation mode."""

    def __init__(self, session, editor, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("annotationBar")
        self.setAutoFillBackground(True)
        self.setStyleSheet("#annotationBar { background: #fff4c2; }")
        self.session, self.editor = session, editor
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(8, 3, 8, 3)
        title = QLabel("<b>Annotation mode</b>")
        self.row.addWidget(title)
        self.class_row = QHBoxLayout()
        self.row.addLayout(self.class_row)
        self.hint = ElidedLabel(HINT)
        self.hint.setStyleSheet("color: #5f6368;")
        self.hint.setMinimumWidth(40)
        self.hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.row.addWidget(self.hint, 1)
        self.buttons: dict[int, QToolButton] = {}
        self.group.idClicked.connect(self.editor.set_class)
        editor.classChanged.connect(self._show_class)
        editor.modeChanged.connect(self.setVisible)
        session.projectChanged.connect(self.rebuild)
        session.classesChanged.connect(self.rebuild)
        self.rebuild()
        self.setVisible(False)

    def add_actions(self, actions) -> None:
        for action in actions:
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            self.row.addWidget(button)

    def rebuild(self) -> None:
        for button in self.buttons.values():
            self.group.removeButton(button)
            self.class_row.removeWidget(button)
            button.hide()
            button.deleteLater()
        self.buttons = {}
        names, scheme = self.session.class_names, self.session.scheme
        keys = class_keys(names)
        for i, name in enumerate(names):
            key = f" ({'/'.join(keys[i + 1])})" if keys[i + 1] else ""
            button = QToolButton()
            button.setObjectName(f"classButton_{name}")
            button.setCheckable(True)
            button.setIcon(swatch(class_colour(scheme, i + 1), 12))
            button.setText(f"{class_title(name)}{key}")
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setToolTip(f"New boxes are {name}; with boxes selected, make them {name}")
            self.group.addButton(button, i + 1)
            self.class_row.addWidget(button)
            self.buttons[i + 1] = button
        self._show_class(self.editor.current_class)

    def _show_class(self, class_id: int) -> None:
        button = self.buttons.get(class_id)
        if button is not None:
            button.setChecked(True)
