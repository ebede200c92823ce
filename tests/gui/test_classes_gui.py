"""The project's class scheme in the window: names and colours in the browser's count columns,
the counts table, the annotation bar, View > Classes and the overlay's box pens (the HIV
classes in their lighter on-micrograph colours); Project > Classes… driven with the mouse and
the keyboard (rename, recolour, add; refused removal; read-only); classes changed by another
thread reach every panel, the statistics dock included."""

import threading

import pytest
from gui_helpers import click_micrograph, ids_of
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QColorDialog, QDialogButtonBox, QLineEdit, QTableWidget

from temnet_app.core.classes import ClassScheme
from temnet_app.core.project import Project
from temnet_app.gui.dialogs import classes_dialog
from temnet_app.gui.dialogs.classes_dialog import NAME_COL, ClassesDialog
from temnet_app.gui.viewer.class_keys import class_keys

HIV = ("eccentric", "mature", "immature")
HIV_ON_SCREEN = ["#39d353", "#ffd21f", "#3b8bff"]
LAB = "RiftValley:#e41a1c,Ebola,Marburg:#4daf4a,Lassa"
LAB_NAMES = ("RiftValley", "Ebola", "Marburg", "Lassa")
# Ebola and Lassa take the first palette colours nobody uses (#2ca02c, #f2c500): on grey
# micrographs the window draws those two, like the HIV classes, lighter
LAB_ON_SCREEN = ["#e41a1c", "#39d353", "#4daf4a", "#ffd21f"]
OK, CANCEL = QDialogButtonBox.StandardButton.Ok, QDialogButtonBox.StandardButton.Cancel


def icon_colour(icon, size: int = 12) -> str:
    image = icon.pixmap(size, size).toImage()
    return image.pixelColor(size // 2, size // 2).name()


def shown(window) -> dict:
    """(titles, colours) of the classes in each place of the window that lists them."""
    names = window.session.class_names
    model = window.browser.model
    horizontal = Qt.Orientation.Horizontal
    columns = range(1, len(names) + 1)
    bar = window.viewer.annotation_bar.buttons
    table = window.counts.table
    menu = window.class_toggles.actions
    return {
        "browser": ([model.headerData(c, horizontal) for c in columns],
                    [icon_colour(model.headerData(c, horizontal, Qt.ItemDataRole.DecorationRole))
                     for c in columns]),
        "bar": ([bar[i].text() for i in sorted(bar)], [icon_colour(bar[i].icon()) for i in
                                                        sorted(bar)]),
        "table": ([table.item(r, 0).text() for r in range(len(names))],
                  [icon_colour(table.item(r, 0).icon()) for r in range(len(names))]),
        "menu": ([menu[i].text() for i in sorted(menu)], [icon_colour(menu[i].icon())
                                                          for i in sorted(menu)]),
    }


def pen_colours(window) -> dict[int, set[str]]:
    """Class id -> the pen colours of the manual boxes on show."""
    colours: dict[int, set[str]] = {}
    for item in window.viewer.view.overlay.manual:
        colours.setdefault(item.class_id, set()).add(item.pen().color().name())
    return colours


def drive_dialog(steps) -> list:
    """Once the modal Classes dialog is up, run ``steps(dialog)`` in it; a failing step
    closes the dialog (the test goes on) and is kept in the list returned."""
    failed: list = []

    def run():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ClassesDialog):
            QTimer.singleShot(20, run)
            return
        try:
            steps(dialog)
        except BaseException as error:  # noqa: BLE001 - raised again by the test
            failed.append(error)
            dialog.reject()

    QTimer.singleShot(0, run)
    return failed


def trigger_classes(window, steps) -> None:
    """Project > Classes… with ``steps`` run in the dialog."""
    failed = drive_dialog(steps)
    window.actions["classes"].trigger()
    if failed:
        raise failed[0]


def click(qtbot, widget):
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def type_name(qtbot, table: QTableWidget, text: str, enter: bool = True) -> None:
    """Type into the open cell editor (all its text selected), then press Enter."""
    editors = [e for e in table.viewport().findChildren(QLineEdit) if e.isVisible()]
    assert len(editors) == 1
    editor = editors[0]
    assert editor.selectedText() == editor.text()
    qtbot.keyClicks(editor, text)
    if enter:
        qtbot.keyClick(editor, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: table.state() != QTableWidget.State.EditingState, timeout=5000)


