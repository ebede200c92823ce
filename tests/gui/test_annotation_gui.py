"""Annotation mode with real mouse and key events: draw, move, resize, relabel, delete, each
undone and redone; accepting detections as annotations; the reviewed mark; manual counts."""

import pytest
from gui_helpers import click_micrograph, ids_of, micrograph_index
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from temnet_app.core.boxes import Box, Detection
from temnet_app.core.project import Project


def mouse(view, kind, point, button=Qt.MouseButton.LeftButton,
          modifiers=Qt.KeyboardModifier.NoModifier):
    """Send a real mouse event to the view's viewport at viewport ``point``."""
    held = button if kind != QEvent.Type.MouseButtonRelease else Qt.MouseButton.NoButton
    event = QMouseEvent(kind, QPointF(point), QPointF(view.viewport().mapToGlobal(point)),
                        button if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton,
                        held, modifiers)
    QApplication.sendEvent(view.viewport(), event)


def drag(view, start: QPoint, end: QPoint, steps: int = 4) -> None:
    mouse(view, QEvent.Type.MouseButtonPress, start)
    for i in range(1, steps + 1):
        mouse(view, QEvent.Type.MouseMove, start + (end - start) * (i / steps))
    mouse(view, QEvent.Type.MouseButtonRelease, end)


def at(view, x, y) -> QPoint:
    return view.mapFromScene(QPointF(x, y))


def db_boxes(project_path, mid):
    with Project.open(project_path) as project:
        return project.manual_boxes(mid), mid in project.annotated_micrograph_ids()


@pytest.fixture
def editing(window, qtbot, demo_project):
    """The window in annotation mode on an empty micrograph, zoomed 1:1 at its top-left."""
    mid = ids_of(window)[0]
    window.session.project.clear_manual_boxes(mid)   # through the window: it hears of it
    click_micrograph(qtbot, window, mid)
    qtbot.waitUntil(lambda: not window.viewer.view.overlay.manual, timeout=5000)
    view = window.viewer.view
    view.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert window.viewer.editor.active and window.actions["annotate"].isChecked()
    assert window.viewer.annotation_bar.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)     # 1:1
    view.centerOn(QPointF(400, 300))
    return window, view, mid


def wait_boxes(qtbot, window, n):
    qtbot.waitUntil(lambda: len(window.viewer.view.overlay.manual) == n, timeout=5000)


def test_draw_undo_redo(editing, qtbot, demo_project):
    window, view, mid = editing
    qtbot.keyClick(view, Qt.Key.Key_3)                      # immature for the next box
    assert window.viewer.editor.current_class == 3
    assert window.viewer.annotation_bar.buttons[3].isChecked()
    drag(view, at(view, 200, 150), at(view, 460, 400))
    wait_boxes(qtbot, window, 1)
    boxes, annotated = db_boxes(demo_project, mid)
    assert annotated and len(boxes) == 1 and boxes[0].class_id == 3
    assert boxes[0].x1 == pytest.approx(200, abs=1.5) and boxes[0].y2 == pytest.approx(400,
                                                                                        abs=1.5)
    assert window.viewer.editor.selected == [0]            # the new box is selected
    qtbot.waitUntil(lambda: window.counts.table.item(2, 4).text() == "1")  # manual immature
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_boxes(qtbot, window, 0)
    assert db_boxes(demo_project, mid) == ([], False)         # not annotated before: cleared
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    wait_boxes(qtbot, window, 1)
    assert db_boxes(demo_project, mid)[0] == boxes
    drag(view, at(view, 600, 600), at(view, 603, 602))        # too small: no box
    assert len(db_boxes(demo_project, mid)[0]) == 1


