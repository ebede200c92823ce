"""What the window remembers: the threshold (in the project), the dock layout and geometry
(in the settings), recent projects; and Reset layout."""

import pytest
from PySide6.QtCore import Qt

from temnet_app.core.project import Project


def test_reopen_restores_threshold_and_window_state(make_window, demo_project, qtbot):
    window = make_window(demo_project)
    first = sorted(window.session.by_id)[0]
    assert window.session.current_id == first             # a new project shows its first
    qtbot.keyClick(window, Qt.Key.Key_PageDown)
    shown = window.session.current_id
    assert shown != first
    box = window.threshold.number_box()
    box.selectAll()
    qtbot.keyClicks(box, "0.73")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    window.counts_dock.hide()
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, window.browser_dock)
    window.resize(760, 700)
    window.close()
    with Project.open(demo_project) as project:
        assert project.setting("threshold") == pytest.approx(0.73)

    again = make_window()
    again.open_initial(None)                          # the last project
    assert again.session.project.path == demo_project.resolve()
    assert again.session.threshold == pytest.approx(0.73)
    assert again.threshold.value() == pytest.approx(0.73)
    assert again.session.current_id == shown and again.viewer.view.has_image
    assert not again.counts_dock.isVisible()
    assert again.dockWidgetArea(again.browser_dock) == Qt.DockWidgetArea.RightDockWidgetArea
    # the offscreen screen is 800 px wide, narrower than the window's minimum width, so only
    # the height can come back exactly
    assert again.height() == 700
    again.actions["reset_layout"].trigger()
    assert again.counts_dock.isVisible()
    assert again.dockWidgetArea(again.browser_dock) == Qt.DockWidgetArea.LeftDockWidgetArea


def test_threshold_belongs_to_the_project(make_window, demo_project, tmp_path, qtbot):
    window = make_window(demo_project)
    window.session.set_threshold(0.31)
    other = tmp_path / "other.temnet"
    Project.create(other).close()
    assert window.projects.open_path(other)           # saves 0.31 in the demo project
    window.session.set_threshold(0.9)
    assert window.projects.open_path(demo_project)
    assert window.threshold.value() == pytest.approx(0.31)
    assert window.projects.open_path(other)
    assert window.threshold.value() == pytest.approx(0.9)


def test_shortcuts_and_about(make_window, qtbot):
    window = make_window()
    rows = dict((text, keys) for keys, text in window.actions.shortcut_rows())
    assert rows["Detect in selection"] == "Ctrl+R" and rows["Next micrograph"] == "PgDown"
    from temnet_app.gui.dialogs.about import about_text

    assert "10.1016/j.csbj.2021.10.001" in about_text()


def test_open_recent_menu_lists_and_opens_projects(make_window, demo_project, tmp_path):
    window = make_window(demo_project)
    other = tmp_path / "other.temnet"
    Project.create(other).close()
    window.projects.open_path(other)
    window.recent_menu.fill()
    entries = [a.text() for a in window.recent_menu.actions() if a.text()]
    assert entries[0].startswith("&1 other.temnet") and entries[1].startswith("&2 demo.temnet")
    window.recent_menu.actions()[1].trigger()
    assert window.session.project.path == demo_project.resolve()


def test_missing_files_are_marked_when_the_project_opens(make_window, demo_project):
    with Project.open(demo_project) as project:
        missing = project.micrographs()[4]
        project.image_path(missing).unlink()
    window = make_window(demo_project)
    assert set(window.session.problems) == {missing.id}
    assert "not found" in window.session.problems[missing.id]
    index = window.browser._find(missing.id)
    assert index.data(Qt.ItemDataRole.ForegroundRole) is not None