def test_class_keys_are_numbers_and_unique_initials():
    assert class_keys(HIV) == {1: ("1", "E"), 2: ("2", "M"), 3: ("3", "I")}
    assert class_keys(("Marburg", "mature", "x1")) == {1: ("1",), 2: ("2",), 3: ("3", "X")}


def test_a_lab_scheme_is_named_and_coloured_everywhere(window, qtbot):
    mid = ids_of(window)[0]
    click_micrograph(qtbot, window, mid)
    before = shown(window)
    assert before["browser"] == (["Ecc.", "Mat.", "Imm."], HIV_ON_SCREEN)
    assert before["bar"] == (["Eccentric (1/E)", "Mature (2/M)", "Immature (3/I)"],
                             HIV_ON_SCREEN)
    assert before["table"] == before["menu"] == (["Eccentric", "Mature", "Immature"],
                                                 HIV_ON_SCREEN)
    pens = pen_colours(window)
    assert pens and all(pens[c] == {HIV_ON_SCREEN[c - 1]} for c in pens)

    window.session.project.set_classes(ClassScheme.parse(LAB))
    qtbot.waitUntil(lambda: window.session.class_names == LAB_NAMES, timeout=5000)
    after = shown(window)
    assert after["browser"] == (["Rif.", "Ebo.", "Mar.", "Las."], LAB_ON_SCREEN)
    assert after["bar"] == (["RiftValley (1/R)", "Ebola (2/E)", "Marburg (3/M)", "Lassa (4/L)"],
                            LAB_ON_SCREEN)
    assert after["table"] == after["menu"] == (list(LAB_NAMES), LAB_ON_SCREEN)
    assert window.counts.table.item(4, 0).text() == "Total"
    model = window.browser.model
    assert model.columnCount() == 7 and model.headerData(7 - 2, Qt.Orientation.Horizontal) \
        == "Total"
    assert model.headerData(1, Qt.Orientation.Horizontal,
                            Qt.ItemDataRole.ToolTipRole).startswith("RiftValley:")
    pens = pen_colours(window)
    assert pens and all(pens[c] == {LAB_ON_SCREEN[c - 1]} for c in pens)
    names = {item.class_id: item.toolTip() for item in window.viewer.view.overlay.manual}
    assert all(tip.startswith(LAB_NAMES[c - 1] + " (manual)") for c, tip in names.items())
    # the fourth class has keys too, in annotation mode
    view = window.viewer.view
    view.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert window.viewer.editor.active
    qtbot.keyClick(view, Qt.Key.Key_4)
    assert window.viewer.editor.current_class == 4
    assert window.viewer.annotation_bar.buttons[4].isChecked()
    qtbot.keyClick(view, Qt.Key.Key_R)
    assert window.viewer.editor.current_class == 1
    assert window.viewer.annotation_bar.buttons[1].isChecked()


def test_classes_dialog_renames_recolours_and_adds(window, qtbot, demo_project, monkeypatch):
    monkeypatch.setattr(QColorDialog, "getColor", lambda *args, **kwargs: QColor("#123456"))
    seen = []

    def edit(dialog: ClassesDialog):
        table = dialog.table
        seen.append(dialog.names())
        cell = table.visualItemRect(table.item(0, NAME_COL))
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=cell.center())
        qtbot.keyClick(table, Qt.Key.Key_F2)
        type_name(qtbot, table, "lentiform")
        click(qtbot, dialog.colour_button(0))
        assert dialog.colour_button(0).text() == "#123456"
        click(qtbot, dialog.add_button)
        assert table.rowCount() == 4 and table.item(3, 0).text() == "4"
        type_name(qtbot, table, "budding", enter=False)    # OK takes the name being typed
        click(qtbot, dialog.buttons.button(OK))
        seen.append(dialog.names())

    trigger_classes(window, edit)
    assert seen == [list(HIV), ["lentiform", "mature", "immature", "budding"]]
    project = window.session.project
    assert project.class_names == ("lentiform", "mature", "immature", "budding")
    assert project.scheme.colours[0] == "#123456"
    qtbot.waitUntil(lambda: len(window.viewer.annotation_bar.buttons) == 4, timeout=5000)
    titles, colours = shown(window)["bar"]
    assert titles == ["Lentiform (1/L)", "Mature (2/M)", "Immature (3/I)", "Budding (4/B)"]
    assert colours[0] == "#123456"
    assert shown(window)["browser"][0] == ["Len.", "Mat.", "Imm.", "Bud."]
    with Project.open(demo_project) as stored:
        assert stored.class_names == project.class_names