def test_move_resize_relabel_delete_each_undoable(editing, qtbot, demo_project):
    window, view, mid = editing
    window.session.project.set_manual_boxes(mid, [Box(100, 100, 300, 300, 2),
                                                  Box(500, 100, 700, 300, 1)])
    wait_boxes(qtbot, window, 2)
    history = [db_boxes(demo_project, mid)[0]]
    # move the first box by (+50, +30)
    drag(view, at(view, 200, 200), at(view, 250, 230))
    qtbot.waitUntil(lambda: db_boxes(demo_project, mid)[0] != history[-1], timeout=5000)
    moved = db_boxes(demo_project, mid)[0][0]
    assert (moved.x1, moved.y1, moved.x2, moved.y2) == pytest.approx((150, 130, 350, 330),
                                                                     abs=1.5)
    history.append(db_boxes(demo_project, mid)[0])
    # resize it from its bottom-right handle
    assert window.viewer.editor.selected == [0]
    drag(view, at(view, 350, 330), at(view, 420, 380))
    qtbot.waitUntil(lambda: db_boxes(demo_project, mid)[0] != history[-1], timeout=5000)
    resized = db_boxes(demo_project, mid)[0][0]
    assert (resized.x1, resized.y1, resized.x2, resized.y2) == pytest.approx(
        (150, 130, 420, 380), abs=1.5)
    history.append(db_boxes(demo_project, mid)[0])
    # relabel with the key I (immature)
    qtbot.keyClick(view, Qt.Key.Key_I)
    qtbot.waitUntil(lambda: db_boxes(demo_project, mid)[0][0].class_id == 3, timeout=5000)
    history.append(db_boxes(demo_project, mid)[0])
    # select the second box with a click and delete it
    mouse(view, QEvent.Type.MouseButtonPress, at(view, 600, 200))
    mouse(view, QEvent.Type.MouseButtonRelease, at(view, 600, 200))
    assert window.viewer.editor.selected == [1]
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    wait_boxes(qtbot, window, 1)
    history.append(db_boxes(demo_project, mid)[0])
    assert history[-1] == [Box(resized.x1, resized.y1, resized.x2, resized.y2, 3)]
    # undo everything, one step at a time, then redo it all
    for expected in reversed(history[:-1]):
        window.actions["undo"].trigger()
        qtbot.waitUntil(lambda: db_boxes(demo_project, mid)[0] == expected, timeout=5000)
    assert not window.actions["undo"].isEnabled()
    for expected in history[1:]:
        window.actions["redo"].trigger()
        qtbot.waitUntil(lambda: db_boxes(demo_project, mid)[0] == expected, timeout=5000)
    assert window.actions["undo"].text().startswith("&Undo delete 1 box")


def test_accept_detections_then_undo(make_window, demo_project, qtbot, monkeypatch):
    with Project.open(demo_project) as project:
        mid = project.micrographs()[0].id
        before = project.manual_boxes(mid)
        run = project.start_run("fake@1", {}, 0.05)
        project.store_detections(run.id, mid, [Detection(10, 10, 60, 60, 1, 0.9),
                                               Detection(80, 80, 140, 150, 2, 0.7),
                                               Detection(200, 200, 260, 260, 3, 0.3)])
    window = make_window(demo_project)
    click_micrograph(qtbot, window, mid)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or
                        QMessageBox.StandardButton.Yes)
    window.session.set_threshold(0.5)
    qtbot.keyClick(window, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert asked and "already have manual boxes" in asked[0]
    expected = [Box(10, 10, 60, 60, 1), Box(80, 80, 140, 150, 2)]
    qtbot.waitUntil(lambda: db_boxes(demo_project, mid)[0] == expected, timeout=5000)
    wait_boxes(qtbot, window, 2)
    window.actions["undo"].trigger()
    qtbot.waitUntil(lambda: db_boxes(demo_project, mid)[0] == before, timeout=5000)


def test_reviewed_mark_shows_in_the_browser_and_undoes(window, qtbot, demo_project):
    mid = ids_of(window)[0]
    click_micrograph(qtbot, window, mid)
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: mid in window.session.reviewed, timeout=5000)
    with Project.open(demo_project) as project:
        assert project.reviewed_micrograph_ids() == {mid}
    assert "reviewed" in micrograph_index(window, mid).data(Qt.ItemDataRole.ToolTipRole)
    window.actions["undo"].trigger()
    qtbot.waitUntil(lambda: mid not in window.session.reviewed, timeout=5000)


def test_manual_counts_table(window, qtbot, demo_project, monkeypatch):
    from temnet_app.gui.dialogs.manual_counts import ManualCountsDialog

    experiment_id = window.session.experiments[1].id
    ids = [m.id for m in window.session.micrographs[experiment_id]]
    window.browser.select_experiment(experiment_id)

    def fill_and_save(dialog):
        table = dialog.table
        for col, value in enumerate(("4", "7", "")):
            table.item(0, col).setText(value)
        for col in range(3):
            table.item(1, col).setText("")
        dialog.accept()
        return ManualCountsDialog.DialogCode.Accepted

    monkeypatch.setattr(ManualCountsDialog, "exec", fill_and_save)
    window.actions["manual_counts"].trigger()
    with Project.open(demo_project) as project:
        assert project.manual_counts(ids[0]) == {"eccentric": 4, "mature": 7, "immature": 0}
        assert project.manual_counts(ids[1]) is None