def test_classes_dialog_refuses_what_the_project_cannot_store(window, qtbot, monkeypatch):
    errors, changes = [], []
    monkeypatch.setattr(classes_dialog, "show_error",
                        lambda parent, title, message, details="": errors.append(message))
    window.session.classesChanged.connect(lambda: changes.append(True))
    before = window.session.project.scheme

    def remove_then_duplicate(dialog: ClassesDialog):
        table = dialog.table
        click(qtbot, dialog.remove_button)          # immature: the demo's boxes use it
        assert table.rowCount() == 2
        click(qtbot, dialog.buttons.button(OK))
        assert len(errors) == 1 and "class id 3" in errors[0] and dialog.isVisible()
        click(qtbot, dialog.add_button)
        type_name(qtbot, table, "Mature")          # the same name as class 2
        click(qtbot, dialog.buttons.button(OK))
        assert len(errors) == 2 and "unique" in errors[1] and dialog.isVisible()
        click(qtbot, dialog.buttons.button(CANCEL))

    trigger_classes(window, remove_then_duplicate)
    assert len(errors) == 2
    qtbot.wait(100)
    assert window.session.project.scheme == before and window.session.scheme == before
    assert not changes
    assert [b.text() for b in window.viewer.annotation_bar.buttons.values()] == \
        ["Eccentric (1/E)", "Mature (2/M)", "Immature (3/I)"]


def test_a_read_only_project_shows_its_classes_without_editing(make_window, qtbot,
                                                              demo_project):
    from read_only_folder import read_only

    with read_only(demo_project.parent):
        window = make_window(demo_project)
        assert window.session.project.read_only
        assert not window.actions["classes"].isEnabled()
        dialog = ClassesDialog(window.session.project, window)
        qtbot.addWidget(dialog)
        assert dialog.names() == list(HIV)
        assert not dialog.buttons.button(OK).isEnabled()
        assert not dialog.add_button.isEnabled() and not dialog.remove_button.isEnabled()
        assert not dialog.colour_button(0).isEnabled()
        assert dialog.table.editTriggers() == QTableWidget.EditTrigger.NoEditTriggers
        window.session.close()


def test_classes_changed_by_another_thread_reach_the_window(window, qtbot):
    """As when a detection run makes the project take its model's classes: the change is
    written in a worker thread; the window rebuilds in the GUI thread."""
    click_micrograph(qtbot, window, ids_of(window)[0])
    in_gui_thread, failures = [], []
    window.session.classesChanged.connect(
        lambda: in_gui_thread.append(threading.current_thread() is threading.main_thread()))
    project = window.session.project

    def work():
        try:
            project.set_classes(ClassScheme.parse(LAB))
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(error)

    worker = threading.Thread(target=work, name="set-classes")
    worker.start()
    worker.join(30)
    assert not worker.is_alive() and not failures
    qtbot.waitUntil(lambda: len(window.viewer.annotation_bar.buttons) == 4, timeout=5000)
    assert in_gui_thread == [True]
    now = shown(window)
    assert now["browser"] == (["Rif.", "Ebo.", "Mar.", "Las."], LAB_ON_SCREEN)
    assert now["table"] == now["menu"] == (list(LAB_NAMES), LAB_ON_SCREEN)
    pens = pen_colours(window)
    assert pens and all(pens[c] == {LAB_ON_SCREEN[c - 1]} for c in pens)
    # the statistics dock reads the project again: its legend names the four classes
    statistics = window.statistics
    qtbot.waitUntil(lambda: statistics.data is not None
                    and statistics.data.scheme.names == LAB_NAMES, timeout=10_000)
    assert statistics.stats is not None           # the demo's manual boxes are counted
    legend = statistics.morphology.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()][:4] == list(LAB_NAMES)


@pytest.fixture(autouse=True)
def no_dialog_left(qtbot):
    yield
    assert not isinstance(QApplication.activeModalWidget(), ClassesDialog)
